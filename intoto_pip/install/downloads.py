"""Downloading the files pip picked several at a time.

A download waits on the network, not on this process: a few threads, each fetching whole
files into the private folder (``fetch.fetch_url``: its own temporary folder, its own sha256
check), overlap the round trips that one after another would add up. The results come back
in pip's order, and the first failure in that order is the one raised (the downloads not yet
started are cancelled). One progress bar counts the bytes of them all.
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
    shared = _SharedProgress(progress, len(jobs)) if progress is not None else None
    parts = [shared.part(index) if shared else None for index in range(len(jobs))]
    if len(jobs) <= 1:
        results = [job(part) for job, part in zip(jobs, parts, strict=True)]
    else:
        results = _in_threads(jobs, parts)
    if shared is not None:
        shared.close()
    return results


def _in_threads(jobs: Sequence[Job[T]], parts: Sequence[Progress | None]) -> list[T]:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(THREADS, len(jobs)))
    try:
        futures = [pool.submit(job, part) for job, part in zip(jobs, parts, strict=True)]
        return [future.result() for future in futures]
    finally:
        # On a failure: what has not started never starts; what runs is waited for (it
        # writes into the private folder, which the caller removes afterwards).
        pool.shutdown(wait=True, cancel_futures=True)


class _SharedProgress:
    """One bar for several downloads: bytes so far of all, of the total once every size is
    known."""

    def __init__(self, bar: Progress, count: int) -> None:
        self._bar, self._lock = bar, threading.Lock()
        self._done = [0] * count
        self._totals: list[int | None] = [None] * count

    def part(self, index: int) -> Progress:
        def report(done: int, total: int | None) -> None:
            with self._lock:
                self._done[index], self._totals[index] = done, total
                known = [t for t in self._totals if t is not None]
                whole = sum(known) if len(known) == len(self._totals) else None
                self._bar(sum(self._done), whole)

        return report

    def close(self) -> None:
        getattr(self._bar, "close", lambda: None)()
