"""Installation faults: a write failing on the Nth file, two installs at once into one venv,
and a run killed half-way that leaves its sandbox behind.

The wheels are the generated ones in ``fixtures/adversarial/install/``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.adversarial import OUT
from intoto_pip.cli.main import main
from intoto_pip.install import installer_step
from intoto_pip.install.transaction import Transaction
from tests.adversarial.runner import KEYS, Tree, leftovers, snapshot

UPGRADE = OUT / "install" / "upgrade-replaces-old-files"
V10 = UPGRADE / "demo-1.0-py3-none-any.whl"
V11 = UPGRADE / "demo-1.1-py3-none-any.whl"
SLOW = OUT / "install" / "slow-inspection-times-out" / "demo-1.0-py3-none-any.whl"
SLEEP_CODE = "import time; time.sleep(60)"


def _args(wheel: Path, *more: str) -> list[str]:
    return [
        "install",
        str(wheel),
        "--no-deps",
        "--layout-key",
        str(KEYS / "owner.pub"),
        *more,
    ]


class _Counter:
    """Counts ``RecordingDestination.write_to_fs`` calls; the ``fail_at``-th one fails."""

    def __init__(self, fail_at: int | None) -> None:
        self.calls = 0
        self.fail_at = fail_at


def _writes(monkeypatch: pytest.MonkeyPatch, fail_at: int | None) -> _Counter:
    counter = _Counter(fail_at)
    original = installer_step.RecordingDestination.write_to_fs

    def write_to_fs(destination: Any, *args: Any, **kwargs: Any) -> Any:
        counter.calls += 1
        if counter.calls == counter.fail_at:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        return original(destination, *args, **kwargs)

    monkeypatch.setattr(installer_step.RecordingDestination, "write_to_fs", write_to_fs)
    return counter


def _installed_1_0(target: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> int:
    """Install demo 1.0 into ``target``; return how many files installer wrote."""
    with monkeypatch.context() as patch:
        counter = _writes(patch, None)
        assert main(_args(V10, "--target", str(target))) == 0
    capsys.readouterr()
    return counter.calls


def test_the_upgrade_writes_several_files(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    assert _installed_1_0(tmp_path / "target", monkeypatch, capsys) >= 6


@pytest.mark.parametrize("position", ["first", "second", "middle", "last"])
def test_failure_on_the_nth_file_restores_the_target(
    position: str,
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "target"
    count = _installed_1_0(target, monkeypatch, capsys)
    (target / "keep.txt").write_text("not ours\n")
    before = snapshot(target)
    fail_at = {"first": 1, "second": 2, "middle": count // 2, "last": count}[position]
    counter = _writes(monkeypatch, fail_at)
    code = main(_args(V11, "--target", str(target), "--upgrade"))
    assert counter.calls == fail_at, "the install went on after the failed write"
    _failed_and_restored(code, capsys.readouterr(), target, before, private_tmp)


def _failed_and_restored(
    code: int, captured: Any, target: Path, before: Tree, private_tmp: Path
) -> None:
    """One line naming the injected fault, exit 3, and the target as it was before."""
    assert code == 3, captured  # a fault of the machine, never "not verified" (exit 1)
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if "No space left" in line]
    assert len(errors) == 1 and errors[0].startswith("intoto-pip: error: "), captured.err
    assert snapshot(target) == before, "the target was not restored byte for byte"
    assert leftovers(private_tmp) == [], "a backup or sandbox folder was left behind"


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_a_file_failing_in_a_writing_thread_restores_the_target(
    position: str,
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Module files are created by writing threads (``file_writes``): a failure there (the
    disk full when the file is created) must reach the install and roll everything back,
    with no thread still writing while the rollback runs."""
    target = tmp_path / "target"
    count = _installed_1_0(target, monkeypatch, capsys)
    (target / "keep.txt").write_text("not ours\n")
    before = snapshot(target)
    fail_at = {"first": 1, "middle": count // 2, "last": count}[position]
    created: list[str] = []
    original = Transaction.create

    def create(transaction: Transaction, path: Path, mode: int = 0o666) -> Any:
        created.append(threading.current_thread().name)
        if len(created) == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        return original(transaction, path, mode)

    monkeypatch.setattr(Transaction, "create", create)
    code = main(_args(V11, "--target", str(target), "--upgrade", "--no-compile"))
    assert any(name.startswith("intoto-pip-write") for name in created), created
    _failed_and_restored(code, capsys.readouterr(), target, before, private_tmp)


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, TMPDIR=str(tmp))
    return env


def _command(wheel: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "intoto_pip.cli.main", *_args(wheel, *more)]


