"""Fast hashing must never change a digest: the forked helper, threads, and digest reuse."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.artifacts import digests as file_digests
from intoto_pip.artifacts.digests import SMALL_FILE, DigestCache, hash_files, start_hash_files
from intoto_pip.errors import InputError

SIZES = [0, 1, 700, SMALL_FILE - 1, SMALL_FILE, SMALL_FILE + 1, 3 * 1024 * 1024 + 5]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_files(folder: Path, count: int, size: int = 100) -> list[str]:
    paths = []
    for index in range(count):
        path = folder / f"f{index:04d}"
        path.write_bytes(os.urandom(size + index % 7))
        paths.append(str(path))
    return paths


@pytest.fixture
def can_fork() -> None:
    if sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("the forked helper runs on Linux with two CPUs or more")
    deadline = time.monotonic() + 2  # a joined thread may take a moment to leave the OS
    while not file_digests._single_threaded():
        if time.monotonic() > deadline:
            pytest.skip("another thread runs in this test process: the helper is not used")
        time.sleep(0.01)


@pytest.fixture
def low_fork_threshold(monkeypatch: pytest.MonkeyPatch, can_fork: None) -> list[int]:
    """Fork for as few as 4 files; returns the list of forked child pids."""
    monkeypatch.setattr(file_digests, "FORK_MIN_FILES", 4)
    forked: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    return forked


@pytest.mark.parametrize("workers", [1, None])
@pytest.mark.parametrize("normalize", [False, True])
def test_digests_of_every_size(tmp_path: Path, workers: int | None, normalize: bool) -> None:
    paths, expected = [], []
    for size in SIZES:
        data = (b"a\r\nb\rc" * (size // 6 + 1))[:size]
        path = tmp_path / f"s{size}"
        path.write_bytes(data)
        paths.append(str(path))
        if normalize:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        expected.append(sha(data))
    assert hash_files(paths, normalize=normalize, workers=workers) == expected


def test_the_forked_helper_gives_the_same_digests(
    tmp_path: Path, low_fork_threshold: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_files(tmp_path, 41)
    (tmp_path / "big").write_bytes(b"x" * (SMALL_FILE + 3))
    paths.append(str(tmp_path / "big"))  # in the helper's half, hashed here afterwards
    expected = [sha(Path(path).read_bytes()) for path in paths]
    hashed_here = counting_hashes(monkeypatch, slow_in=os.getpid())
    assert hash_files(paths) == expected
    assert len(low_fork_threshold) == 1
    assert len(hashed_here) < len(paths)  # the helper took the chunks we were too slow for
    with pytest.raises(ChildProcessError):
        os.waitpid(low_fork_threshold[0], os.WNOHANG)  # reaped


def test_no_helper_while_another_thread_runs(tmp_path: Path, low_fork_threshold: list[int]) -> None:
    paths = write_files(tmp_path, 10)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert hash_files(paths) == [sha(Path(p).read_bytes()) for p in paths]
    finally:
        release.set()
        other.join()
    assert low_fork_threshold == []


def test_no_helper_with_one_worker(tmp_path: Path, low_fork_threshold: list[int]) -> None:
    paths = write_files(tmp_path, 10)
    assert hash_files(paths, workers=1) == [sha(Path(p).read_bytes()) for p in paths]
    assert low_fork_threshold == []


def test_an_unreadable_file_in_the_helpers_half_is_named(
    tmp_path: Path, low_fork_threshold: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_files(tmp_path, 10)
    real_open = os.open

    def deny(path: str, flags: int, *args: Any, **kwargs: Any) -> int:
        if path == paths[-1]:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(InputError, match=r"f0009.*cannot be read .Permission denied"):
        hash_files(paths)
    assert len(low_fork_threshold) == 1


def test_an_unreadable_file_in_our_half_stops_the_helper(
    tmp_path: Path, low_fork_threshold: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_files(tmp_path, 10)
    real_open = os.open

    def deny(path: str, flags: int, *args: Any, **kwargs: Any) -> int:
        if path == paths[0]:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(InputError, match="f0000"):
        hash_files(paths)
    with pytest.raises(ChildProcessError):
        os.waitpid(low_fork_threshold[0], os.WNOHANG)  # killed and reaped


def test_a_failed_helper_is_replaced(
    tmp_path: Path, low_fork_threshold: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any) -> Any:
        os._exit(3)

    monkeypatch.setattr(file_digests, "_child", crash)
    paths = write_files(tmp_path, 12)
    assert hash_files(paths) == [sha(Path(p).read_bytes()) for p in paths]
    assert len(low_fork_threshold) == 1


def test_large_files_on_threads_report_the_first_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [str(tmp_path / name) for name in ("a", "b", "c", "d")]
    for path in paths:
        Path(path).write_bytes(b"z" * (SMALL_FILE * 2))
    real = file_digests._hash_large

    def failing(path: str, normalize: bool, keyed: bool) -> Any:
        if path.endswith(("c", "d")):
            time.sleep(0.2 if path.endswith("c") else 0)  # "d" fails first
            raise InputError(f"{path!r} cannot be read")
        return real(path, normalize, keyed)

    monkeypatch.setattr(file_digests, "_hash_large", failing)
    with pytest.raises(InputError, match=r"c' cannot be read"):
        hash_files(paths, workers=4)
    monkeypatch.setattr(file_digests, "_hash_large", real)
    assert hash_files(paths, workers=4) == [sha(b"z" * (SMALL_FILE * 2))] * 4


# --- digest reuse -------------------------------------------------------------------------


@pytest.fixture
def files_look_old(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the recordings start 10 s in the future, so files made now count as old."""
    real = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real() + 10_000_000_000)


