"""Compiling installed modules into a private folder, by the target or in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.install import bytecode


def test_this_interpreter_compiles_in_process_like_a_separate_one(tmp_path: Path) -> None:
    assert isinstance(bytecode.compiler_for(sys.executable), bytecode.InProcessCompiler)
    source = tmp_path / "mod.py"
    source.write_text("assert True\nX = 1\n")
    caches = []
    for compiler in (bytecode.InProcessCompiler(), bytecode.BytecodeCompiler(sys.executable)):
        staging = tmp_path / type(compiler).__name__
        staging.mkdir()
        compiler.submit(source, tmp_path / "never-written.pyc")
        [job] = compiler.compile_into(staging)
        caches.append(job.staged.read_bytes())
    assert caches[0] == caches[1]
    assert not (tmp_path / "never-written.pyc").exists(), "the compiler wrote outside staging"


def test_the_interpreter_is_checked_before_it_is_started(tmp_path: Path) -> None:
    """The check runs before the target interpreter starts; when it refuses, nothing runs."""
    started: list[str] = []

    def check() -> None:
        started.append("checked")
        raise RuntimeError("changed")

    compiler = bytecode.BytecodeCompiler(sys.executable, check)
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    compiler.submit(source, tmp_path / "mod.pyc")
    with pytest.raises(RuntimeError):
        compiler.compile_into(tmp_path)
    assert started == ["checked"]
    assert compiler._process is None
