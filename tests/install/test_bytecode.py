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
        compiler.submit(source, tmp_path / "never-written.pyc")
        [job] = compiler.wait()
        caches.append(job.staged.read_bytes())
        compiler.close()
        assert not job.staged.parent.exists(), "the private folder is removed"
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
    with pytest.raises(RuntimeError):
        compiler.submit(source, tmp_path / "mod.pyc")
    assert started == ["checked"]
    assert compiler._processes == []
    compiler.close()


def test_one_pool_compiles_modules_as_they_come_one_worker_per_share(tmp_path: Path) -> None:
    """Modules of several wheels, handed out one by one to one pool: a second worker starts
    once there is enough work; every module gets its .pyc in staging, the same bytes as
    compiled alone; a module that does not compile gets none."""
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
        compiler.submit(source, tmp_path / "never-written.pyc", source.stat().st_size)
        if source == sources[0]:
            assert len(compiler._processes) == 1, "one worker for the first modules"
    jobs = compiler.wait()
    assert len(compiler._processes) == 2
    assert [p.returncode for p in compiler._processes] == [0, 0]
    alone = bytecode.InProcessCompiler()
    alone.submit(sources[-1], tmp_path / "never-written.pyc")
    [single] = alone.wait()
    assert jobs[len(sources) - 1].staged.read_bytes() == single.staged.read_bytes()
    assert all(job.staged.is_file() for job in jobs[:-1])
    assert not jobs[-1].staged.exists()
    assert not (tmp_path / "never-written.pyc").exists()
    compiler.close()
    alone.close()


def test_close_stops_workers_still_compiling(tmp_path: Path) -> None:
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=1)
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    job_number = compiler.submit(source, tmp_path / "mod.pyc")
    assert job_number == 0
    [process] = compiler._processes
    compiler.close()
    assert process.poll() is not None
    assert not any(tmp_path.glob("*.pyc"))
