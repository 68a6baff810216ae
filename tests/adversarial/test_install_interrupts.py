"""Ctrl-C at any moment of a large installation, bytecode compilation included, leaves the
target byte for byte as it was.

Two ways to interrupt: a KeyboardInterrupt injected in-process at the Nth file-system call
(open, mkdir, rename, replace, unlink, rmdir: just before it, or just after it returned), and a
real SIGINT sent to a separate ``intoto-pip install`` (and its compiler) at increasing delays.
Found by this file: ``py_compile`` writes each ``.pyc`` through a ``NAME.pyc.<digits>``
temporary in the target's ``__pycache__``; interrupted there, the temporary stayed behind.
"""

from __future__ import annotations

import builtins
import io
import os
import posix
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.cli.main import main
from tests.adversarial.runner import snapshot
from tests.support.index import clean_env, make_venv, site_packages
from tests.support.wheels import dist_info, wheel_filename, wheel_members, write_wheel

pytestmark = pytest.mark.slow

MODULES = 200
POINTS = 20
CALLS = ("open", "mkdir", "rename", "replace", "unlink", "rmdir")


def _big_wheel(folder: Path, version: str, modules: int) -> Path:
    files = {
        f"big/m{i:03d}.py": f"def f{i}(x):\n    return x + {i}\n\nVALUE = f{i}(1)\n".encode()
        for i in range(modules)
    }
    files["big/__init__.py"] = f"VERSION = {version!r}\n".encode()
    files[f"big-{version}.data/scripts/big-tool"] = b"#!python\nprint('tool')\n"
    members = wheel_members("big", version, files, entry_points="[console_scripts]\nbig = big:f\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / wheel_filename("big", version)
    return write_wheel(path, members, f"{dist_info('big', version)}/RECORD")


def _args(wheel: Path, *more: str) -> list[str]:
    return ["install", str(wheel), "--no-deps", "--allow-unverified", ":all:", *more]


class Interrupter:
    """Counts file-system calls; raises KeyboardInterrupt at the ``at``-th one (once)."""

    def __init__(self, at: int | None = None, *, after: bool = False) -> None:
        self.calls, self.at, self.after, self.fired = 0, at, after, False

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.fired:
                return function(*args, **kwargs)
            self.calls += 1
            now = self.calls == self.at
            if now and not self.after:
                self.fired = True
                raise KeyboardInterrupt
            try:
                result = function(*args, **kwargs)
            except OSError:
                if now:  # the call failed (as expected, say, by mkdir(exist_ok=True)): Ctrl-C
                    self.fired = True
                    raise KeyboardInterrupt from None
                raise
            if now:
                self.fired = True
                if isinstance(result, io.IOBase):
                    result.close()  # the interrupt lands right after open returned
                raise KeyboardInterrupt
            return result

        return wrapper

    def install(self, patch: pytest.MonkeyPatch) -> None:
        for name in CALLS:
            wrapped = self.wrap(getattr(posix, name))
            patch.setattr(posix, name, wrapped)  # importlib's own file writes use posix
            patch.setattr(os, name, wrapped)
        wrapped_open = self.wrap(io.open)
        patch.setattr(io, "open", wrapped_open)
        patch.setattr(builtins, "open", wrapped_open)


def _run(wheel: Path, target: Path, interrupter: Interrupter) -> int:
    with pytest.MonkeyPatch.context() as patch:
        interrupter.install(patch)
        return main(_args(wheel, "--target", str(target), "-q"))


def test_an_interrupt_at_any_file_system_call_leaves_the_target_as_it_was(
    tmp_path: Path, private_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """big 1.0 is installed; big 2.0 (200 modules, compiled by the pool as they are written)
    replaces it and is interrupted at points spread evenly over the whole run, before and after
    a call of this process (the compilers' own writes are interrupted by the test below). Until
    the transaction commits the target must be as it was; after (the lock released, the private
    folder removed), it holds the whole new version."""
    old = _big_wheel(tmp_path / "v1", "1.0", 3)
    new = _big_wheel(tmp_path / "v2", "2.0", MODULES)
    target = tmp_path / "target"
    assert main(_args(old, "--target", str(target))) == 0
    counting = tmp_path / "counting"
    assert main(_args(old, "--target", str(counting))) == 0
    counter = Interrupter()
    assert _run(new, counting, counter) == 0
    assert (counting / "big" / "__pycache__").is_dir(), "bytecode was expected"
    total = counter.calls
    assert total > 2 * MODULES  # at least creating each module and its folder's entries
    before = snapshot(target)
    points = sorted({1, total - 1, total} | {total * k // POINTS for k in range(1, POINTS)})
    capsys.readouterr()
    for at in points:
        for after in (False, True):
            code = _run(new, target, Interrupter(at, after=after))
            where = f"interrupted {'after' if after else 'before'} call {at} of {total}"
            assert code == 130, where
            if snapshot(target) != before:
                _assert_complete(target, where)
                assert main(_args(old, "--target", str(target), "-q")) == 0
                before = snapshot(target)  # 1.0 again (its .pyc hold new source times)
    assert "Traceback" not in capsys.readouterr().err


def _assert_complete(target: Path, where: str) -> None:
    """big 2.0 whole, as its RECORD says, and nothing left of 1.0."""
    import base64
    import csv
    import hashlib

    assert not (target / "big-1.0.dist-info").exists(), f"{where}: the target changed"
    record = (target / "big-2.0.dist-info" / "RECORD").read_text()
    for path, digest, _size in csv.reader(record.splitlines()):
        if digest:
            data = hashlib.sha256((target / path).read_bytes()).digest()
            encoded = base64.urlsafe_b64encode(data).decode().rstrip("=")
            assert digest == f"sha256={encoded}", f"{where}: {path} is not as RECORD says"
    listed = {row[0] for row in csv.reader(record.splitlines())}
    present = {str(p.relative_to(target)) for p in (target / "big").rglob("*") if p.is_file()}
    assert present <= listed, f"{where}: files no RECORD lists: {sorted(present - listed)[:3]}"


def _install_old(wheel: Path, python: Path) -> None:
    done = subprocess.run(_command(wheel, python), env=clean_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _command(wheel: Path, python: Path) -> list[str]:
    return [sys.executable, "-m", "intoto_pip.cli.main", *_args(wheel, "--python", str(python))]


def _interrupted(wheel: Path, python: Path, tmp: Path, delay: float) -> tuple[int, str]:
    """Run the install in its own process group; SIGINT the whole group (as Ctrl-C in a
    terminal does: the compiler gets it too) after ``delay`` seconds."""
    process = subprocess.Popen(
        _command(wheel, python),
        env=clean_env(TMPDIR=str(tmp)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(delay)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.fixture
def sigint_not_ignored() -> Iterator[None]:
    """The installs start with SIGINT at its default, as from a terminal, whatever this
    process was given: a suite started in the background by a shell without job control
    inherits SIGINT ignored, which every child would keep (an ignored signal stays ignored
    across exec; a handled one is reset), and no run would be interrupted. The signal goes
    to the installs' own process groups, never to this process."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# How Python reports an interrupt while it is still starting (exit status 1), before it runs
# any of intoto-pip: seen at delays of 2-80 ms, e.g. 28 runs of 120 stopped importing ``site``.
_PYTHON_STARTING = ("Fatal Python error: init_", "Could not import runpy module")


def _before_intoto_pip(code: int, err: str) -> bool:
    """Interrupted before intoto-pip's code ran: killed by the signal (while Python starts,
    or by an uncaught KeyboardInterrupt while intoto-pip's modules load), or stopped by
    Python's own start-up."""
    if code == -signal.SIGINT:
        return True
    return code == 1 and err.lstrip().startswith(_PYTHON_STARTING)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups")
@pytest.mark.usefixtures("sigint_not_ignored")
def test_ctrl_c_at_increasing_delays_leaves_the_venv_as_it_was(tmp_path: Path) -> None:
    """A real SIGINT to intoto-pip and its compiler (another interpreter: the venv's), at
    delays spread over a whole run; every interrupted run leaves the venv as it was."""
    python = make_venv(tmp_path / "venv")
    old = _big_wheel(tmp_path / "v1", "1.0", 3)
    new = _big_wheel(tmp_path / "v2", "2.0", MODULES)
    _install_old(old, python)
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    started = time.monotonic()
    _install_old(new, python)
    took = time.monotonic() - started
    _install_old(old, python)
    before = snapshot(tmp_path / "venv")
    interrupted = 0
    for step in range(1, 16):
        delay = took * step / 16
        code, err = _interrupted(new, python, tmp, delay)
        if code == 0:  # finished before the signal: put 1.0 back and go on
            _install_old(old, python)
            before = snapshot(tmp_path / "venv")
            continue
        interrupted += 1
        assert code == 130 or _before_intoto_pip(code, err), err
        if snapshot(tmp_path / "venv") != before:  # only once committed: all of 2.0
            _assert_complete(site_packages(python), f"interrupted at {delay:.2f}s")
            _install_old(old, python)
            before = snapshot(tmp_path / "venv")
    assert interrupted >= 8, "too few runs were interrupted to mean anything"
