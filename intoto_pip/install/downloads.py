"""Downloading the files pip picked several at a time.

A download waits on the network, not on this process: a few threads, each fetching whole
files into the private folder (``fetch.fetch_url``: its own temporary folder, its own sha256
check), overlap the round trips that one after another would add up. The results come back
in pip's order, and the first failure in that order is the one raised: the downloads not yet
started never start and those under way stop at their next chunk (so does Ctrl-C). One
progress bar counts the bytes of them all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from intoto_pip.install.fetch import Progress

T = TypeVar("T")
THREADS = 8  # as many requests in flight as a browser keeps open to one host

Job = Callable[[Progress | None], T]


def fetch_all(jobs: Sequence[Job[T]], progress: Progress | None = None) -> list[T]:
    """Run every job (each given its share of ``progress``), several at once; results in
    order. A single job runs in this thread."""
    if len(jobs) <= 1:
        return [job(progress) for job in jobs]
    shared = _SharedProgress(progress, len(jobs))
    try:
        return _in_threads(jobs, [shared.part(index) for index in range(len(jobs))], shared)
    finally:
        shared.close()


def _in_threads(
    jobs: Sequence[Job[T]], parts: Sequence[Progress], shared: _SharedProgress
) -> list[T]:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(THREADS, len(jobs)))
    try:
        futures = [pool.submit(job, part) for job, part in zip(jobs, parts, strict=True)]
        return [future.result() for future in futures]
    except BaseException:
        # A failure, or Ctrl-C: what has not started never starts, and what runs stops at
        # its next chunk (its progress report raises), so this does not wait for whole files.
        shared.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Cancelled(Exception):
    """Raised inside a download that is no longer wanted."""


class _SharedProgress:
    """One bar for several downloads: bytes so far of all, of the total once every size is
    known. Each download reports every chunk here, which is where it learns to stop."""

    def __init__(self, bar: Progress | None, count: int) -> None:
        self._bar, self._lock = bar, threading.Lock()
        self._cancelled = threading.Event()
        self._done = [0] * count
        self._totals: list[int | None] = [None] * count

    def part(self, index: int) -> Progress:
        def report(done: int, total: int | None) -> None:
            if self._cancelled.is_set():
                raise Cancelled("download no longer wanted")
            if self._bar is None:
                return
            with self._lock:
                self._done[index], self._totals[index] = done, total
                known = [t for t in self._totals if t is not None]
                whole = sum(known) if len(known) == len(self._totals) else None
                self._bar(sum(self._done), whole)

        return report

    def cancel(self) -> None:
        self._cancelled.set()

    def close(self) -> None:
        if self._bar is not None:
            getattr(self._bar, "close", lambda: None)()
