"""File writes handed to threads: every file written, failures raised, memory bounded, and
nothing written once the writes are closed."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pytest

from intoto_pip.install import file_writes
from intoto_pip.install.file_writes import FileWrites
from intoto_pip.install.transaction import Transaction


def test_every_file_is_written_then_its_follow_up_runs(tmp_path: Path) -> None:
    transaction = Transaction()
    writes = FileWrites(transaction.create)
    seen: list[str] = []

    def read(path: Path) -> None:
        seen.append(path.read_text())

    try:
        for n in range(50):
            path = tmp_path / f"m{n}.py"
            transaction.wrote(path)
            # The follow-up sees the whole file: it runs after the file is closed.
            writes.write(path, b"x = %d\n" % n, then=partial(read, path))
        writes.wait()
    finally:
        writes.close()
    assert sorted(seen) == sorted(f"x = {n}\n" for n in range(50))
    assert (tmp_path / "m7.py").read_bytes() == b"x = 7\n"


def test_an_executable_file_gets_its_execute_bits(tmp_path: Path) -> None:
    writes = FileWrites(Transaction().create)
    try:
        writes.write(tmp_path / "tool", b"#!/bin/sh\n", executable=True)
        writes.wait()
    finally:
        writes.close()
    assert (tmp_path / "tool").stat().st_mode & 0o100


def test_a_failure_is_raised_and_later_files_are_not_written(tmp_path: Path) -> None:
    (tmp_path / "taken.py").write_bytes(b"someone else's\n")  # created with O_EXCL: it fails
    writes = FileWrites(Transaction().create, threads=1)
    try:
        writes.write(tmp_path / "taken.py", b"ours\n")
        with pytest.raises(FileExistsError):
            writes.wait()
        with pytest.raises(FileExistsError):  # the next write is refused, not queued
            writes.write(tmp_path / "after.py", b"late\n")
    finally:
        writes.close()
    assert not (tmp_path / "after.py").exists()
    assert (tmp_path / "taken.py").read_bytes() == b"someone else's\n"


def test_a_link_planted_at_the_name_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep\n")
    (tmp_path / "mod.py").symlink_to(outside)
    writes = FileWrites(Transaction().create)
    try:
        writes.write(tmp_path / "mod.py", b"evil\n")
        with pytest.raises(OSError):
            writes.wait()
    finally:
        writes.close()
    assert outside.read_bytes() == b"keep\n"


def test_reading_waits_while_too_many_bytes_are_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_writes, "PENDING_BYTES", 10)
    release = threading.Event()
    original = Transaction().create

    def slow_create(path: Path) -> BinaryIO:
        release.wait(10)
        return original(path)

    writes = FileWrites(slow_create)
    returned = threading.Event()

    def second() -> None:
        writes.write(tmp_path / "b", b"6bytes")
        returned.set()

    try:
        writes.write(tmp_path / "a", b"6bytes")
        caller = threading.Thread(target=second)
        caller.start()
        assert not returned.wait(0.3), "12 bytes pending where 10 are allowed"
        release.set()
        assert returned.wait(10)
        caller.join()
        writes.wait()
    finally:
        release.set()
        writes.close()
    assert (tmp_path / "b").read_bytes() == b"6bytes"


def test_close_drops_writes_not_started_and_waits_for_running_ones(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()
    original = Transaction().create

    def blocking_create(path: Path) -> BinaryIO:
        started.set()
        release.wait(10)
        return original(path)

    writes = FileWrites(blocking_create, threads=1)
    writes.write(tmp_path / "running", b"1")
    writes.write(tmp_path / "queued", b"2")
    assert started.wait(10)
    closer = threading.Thread(target=writes.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close returned while a file was being written"
    release.set()
    closer.join(10)
    assert (tmp_path / "running").exists()  # finished before close returned
    assert not (tmp_path / "queued").exists()  # never started