def _record_matches(site: Path) -> None:
    """Every RECORD row names an existing file with that hash; no unlisted file in demo/."""
    from fixtures.adversarial_cases.zipcraft import record_hash

    record = (site / "demo-1.0.dist-info" / "RECORD").read_text().splitlines()
    listed = set()
    for row in record:
        path, digest, _size = row.rsplit(",", 2)
        listed.add(path)
        assert (site / path).is_file(), f"{path} is in RECORD but missing"
        if digest:
            assert record_hash((site / path).read_bytes()) == digest, path
    for file in (site / "demo").rglob("*"):
        if file.is_file():
            assert str(file.relative_to(site)) in listed, f"{file} is not in RECORD"


def _venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return folder / "bin" / "python"


@pytest.mark.slow
def test_the_same_wheel_installed_twice_at_once_into_one_venv(
    tmp_path: Path,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Install A is paused at its 3rd file while install B (another process) runs; then A's
    6th write fails and A rolls back. B must end with a complete, consistent installation:
    either it waited for A (a lock), or A's rollback left B's files alone.

    Found by this suite: without the target lock (install/lock.py), B reported success and
    A's rollback then deleted B's files, leaving a broken environment."""
    python = _venv(tmp_path / "venv")
    other: list[subprocess.Popen[str]] = []
    original = installer_step.RecordingDestination.write_to_fs
    calls = 0

    def write_to_fs(destination: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            other.append(_start(_command(V10, "--python", str(python)), private_tmp))
            with contextlib.suppress(subprocess.TimeoutExpired):
                other[0].wait(timeout=10)  # a lock would keep it waiting: go on
        if calls == 6:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        return original(destination, *args, **kwargs)

    monkeypatch.setattr(installer_step.RecordingDestination, "write_to_fs", write_to_fs)
    assert main(_args(V10, "--python", str(python))) == 3
    assert "Traceback" not in capsys.readouterr().err
    _out, err = other[0].communicate(timeout=120)
    assert other[0].returncode == 0, err
    assert "Traceback" not in err
    site = next((tmp_path / "venv" / "lib").glob("python3*/site-packages"))
    _record_matches(site)


def _start(command: list[str], tmp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        env=_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _unlocked(tree: Tree) -> Tree:
    return {k: v for k, v in tree.items() if not k.startswith("intoto-pip-locks-")}


def _orphans(under: Path) -> Iterator[int]:
    """Processes running our sleeping inspection with their working folder below ``under``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if SLEEP_CODE in command and cwd.startswith(str(under)):
            yield int(entry.name)


def _wait_for_inspection(tmp: Path, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(_orphans(tmp))
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the slow inspection never started")


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _slow_install_in_inspection(
    tmp_path: Path,
) -> tuple[Path, Path, subprocess.Popen[bytes], list[int]]:
    """Start an install whose layout's inspection sleeps; return once the inspection runs."""
    target, tmp = tmp_path / "target", tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    process = subprocess.Popen(
        _command(SLOW, "--target", str(target)),
        env=_env(tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    return target, tmp, process, _wait_for_inspection(tmp)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the inspection through /proc")
def test_a_dirty_sandbox_from_a_killed_run_changes_nothing(tmp_path: Path) -> None:
    target, tmp, killed, inspection = _slow_install_in_inspection(tmp_path)
    killed.kill()
    killed.wait(timeout=30)
    _kill_all(inspection)  # SIGKILL cannot be handled: the orphan is ours to end
    assert not target.exists(), "a killed verification wrote into the target"
    dirty = _unlocked(snapshot(tmp))
    assert dirty, "the killed run was expected to leave its private folders"
    result = subprocess.run(
        _command(V10, "--target", str(target)),
        env=_env(tmp),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _unlocked(snapshot(tmp)) == dirty, "the next run touched or reused the dirty sandbox"
    assert (target / "demo" / "util.py").read_bytes().startswith(b"def double")


def _terminated_run(tmp_path: Path) -> tuple[Path, Tree, list[int]]:
    _target, tmp, run, inspection = _slow_install_in_inspection(tmp_path)
    run.terminate()
    run.wait(timeout=30)
    deadline = time.monotonic() + 5  # a SIGKILLed process takes a moment to be gone
    while (left := [pid for pid in inspection if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    _kill_all(left)
    return tmp, _unlocked(snapshot(tmp)), left


def _alive(pid: int) -> bool:
    """Running or stopped; a zombie (state Z: dead, waiting for its new parent, PID 1 here, to
    reap it) is not alive, nor is a process that is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]  # the command name may hold spaces and parens
    return state not in {"Z", "X"}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the inspection through /proc")
def test_sigterm_cleans_up_the_sandbox_and_the_inspection(tmp_path: Path) -> None:
    _tmp, left_files, left_processes = _terminated_run(tmp_path)
    assert left_processes == [], "the inspection outlived intoto-pip"
    assert left_files == {}, "the sandbox outlived intoto-pip"
