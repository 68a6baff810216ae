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
    assert compiler._processes == []


def test_one_pool_compiles_every_module_with_one_worker_per_share(tmp_path: Path) -> None:
    """Modules of several wheels, one compile: each worker gets a share; every module gets its
    .pyc in staging, the same bytes as compiled alone; a module that does not compile gets none."""
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=2)
    sources = []
    for wheel in ("a", "b"):
        for i in range(bytecode.MIN_SHARE):
            source = tmp_path / wheel / f"m{i}.py"
            source.parent.mkdir(exist_ok=True)
            source.write_text(f"X = {i}\n")
            sources.append(source)
    broken = tmp_path / "a" / "broken.py"
    broken.write_text("def (:\n")
    for source in (*sources, broken):
        compiler.submit(source, tmp_path / "never-written.pyc")
    staging = tmp_path / "staging"
    staging.mkdir()
    jobs = compiler.compile_into(staging)
    assert len(compiler._processes) == 2
    assert [p.returncode for p in compiler._processes] == [0, 0]
    alone = bytecode.InProcessCompiler()
    alone.submit(sources[-1], tmp_path / "never-written.pyc")
    (tmp_path / "alone").mkdir()
    [single] = alone.compile_into(tmp_path / "alone")
    assert jobs[len(sources) - 1].staged.read_bytes() == single.staged.read_bytes()
    assert all(job.staged.is_file() for job in jobs[:-1])
    assert not jobs[-1].staged.exists()
    assert not (tmp_path / "never-written.pyc").exists()


def test_few_modules_start_one_worker(tmp_path: Path) -> None:
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=8)
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    compiler.submit(source, tmp_path / "mod.pyc")
    compiler.compile_into(tmp_path)
    assert len(compiler._processes) == 1
