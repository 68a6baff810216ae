"""New files created by a few threads while the wheels are read, checked and journaled.

Creating a file is the slowest part of writing a wheel: ext4 spends a fraction of a millisecond
of kernel time allocating each inode (more after many deletions, as in a rebuilt venv), and one
thread creating 2,000 files waits for each in turn. Everything that decides *what* is written
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

THREADS = 4
# Bytes read but not written yet: reading waits beyond this (members are small, but a wheel
# may carry a shared library of hundreds of MiB; those are written by the caller, streaming).
PENDING_BYTES = 8 * 1024 * 1024
LARGEST_HANDED_OVER = 4 * 1024 * 1024


class FileWrites:
    """Files written by ``THREADS`` threads; ``create`` opens a new file that was journaled."""

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
