"""Compiling installed modules with the target interpreter: a pool writing each .pyc in place."""

from __future__ import annotations

import importlib.util
import marshal
import py_compile
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install import bytecode


def _module(folder: Path, name: str, text: str) -> tuple[Path, Path]:
    source = folder / f"{name}.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text)
    cache = source.parent / "__pycache__" / f"{name}.{sys.implementation.cache_tag}.pyc"
    cache.parent.mkdir(exist_ok=True)
    return source, cache


def test_each_pyc_is_the_one_py_compile_writes(tmp_path: Path) -> None:
    """Same bytes as py_compile (header of PEP 552 and code), at the place asked for, and the
    sha256 and size RECORD lists."""
    import hashlib

    source, cache = _module(tmp_path, "mod", "assert True\nX = 1\n")
    compiler = bytecode.BytecodeCompiler(sys.executable)
    compiler.submit(source, cache)
    [compiled] = compiler.wait()
    compiler.close()
    assert compiled is not None and compiled.cache == cache
    expected = tmp_path / "expected.pyc"
    py_compile.compile(str(source), cfile=str(expected), dfile=str(source), doraise=True)
    data = cache.read_bytes()
    assert data == expected.read_bytes()
    assert (compiled.sha256, compiled.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert marshal.loads(data[16:]).co_filename == str(source)


def test_source_date_epoch_makes_checked_hash_pycs_as_py_compile_does(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from intoto_pip.install import bytecode\n"
        "source, cache = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "c = bytecode.BytecodeCompiler(sys.executable); c.submit(source, cache); c.wait()\n"
    )
    source, cache = _module(tmp_path, "mod", "X = 1\n")
    env = {"SOURCE_DATE_EPOCH": "315532800", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code, str(source), str(cache)], env=env, check=True)
    expected = tmp_path / "expected.pyc"
    checked = py_compile.PycInvalidationMode.CHECKED_HASH
    py_compile.compile(str(source), str(expected), str(source), invalidation_mode=checked)
    assert cache.read_bytes() == expected.read_bytes()


def test_the_interpreter_is_checked_before_it_is_started(tmp_path: Path) -> None:
    """The check runs before the target interpreter starts; when it refuses, nothing runs."""
    started: list[str] = []

    def check() -> None:
        started.append("checked")
        raise RuntimeError("changed")

    compiler = bytecode.BytecodeCompiler(sys.executable, check)
    source, cache = _module(tmp_path, "mod", "X = 1\n")
    with pytest.raises(RuntimeError):
        compiler.submit(source, cache)
    assert started == ["checked"]
    assert compiler._processes == []
    compiler.close()


def test_one_pool_compiles_modules_as_they_come_one_worker_per_share(tmp_path: Path) -> None:
    """Modules of several wheels, handed out one by one to one pool: a second worker starts
    once there is enough work; every module gets its .pyc; one that does not compile gets
    none (as pip)."""
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=2)
    modules = [
        _module(tmp_path / wheel, f"m{i}", f"X = {i}\n")
        for wheel in ("a", "b")
        for i in range(bytecode.MIN_SHARE)
    ]
    broken = _module(tmp_path / "a", "broken", "def (:\n")
    for source, cache in (*modules, broken):
        compiler.submit(source, cache)
        if source == modules[0][0]:
            assert len(compiler._processes) == 1, "one worker for the first modules"
    compiled = compiler.wait()
    assert len(compiler._processes) == 2
    assert [p.returncode for p in compiler._processes] == [0, 0]
    assert [c.cache if c else None for c in compiled] == [cache for _s, cache in modules] + [None]
    assert all(cache.is_file() for _source, cache in modules)
    assert not broken[1].exists()
    compiler.close()


