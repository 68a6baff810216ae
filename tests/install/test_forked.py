"""A function computed by a forked copy of this process: its answer, or None (never an
exception, never a wrong answer) when the copy cannot start or fails."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from intoto_pip.artifacts.digests import can_fork
from intoto_pip.install import forked
from intoto_pip.install.forked import Forked

needs_fork = pytest.mark.skipif(not can_fork(), reason="forks only on Linux, 2+ cores, 1 thread")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    """A helper forks only from a process of one thread. A thread an earlier test joined
    can still be counted for a moment while it exits (``/proc/self/status`` counts native
    threads): wait for it, and name any thread that stays."""
    import threading

    if not (sys.platform == "linux" and len(os.sched_getaffinity(0)) >= 2):
        return  # never forks here, threads or not
    deadline = time.monotonic() + 10
    while not can_fork() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not can_fork():
        names = [thread.name for thread in threading.enumerate()]
        pytest.fail(f"this process still runs other threads: {names}")


@needs_fork
def test_the_answer_is_computed_in_another_process() -> None:
    with Forked(lambda: (os.getpid(), [n * n for n in range(10_000)])) as helper:
        answer = helper.result()
    assert answer is not None
    pid, squares = answer
    assert pid != os.getpid()
    assert squares[9_999] == 9_999 * 9_999


@needs_fork
def test_a_large_answer_arrives_whole() -> None:
    big = {f"/site/pkg/m{n}.py": f"{n:064x}" for n in range(50_000)}  # about 5 MB pickled
    with Forked(lambda: big) as helper:
        assert helper.result() == big


@needs_fork
def test_a_failing_helper_gives_none_and_no_exception() -> None:
    def fails() -> int:
        raise RuntimeError("in the helper")

    with Forked(fails) as helper:
        assert helper.result() is None


@needs_fork
def test_a_helper_that_dies_gives_none() -> None:
    with Forked(lambda: os.kill(os.getpid(), 9)) as helper:
        assert helper.result() is None


@needs_fork
def test_the_helper_never_returns_into_the_callers_code(tmp_path: Path) -> None:
    """Whatever happens in the helper, it exits there: the caller's code after the fork (here:
    writing a file) runs once, in this process."""
    marker = tmp_path / "after"
    with Forked(lambda: 1) as helper:
        with marker.open("a") as out:
            out.write(f"{os.getpid()}\n")
        assert helper.result() == 1
    assert marker.read_text() == f"{os.getpid()}\n"


@needs_fork
def test_closing_without_asking_kills_the_helper() -> None:
    helper = Forked(lambda: time.sleep(60))
    pid = helper._pid
    assert pid is not None
    started = time.monotonic()
    helper.close()
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped already


def test_nothing_to_do_or_no_fork_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    nothing: Forked[int]
    with Forked(None) as nothing:
        assert nothing.result() is None
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    with Forked(lambda: 1) as again:
        assert again.result() is None
