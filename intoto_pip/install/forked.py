"""A function computed by a forked copy of this process while this process goes on.

``intoto-pip check`` re-verifies the evidence of many distributions: a forked helper takes a
share of them, so two cores do the work. The helper is a copy of this process (same code, same
keys, same policy) and sends its answer through a pipe only the two processes hold. Its answer
is only ever a shortcut: when the helper cannot be started, fails, or sends anything that is
not a complete answer, ``result`` is None and the caller does that work itself.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

from intoto_pip.artifacts.digests import can_fork

T = TypeVar("T")
READ_SIZE = 1024 * 1024


class Forked(Generic[T]):
    """``fn()`` on its way in a forked helper; use as a context manager (a helper whose
    result is not asked for is killed)."""

    def __init__(self, fn: Callable[[], T] | None) -> None:
        """``fn`` None: nothing to do (``result`` is None)."""
        self._pid: int | None = None
        self._read: int | None = None
        if fn is None or not can_fork():
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:
            _child(fn, read, write)
        os.close(write)
        self._pid, self._read = pid, read

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def result(self) -> T | None:
        """The helper's answer; None if there is none (not started, or it failed)."""
        if self._read is None:
            return None
        chunks: list[bytes] = []
        try:
            while chunk := os.read(self._read, READ_SIZE):
                chunks.append(chunk)
        except OSError:
            chunks = []
        status = self._end(kill=False)
        if status != 0 or not chunks:
            return None
        try:
            # Written by our own forked copy into a pipe only the two processes hold.
            answer: T = pickle.loads(b"".join(chunks))  # noqa: S301
        except Exception:  # a cut answer: the caller does the work itself
            return None
        return answer

    def close(self) -> None:
        """Kill the helper if it still runs (a no-op once its result was read)."""
        self._end(kill=True)

    def _end(self, *, kill: bool) -> int:
        if self._pid is None or self._read is None:
            return -1
        pid, read = self._pid, self._read
        self._pid = self._read = None
        os.close(read)
        if kill:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        return status


def _child(fn: Callable[[], T], read: int, write: int) -> NoReturn:
    """The forked helper: compute, send, exit (never return into the caller's code)."""
    status = 1
    try:
        os.close(read)
        view = memoryview(pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL))
        while view:
            view = view[os.write(write, view) :]
        status = 0
    finally:
        os._exit(status)
