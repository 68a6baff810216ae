"""New files created by a thread of their own while the wheels are read, checked and journaled.

Creating a file is the slowest part of writing a wheel: ext4 spends a fraction of a millisecond
of kernel time allocating each inode (more after many deletions, as in a rebuilt venv), and the
installing thread would wait for each in turn. One writing thread overlaps those waits with
the reading and checking. More are slower: the compilers need the other cores, and threads
creating files in one folder spin on its lock while the kernel scans for a free inode. By hand,
a 30-wheel install into a fresh venv, 16 alternating rounds (medians): 1 thread 4.96 s, 2
threads 5.17 s, 4 threads 5.50 s, with 0.8 s less kernel time for 1 than for 4; with no thread
at all (8 rounds) 6.22 s against 6.04 s for 1. Everything that decides *what* is written
stays in the calling thread: the member is read to its end (which checks its size, CRC and
verified hash) before its bytes are handed over, and the file is made room for and journaled
before that. A thread here only creates the file, writes the bytes, closes it and runs the
``then`` the caller gave (handing a module to the compilers, which must not see it earlier).

``wait`` raises the first failure. ``close`` (in a ``finally``, before any rollback) drops what
has not started and waits for what has, so a rollback never races a write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from installer.utils import make_file_executable

THREADS = 1
# Bytes read but not written yet: reading waits beyond this (members are small, but a wheel
# may carry a shared library of hundreds of MiB; those are written by the caller, streaming).
# With one writing thread the reading is ahead most of the time: 8 MiB here cost 6-8 MiB of
# peak RSS over 2 MiB (a 30-wheel install, 5 rounds each: 68-77 against 69 MiB), and the
# times differed by less than this machine's noise.
PENDING_BYTES = 2 * 1024 * 1024
LARGEST_HANDED_OVER = 4 * 1024 * 1024


class FileWrites:
    """Files written by ``THREADS`` thread(s); ``create`` opens a new file that was journaled."""

    def __init__(self, create: Callable[[Path], BinaryIO], threads: int = THREADS) -> None:
        self._create = create
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="intoto-pip-write")
        self._futures: list[Future[None]] = []
        self._pending = 0
        self._room = threading.Condition()
        self._failed: BaseException | None = None

    def write(
        self,
        path: Path,
        data: bytes,
        *,
        executable: bool = False,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Create ``path`` with ``data`` (at most ``LARGEST_HANDED_OVER`` bytes) in a thread,
        then run ``then`` there. Raises a failure of an earlier write."""
        self._raise_failure()
        with self._room:
            self._room.wait_for(lambda: self._fits(len(data)))
            self._pending += len(data)
        self._futures.append(self._pool.submit(self._write, path, data, executable, then))

    def wait(self) -> None:
        """Every file handed over is written; else the first failure is raised."""
        for future in self._futures:
            future.exception()
        self._futures.clear()
        self._raise_failure()

    def close(self) -> None:
        """Drop writes not started, wait for those running (a no-op twice)."""
        for future in self._futures:
            future.cancel()
        self._pool.shutdown(wait=True)
        self._futures.clear()

    def _write(
        self, path: Path, data: bytes, executable: bool, then: Callable[[], None] | None
    ) -> None:
        try:
            if self._failed is not None:
                return  # the installation stops: no more files
            with self._create(path) as out:
                out.write(data)
            if executable:
                make_file_executable(path)
            if then is not None:
                then()
        except BaseException as exc:  # handed to the installing thread by wait/write
            with self._room:
                self._failed = self._failed or exc
        finally:
            with self._room:
                self._pending -= len(data)
                self._room.notify_all()

    def _fits(self, size: int) -> bool:
        return self._pending + size <= PENDING_BYTES or not self._pending

    def _raise_failure(self) -> None:
        if self._failed is not None:
            raise self._failed