def test_a_worker_that_falls_behind_holds_no_more_than_its_window(tmp_path: Path) -> None:
    """Modules are not dealt out in advance: with one worker stopped, every module beyond the
    few it holds goes to the other, and the stopped one's are compiled when it resumes."""
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=2)
    first = [_module(tmp_path / "a", f"m{i}", f"X = {i}\n") for i in range(bytecode.MIN_SHARE)]
    for source, cache in first:
        compiler.submit(source, cache)
    slow = compiler._processes[0]
    slow.send_signal(signal.SIGSTOP)
    try:
        rest = [_module(tmp_path / "b", f"m{i}", f"Y = {i}\n") for i in range(60)]
        for source, cache in rest:
            compiler.submit(source, cache)
        assert len(compiler._processes) == 2
        deadline = time.monotonic() + 30
        # the running worker works through everything the stopped one does not hold
        while (compiler._waiting or compiler._holding[1]) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not compiler._waiting and compiler._holding[1] == 0
        unanswered = len(first) + len(rest) - len(compiler._replies)
        assert unanswered == compiler._holding[0] <= bytecode.WINDOW
    finally:
        slow.send_signal(signal.SIGCONT)
    compiled = compiler.wait()
    compiler.close()
    assert [c.cache if c else None for c in compiled] == [cache for _s, cache in first + rest]


def test_a_pyc_is_never_written_through_a_link_or_over_a_file(tmp_path: Path) -> None:
    """The place was made room for before the module was handed out: something put there since
    (a link to elsewhere, a file) is not followed or overwritten, and the installation fails."""
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    source, cache = _module(tmp_path, "mod", "X = 1\n")
    cache.symlink_to(elsewhere)
    compiler = bytecode.BytecodeCompiler(sys.executable)
    compiler.submit(source, cache)
    with pytest.raises(InstallError, match=r"compiling bytecode .* failed: .*mod"):
        compiler.wait()
    compiler.close()
    assert elsewhere.read_text() == "keep"


def test_a_compiler_that_dies_fails_the_installation(tmp_path: Path) -> None:
    """A module handed out but never answered for (the worker was killed) is an error, not a
    module silently left without bytecode."""
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=1)
    source, cache = _module(tmp_path, "mod", "X = 1\n")
    compiler.submit(source, cache)
    [process] = compiler._processes
    process.kill()
    process.wait()
    with pytest.raises(InstallError, match=r"ended .* before it compiled"):
        compiler.wait()
    compiler.close()


def test_close_stops_workers_still_compiling(tmp_path: Path) -> None:
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=1)
    source, cache = _module(tmp_path, "mod", "X = 1\n")
    assert compiler.submit(source, cache) == 0
    [process] = compiler._processes
    compiler.close()
    assert process.poll() is not None


def test_a_module_in_the_working_folder_never_shadows_the_compilers_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compilers import json, hashlib and importlib.util: planted in the working folder
    (an unpacked download, a checkout), none of them is what runs (-I keeps it off sys.path)."""
    work = tmp_path / "work"
    marker = tmp_path / "planted-module-ran"
    for name in ("json", "hashlib", "marshal", "importlib"):
        (work / name).mkdir(parents=True)
        (work / name / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(work)
    source, cache = _module(tmp_path / "pkg", "mod", "X = 1\n")
    compiler = bytecode.BytecodeCompiler(sys.executable)
    compiler.submit(source, cache)
    [compiled] = compiler.wait()
    compiler.close()
    assert compiled is not None and cache.is_file()
    assert not marker.exists()


def test_a_reply_read_while_the_compilers_are_closed_sends_nothing_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installation stopped midway closes the compilers while modules still wait to be
    handed out; a reply read then must not write to a worker's closed input (an exception in
    the reading thread, printed as a traceback)."""
    import threading

    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    compiler = bytecode.BytecodeCompiler(sys.executable, workers=1)
    modules = [_module(tmp_path, f"m{i}", f"X = {i}\n") for i in range(bytecode.WINDOW + 8)]
    with compiler._state:  # the reading thread reads the first replies, then waits here
        for source, cache in modules:
            compiler.submit(source, cache)
        assert compiler._waiting  # more than the worker holds
        deadline = time.monotonic() + 30
        while not compiler._replies and time.monotonic() < deadline:
            time.sleep(0.01)
        assert compiler._replies
        compiler.close()  # the worker's input is closed while a reply is being taken
    for reader in compiler._readers:
        reader.join(timeout=30)
    assert failures == []
