"""Ending every process an inspection started, even one that left its session.

An inspection runs in a session of its own, and killing that process group ends what stays in
it; a child that calls ``setsid`` (or double-forks) leaves the group and would outlive the
verification. On Linux, ``Reaper`` makes this process a child subreaper
(``prctl(PR_SET_CHILD_SUBREAPER)``) for the inspection's lifetime, so such orphans are
re-parented to us rather than to init; when the inspection ends, every descendant that was not
already our child before it started is found through ``/proc``, killed and reaped, and the
subreaper flag is put back as it was. Elsewhere only the process group is killed.

A pid is signalled through a pidfd after its start time is checked again, so a pid that was
reused in between is never hit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_PROC = Path("/proc")
# A process that forks as fast as we kill still runs out of rounds: each round ends a
# generation, and the limit only stops a loop that would never end.
_MAX_ROUNDS = 100


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    state: str
    start: int  # clock ticks after boot: with pid, names one process


def _libc() -> ctypes.CDLL | None:
    if not _PROC.is_dir():
        return None
    try:  # the running program's own symbols hold libc's prctl (no library search, no child)
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "prctl") else None


def subreaper_state() -> bool | None:
    """Whether this process is a child subreaper (None where that cannot be known)."""
    libc = _libc()
    if libc is None:
        return None
    value = ctypes.c_int(0)
    if libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0) != 0:
        return None
    return bool(value.value)


def _set_subreaper(libc: ctypes.CDLL, on: bool) -> bool:
    return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)


def _read(pid: str) -> _Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            text = file.read().decode("ascii", errors="replace")
    except OSError:  # gone, or not a process
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it.
    fields = text.rpartition(")")[2].split()
    try:
        return _Proc(int(pid), int(fields[1]), fields[0], int(fields[19]))
    except (IndexError, ValueError):
        return None


def _processes() -> list[_Proc]:
    found = (_read(name) for name in os.listdir(_PROC) if name.isdigit())
    return [proc for proc in found if proc is not None]


def _descendants(root: int, spared: frozenset[int]) -> list[_Proc]:
    """Every descendant of ``root``, leaving out the children in ``spared`` and their own."""
    table = _processes()
    children: dict[int, list[_Proc]] = {}
    for proc in table:
        children.setdefault(proc.ppid, []).append(proc)
    found: list[_Proc] = []
    stack = [proc for proc in children.get(root, []) if proc.pid not in spared]
    while stack:
        proc = stack.pop()
        found.append(proc)
        stack.extend(children.get(proc.pid, []))
    return found


def _kill(proc: _Proc) -> None:
    try:
        fd = os.pidfd_open(proc.pid)
    except OSError:
        return  # already gone
    try:
        again = _read(str(proc.pid))
        if again is not None and again.start == proc.start:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def kill_descendants(spared: frozenset[int]) -> None:
    """Kill and reap every descendant of this process outside ``spared`` (our children then)."""
    me = os.getpid()
    for _ in range(_MAX_ROUNDS):
        left = _descendants(me, spared)
        if not left:
            return
        for proc in left:
            if proc.state != "Z":
                _kill(proc)
        # A killed process's own children come to us (we are the subreaper): the next round
        # finds them. Our direct children are reaped here, so nothing stays a zombie.
        for proc in left:
            if proc.ppid == me:
                _reap(proc.pid)


class Reaper:
    """``with Reaper():`` around an inspection: on exit, nothing it started is left running."""

    def __init__(self) -> None:
        self._libc = _libc()
        self._was: bool | None = None
        self._spared: frozenset[int] = frozenset()

    def __enter__(self) -> Reaper:
        if self._libc is None:
            return self
        self._was = subreaper_state()
        self._spared = frozenset(proc.pid for proc in _descendants(os.getpid(), frozenset()))
        if not _set_subreaper(self._libc, True):
            self._libc = None  # not allowed here: the process group kill still applies
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._libc is None:
            return
        try:
            kill_descendants(self._spared)
        finally:
            _set_subreaper(self._libc, bool(self._was))
