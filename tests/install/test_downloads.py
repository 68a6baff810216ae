"""Downloading several files at once: results in order, the first failure in order raised,
one progress bar for all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install.downloads import THREADS, fetch_all
from intoto_pip.install.fetch import Progress


def test_results_come_back_in_order_while_the_jobs_overlap() -> None:
    """Each job waits (as on the network) until all of the first batch are running: they
    cannot finish unless they run at once."""
    count = THREADS
    started = threading.Barrier(count, timeout=10)

    def job(index: int) -> Callable[[Progress | None], int]:
        def run(_progress: Progress | None) -> int:
            started.wait()
            time.sleep(0.001 * (count - index))  # the last ones finish first
            return index

        return run

    assert fetch_all([job(i) for i in range(count)]) == list(range(count))


def test_the_first_failure_in_order_is_raised_and_later_jobs_do_not_start() -> None:
    ran: list[int] = []
    gate = threading.Event()

    def job(index: int) -> Callable[[Progress | None], int]:
        def run(_progress: Progress | None) -> int:
            if index == 0:
                gate.wait(10)
                raise InstallError("first")
            if index == 1:
                gate.set()
                raise InstallError("second")
            time.sleep(1.0)  # a download that takes a while
            ran.append(index)
            return index

        return run

    jobs = [job(i) for i in range(2 + 3 * THREADS)]
    with pytest.raises(InstallError, match="first"):
        fetch_all(jobs)
    assert len(ran) < len(jobs) - 2, "jobs not yet started were cancelled"


def test_one_bar_counts_the_bytes_of_all_files() -> None:
    seen: list[tuple[int, int | None]] = []
    closed: list[bool] = []

    class Bar:
        def __call__(self, done: int, total: int | None) -> None:
            seen.append((done, total))

        def close(self) -> None:
            closed.append(True)

    def job(size: int) -> Callable[[Progress | None], int]:
        def run(progress: Progress | None) -> int:
            assert progress is not None
            progress(size, size)
            return size

        return run

    assert fetch_all([job(10), job(20), job(30)], Bar()) == [10, 20, 30]
    assert seen[-1] == (60, 60)
    assert all(total in (None, 60) for _done, total in seen)
    assert closed == [True]


def test_a_single_download_runs_in_this_thread() -> None:
    def run(_progress: Progress | None) -> str:
        return threading.current_thread().name

    assert fetch_all([run]) == [threading.main_thread().name]


def test_a_failure_stops_the_downloads_under_way_at_their_next_chunk() -> None:
    """A download that would go on for a long time (a chunk every few milliseconds) stops as
    soon as another one has failed: the failure is raised without waiting for it."""
    chunks: list[int] = []

    def endless(progress: Progress | None) -> int:
        assert progress is not None
        for size in range(100_000):
            chunks.append(size)
            progress(size, None)
            time.sleep(0.005)
        return -1

    def failing(_progress: Progress | None) -> int:
        time.sleep(0.05)
        raise InstallError("failed")

    started = time.monotonic()
    with pytest.raises(InstallError, match="failed"):
        fetch_all([failing, endless])
    assert time.monotonic() - started < 60  # not the 500 s the endless download would take
    assert len(chunks) < 100_000