def counting_hashes(monkeypatch: pytest.MonkeyPatch, slow_in: int | None = None) -> list[str]:
    """Record the small files this process hashes (slowly, if its pid is ``slow_in``)."""
    hashed: list[str] = []
    real = file_digests._hash_small

    def hash_small(path: str, normalize: bool, keyed: bool) -> Any:
        hashed.append(path)
        if os.getpid() == slow_in:
            time.sleep(0.005)
        return real(path, normalize, keyed)

    monkeypatch.setattr(file_digests, "_hash_small", hash_small)
    return hashed


def test_an_untouched_old_file_is_not_read_again(
    tmp_path: Path, files_look_old: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_files(tmp_path, 3)
    cache = DigestCache()
    first = hash_files(paths, cache=cache, workers=1)
    hashed = counting_hashes(monkeypatch)
    assert hash_files(paths, cache=cache, workers=1) == first
    assert hashed == []


def touch_same_size_same_mtime(path: str, data: bytes) -> None:
    before = os.stat(path)
    assert len(data) == before.st_size
    time.sleep(0.05)  # past the kernel clock's tick, so the change time can move
    Path(path).write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_rewrite_with_size_and_mtime_restored_is_read_again(
    tmp_path: Path, files_look_old: None
) -> None:
    paths = write_files(tmp_path, 3)
    cache = DigestCache()
    hash_files(paths, cache=cache, workers=1)
    new = b"X" * os.stat(paths[1]).st_size
    touch_same_size_same_mtime(paths[1], new)
    assert hash_files(paths, cache=cache, workers=1)[1] == sha(new)


def test_a_replaced_file_is_read_again(tmp_path: Path, files_look_old: None) -> None:
    paths = write_files(tmp_path, 2, size=50)
    cache = DigestCache()
    hash_files(paths, cache=cache, workers=1)
    old = os.stat(paths[0])
    other = tmp_path / "other"
    other.write_bytes(b"Y" * old.st_size)
    os.utime(other, ns=(old.st_atime_ns, old.st_mtime_ns))
    os.replace(other, paths[0])
    assert hash_files(paths, cache=cache, workers=1)[0] == sha(b"Y" * old.st_size)


def test_a_symlink_pointed_elsewhere_is_read_again(tmp_path: Path, files_look_old: None) -> None:
    (tmp_path / "a").write_bytes(b"aaaa")
    (tmp_path / "b").write_bytes(b"bbbb")
    link = tmp_path / "link"
    link.symlink_to("a")
    cache = DigestCache()
    assert hash_files([str(link)], cache=cache, workers=1) == [sha(b"aaaa")]
    link.unlink()
    link.symlink_to("b")
    assert hash_files([str(link)], cache=cache, workers=1) == [sha(b"bbbb")]


def test_a_recent_file_is_never_reused(tmp_path: Path) -> None:
    # The racy case: a write in the same clock tick as the first look may leave every
    # timestamp as it was, so a file changed less than the margin ago is read again.
    paths = write_files(tmp_path, 2)
    cache = DigestCache()
    hash_files(paths, cache=cache, workers=1)
    assert cache.entries == {}
    data = b"Q" * os.stat(paths[0]).st_size
    before = os.stat(paths[0])
    Path(paths[0]).write_bytes(data)  # no sleep: possibly the same tick
    os.utime(paths[0], ns=(before.st_atime_ns, before.st_mtime_ns))
    assert hash_files(paths, cache=cache, workers=1)[0] == sha(data)


def test_reuse_through_the_forked_helper(
    tmp_path: Path, files_look_old: None, low_fork_threshold: list[int]
) -> None:
    paths = write_files(tmp_path, 10)
    cache = DigestCache()
    first = hash_files(paths, cache=cache)
    assert set(cache.entries) == set(paths)  # the helper sent its files' status back
    new = b"N" * os.stat(paths[-1]).st_size
    touch_same_size_same_mtime(paths[-1], new)
    assert hash_files(paths, cache=cache) == [*first[:-1], sha(new)]


def test_a_cache_serves_one_line_ending_setting(tmp_path: Path) -> None:
    paths = write_files(tmp_path, 1)
    cache = DigestCache()
    hash_files(paths, cache=cache)
    with pytest.raises(ValueError, match="normalize"):
        hash_files(paths, cache=cache, normalize=True)


# --- hashing begun early, and paths that may not be regular files ---------------------------


def test_hashing_begun_early_gives_the_same_digests(
    tmp_path: Path, low_fork_threshold: list[int]
) -> None:
    paths = write_files(tmp_path, 41)
    expected = [sha(Path(path).read_bytes()) for path in paths]
    with start_hash_files(paths) as pending:
        assert len(low_fork_threshold) == 1  # the helper started before result() was asked
        assert pending.result() == expected
    with pytest.raises(ChildProcessError):
        os.waitpid(low_fork_threshold[0], os.WNOHANG)  # reaped


def test_a_helper_whose_result_is_not_wanted_is_ended(
    tmp_path: Path, low_fork_threshold: list[int]
) -> None:
    paths = write_files(tmp_path, 41)
    with start_hash_files(paths):
        pass
    assert len(low_fork_threshold) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(low_fork_threshold[0], os.WNOHANG)  # killed and reaped


@pytest.mark.parametrize("workers", [1, None])
def test_regular_only_gives_nothing_for_what_is_not_a_regular_file(
    tmp_path: Path, workers: int | None
) -> None:
    regular = tmp_path / "regular"
    regular.write_bytes(b"data")
    large = tmp_path / "large"
    large.write_bytes(b"y" * (SMALL_FILE * 2))
    (tmp_path / "link").symlink_to(regular)
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")  # opening it to read would wait for a writer
    names = ["regular", "large", "link", "folder", "pipe", "gone"]
    paths = [str(tmp_path / name) for name in names]
    digests = hash_files(paths, regular_only=True, workers=workers)
    assert digests == [sha(b"data"), sha(b"y" * (SMALL_FILE * 2)), "", "", "", ""]


def test_regular_only_through_the_helper(tmp_path: Path, low_fork_threshold: list[int]) -> None:
    paths = write_files(tmp_path, 41)
    os.mkfifo(tmp_path / "pipe")
    paths.insert(20, str(tmp_path / "pipe"))
    (tmp_path / "large").write_bytes(bytes(range(256)) * SMALL_FILE)  # hashed by either
    paths.insert(30, str(tmp_path / "large"))
    digests = hash_files(paths, regular_only=True)
    assert len(low_fork_threshold) == 1
    assert digests[20] == ""
    assert digests[:20] + digests[21:] == [
        sha(Path(p).read_bytes()) for p in paths if "pipe" not in p
    ]


def test_regular_only_takes_no_cache(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="regular_only"):
        hash_files([], regular_only=True, cache=DigestCache())
