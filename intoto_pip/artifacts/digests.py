"""SHA-256 of recorded files, as fast as two cores allow, and never a stale digest.

Small files (under 64 KiB) cost system calls and interpreter time, which threads cannot
spread (they contend for the interpreter lock); when there are thousands of them on Linux
and no other thread runs, a forked helper process takes a share of them. Large files cost
reading and hashing, which release the lock, so they are hashed on threads with 1 MiB
reads. ``start_hash_files`` forks the helper at once and returns, so the caller can do other
work while it hashes (``check`` re-verifies evidence meanwhile) and join in later.

Reusing a digest (:class:`DigestCache`)
---------------------------------------
An inspection records its working folder before and after its command. The second
recording may take a digest from the first instead of reading the file again, and does so
only when all of these hold:

1. the first recording ``fstat``-ed the file through the very descriptor it then read, so
   the digest and the recorded status describe one inode;
2. that status had a change time (``st_ctime``) more than :data:`REUSE_MARGIN_NS` before
   the first recording began (``T0``, read from the system clock before any ``fstat``);
3. ``stat`` of the path now gives the same device, inode, size, modification time and
   change time.

Why that is safe: changing a file's content (``write``, ``truncate``, a write through a
memory map, ``fallocate``, a copy or clone into it) sets its change time to the current
time, and no unprivileged call can set the change time to anything else (``utime`` sets the
change time to *now* as well). A change made after the ``fstat`` in (1) happens after
``T0``, so it leaves a change time of at least ``T0`` minus the file system's timestamp
granularity and the lag of the kernel's coarse clock (together at most two seconds even for
FAT's 2-second stamps, far less on ext4, XFS, Btrfs or tmpfs). The margin is larger than
that, so such a change time differs from the old one in (2), and (3) fails. Comparing the
inode rules out a file replaced by another (a new inode, or a reused inode number with a
fresh change time). Without the margin this is git's "racily clean" problem: a write in the
same clock tick as the first look leaves every timestamp unchanged.

What this assumes: timestamps come from this machine's clock (or one no more than the
margin behind it), the clock is not stepped back by more than the margin during the
verification, and the file system maintains change times as POSIX requires. A privileged
process can break these (set the clock, write to the block device) and a network file
system whose server clock lags by more than the margin is outside them; no unprivileged
process in the working folder can.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, NoReturn

from intoto_pip.errors import InputError

REUSE_MARGIN_NS: Final = 3_000_000_000  # see the module docstring
SMALL_FILE: Final = 64 * 1024  # files shorter than this are hashed from one read
READ_SIZE: Final = 1024 * 1024  # large reads: hashlib releases the GIL for big updates
FORK_MIN_FILES: Final = 2000  # below this a helper process costs more than it saves
_MAX_CHUNKS: Final = 255  # chunk numbers travel as single bytes
_MAX_WORKERS: Final = 16
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_BINARY", 0)

FileKey = tuple[int, int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns
_Result = tuple[str | None, FileKey | None]  # (digest, key); digest None: a large file


@dataclass
class DigestCache:
    """Digests kept from one recording for the next one of the same files (one process)."""

    normalize: bool | None = None  # the line-ending option the digests were made with
    entries: dict[str, tuple[FileKey, str]] = field(default_factory=dict)


def _key(info: os.stat_result) -> FileKey:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _unchanged(path: str, key: FileKey) -> bool:
    """Whether ``path`` still shows the status recorded with its digest (docstring, 3)."""
    try:
        info = os.stat(path)
    except OSError:
        return False  # hashing will report it
    return _key(info) == key


def hash_files(
    paths: Sequence[str],
    *,
    normalize: bool = False,
    workers: int | None = None,
    cache: DigestCache | None = None,
    regular_only: bool = False,
) -> list[str]:
    """The hex SHA-256 of each file (CR LF and lone CR read as LF with ``normalize``).

    With a ``cache``, digests it holds are reused where provably safe (module docstring) and
    the new ones are added. Raises InputError for a file that cannot be read.

    With ``regular_only``, a path that is not a regular file (a symbolic link, a folder, a
    pipe, a device) or cannot be read gets "" instead, and is never waited on: a pipe is
    opened without blocking, a link not followed. For a list of paths that may not exist.
    """
    with start_hash_files(
        paths, normalize=normalize, workers=workers, cache=cache, regular_only=regular_only
    ) as pending:
        return pending.result()


def start_hash_files(
    paths: Sequence[str],
    *,
    normalize: bool = False,
    workers: int | None = None,
    cache: DigestCache | None = None,
    regular_only: bool = False,
) -> PendingDigests:
    """``hash_files``, begun: where a helper process may be forked, it starts on the small
    files at once, so the caller can do other work before it asks ``result()``. Use it as a
    context manager: a helper whose result is not asked for is ended."""
    if regular_only and (cache is not None or normalize):
        raise ValueError("regular_only hashes plain bytes, without a cache")
    if cache is not None:
        if cache.normalize is not None and cache.normalize != normalize:
            raise ValueError("a DigestCache serves one normalize_line_endings setting")
        cache.normalize = normalize
    return PendingDigests(
        paths, normalize=normalize, workers=workers, cache=cache, regular_only=regular_only
    )


class PendingDigests:
    """Digests on their way (see ``start_hash_files``)."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        normalize: bool,
        workers: int | None,
        cache: DigestCache | None,
        regular_only: bool = False,
    ) -> None:
        self._paths = paths
        self._normalize = normalize
        self._workers = workers
        self._cache = cache
        self._regular_only = regular_only
        self._start = time.time_ns()  # before any fstat of this recording
        self._hash_one = _hash_regular if regular_only else _small_hasher(normalize, cache)
        self._helper = None
        if _may_fork(len(paths), workers):
            self._helper = _Helper.start(paths, self._hash_one)

    def __enter__(self) -> PendingDigests:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End the helper if its work is not wanted any more."""
        if self._helper is not None:
            self._helper.end(kill=True)

    def result(self) -> list[str]:
        """The digests, in the order of ``paths``; InputError for a file that cannot be read."""
        paths, cache = self._paths, self._cache
        if self._helper is not None:
            results = self._helper.finish()
        else:
            results = [self._hash_one(path) for path in paths]
        large = [index for index, (digest, _) in enumerate(results) if digest is None]
        keyed = cache is not None
        large_paths = [paths[i] for i in large]  # none with regular_only: hashed already
        done = _hash_large_files(large_paths, self._normalize, keyed, self._workers)
        for index, result in zip(large, done, strict=True):
            results[index] = result
        if cache is not None:
            _remember(cache, paths, results, self._start)
        return [digest or "" for digest, _ in results]


def _remember(
    cache: DigestCache, paths: Sequence[str], results: Sequence[_Result], start: int
) -> None:
    cutoff = start - REUSE_MARGIN_NS
    for path, (digest, key) in zip(paths, results, strict=True):
        if key is None or digest is None:
            continue  # a reused digest comes without a key: its entry is already there
        if key[4] < cutoff:
            cache.entries[path] = (key, digest)
        else:
            cache.entries.pop(path, None)  # changed too recently to be reused later


# --- small files --------------------------------------------------------------------------


def _open(path: str) -> int:
    try:
        return os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise InputError(f"{path!r} cannot be read ({exc.strerror})") from exc


def _hash_small(path: str, normalize: bool, keyed: bool) -> _Result:
    """The digest of a file shorter than SMALL_FILE, or (None, None) if it is larger."""
    fd = _open(path)
    key = None
    try:
        if keyed:
            key = _key(os.fstat(fd))  # before the read: see the module docstring
            if key[2] >= SMALL_FILE:
                return None, None
        data = os.read(fd, SMALL_FILE)
    except OSError as exc:
        raise InputError(f"{path!r} cannot be read ({exc.strerror})") from exc
    finally:
        os.close(fd)
    # A regular file reads in full up to its end, so a short read is the whole file.
    if len(data) == SMALL_FILE:
        return None, None
    if normalize:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return hashlib.sha256(data).hexdigest(), key


_REGULAR_FLAGS: Final = _OPEN_FLAGS | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)


def _open_regular(path: str) -> int | None:
    """A descriptor of ``path`` if it is a regular file that opens (never blocking on a
    pipe, never following a link); None otherwise."""
    try:
        fd = os.open(path, _REGULAR_FLAGS)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _hash_regular(path: str) -> _Result:
    """sha256 of a readable regular file, whatever its size (a large one is read on from the
    same descriptor, where its hasher is, helper or not); "" for anything else."""
    fd = _open_regular(path)
    if fd is None:
        return "", None
    try:
        data = os.read(fd, SMALL_FILE)
        digest = hashlib.sha256(data)
        if len(data) == SMALL_FILE:
            view = memoryview(bytearray(READ_SIZE))
            while count := os.readv(fd, [view]):
                digest.update(view[:count])
    except OSError:
        return "", None
    finally:
        os.close(fd)
    return digest.hexdigest(), None


def _small_hasher(normalize: bool, cache: DigestCache | None) -> Callable[[str], _Result]:
    """Hash one small file: (digest, key), or (digest, None) if reused; (None, None) for a
    large file, which is left to the threads."""
    keyed = cache is not None
    entries = cache.entries if cache is not None else {}

    def hash_one(path: str) -> _Result:
        entry = entries.get(path)
        if entry is not None and _unchanged(path, entry[0]):
            return entry[1], None
        return _hash_small(path, normalize, keyed)

    return hash_one


def _may_fork(count: int, workers: int | None) -> bool:
    """Whether to share the work with a forked helper process."""
    if workers == 1 or count < FORK_MIN_FILES:
        return False
    return can_fork()


def can_fork() -> bool:
    """Whether a forked helper may share this process's work: Linux (macOS system libraries
    are not fork-safe), two cores or more, and one thread (forking while another thread runs
    could copy a lock that thread holds)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    return len(os.sched_getaffinity(0)) >= 2 and _single_threaded()


def _single_threaded() -> bool:
    """Whether this process runs one thread, native threads included (from /proc)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1]) == 1
    except (OSError, ValueError, IndexError):
        pass
    return False


class _Helper:
    """A forked helper hashing ``paths`` with this process, which share the work chunk by
    chunk.

    Chunk numbers wait in a pipe, one byte each, and each process reads the next one when
    it is free (a one-byte read cannot be split), so a helper that gets no CPU slows
    nothing down: this process then takes the remaining chunks itself. The helper starts at
    once; this process joins in when ``finish`` is called.
    """

    def __init__(
        self,
        paths: Sequence[str],
        hash_one: Callable[[str], _Result],
        chunks: Sequence[range],
        fds: tuple[int, int],
        pid: int,
    ) -> None:
        self._paths = paths
        self._hash_one = hash_one
        self._chunks = chunks
        self._token_r, self._result_r = fds
        self._pid: int | None = pid

    @classmethod
    def start(cls, paths: Sequence[str], hash_one: Callable[[str], _Result]) -> _Helper | None:
        """The helper, forked; None if it could not be (this process does all the work)."""
        size = -(-len(paths) // _MAX_CHUNKS)
        chunks = [
            range(start, min(start + size, len(paths))) for start in range(0, len(paths), size)
        ]
        token_r, token_w = os.pipe()
        os.write(token_w, bytes(range(len(chunks))))  # at most 255 bytes: written at once
        os.close(token_w)
        result_r, result_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (token_r, result_r, result_w):
                os.close(fd)
            return None
        if pid == 0:
            _child(paths, chunks, hash_one, token_r, (result_r, result_w))
        os.close(result_w)
        return cls(paths, hash_one, chunks, (token_r, result_r), pid)

    def finish(self) -> list[_Result]:
        """Take the chunks left, then the helper's results: every file's result."""
        paths, hash_one = self._paths, self._hash_one
        results: list[_Result | None] = [None] * len(paths)
        finished = False
        try:
            for chunk in _claimed(self._token_r, self._chunks):
                for index in chunk:
                    results[index] = hash_one(paths[index])
            reported = _read_results(self._result_r)
            finished = True
        finally:
            self.end(kill=not finished)
        for index, result in reported:
            results[index] = result
        # What the helper did not report (it failed) is done here, and so is each file it
        # could not read (an empty digest): hashing it here raises the InputError naming it.
        return [
            hash_one(paths[index]) if result is None or result[0] == "" else result
            for index, result in enumerate(results)
        ]

    def end(self, *, kill: bool) -> None:
        """Close the pipes and reap the helper (killed first if its work is not wanted)."""
        if self._pid is None:
            return
        pid, self._pid = self._pid, None
        os.close(self._token_r)
        os.close(self._result_r)
        if kill:
            import signal  # only on this path (start-up time counts)

            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _claimed(token_r: int, chunks: Sequence[range]) -> Iterator[range]:
    while token := os.read(token_r, 1):
        yield chunks[token[0]]


def _child(
    paths: Sequence[str],
    chunks: Sequence[range],
    hash_one: Callable[[str], _Result],
    token_r: int,
    result_pipe: tuple[int, int],
) -> NoReturn:
    """The forked helper: hash the chunks it claims, send the results, exit (never return)."""
    status = 1
    try:
        os.close(result_pipe[0])
        done: list[tuple[int, _Result]] = []
        for chunk in _claimed(token_r, chunks):
            for index in chunk:
                try:
                    done.append((index, hash_one(paths[index])))
                except InputError:
                    done.append((index, ("", None)))
        view = memoryview(marshal.dumps(done))
        while view:
            view = view[os.write(result_pipe[1], view) :]
        status = 0
    finally:
        os._exit(status)


def _read_results(result_r: int) -> list[tuple[int, _Result]]:
    """The helper's results; nothing if it failed before sending them all."""
    chunks: list[bytes] = []
    while chunk := os.read(result_r, READ_SIZE):
        chunks.append(chunk)
    try:
        # Our own forked child wrote this, into a pipe only the two processes hold.
        results = marshal.loads(b"".join(chunks))  # noqa: S302
    except (EOFError, ValueError, TypeError):
        return []
    return results if isinstance(results, list) else []


# --- large files --------------------------------------------------------------------------


def _hash_large(path: str, normalize: bool, keyed: bool) -> _Result:
    view = memoryview(bytearray(READ_SIZE))
    fd = _open(path)
    digest = hashlib.sha256()
    key = None
    try:
        if keyed:
            key = _key(os.fstat(fd))
        if normalize:
            _update_normalized(digest, fd, view)
        else:
            while count := os.readv(fd, [view]):
                digest.update(view[:count])
    except OSError as exc:
        raise InputError(f"{path!r} cannot be read ({exc.strerror})") from exc
    finally:
        os.close(fd)
    return digest.hexdigest(), key


def _update_normalized(digest: hashlib._Hash, fd: int, view: memoryview) -> None:
    """Hash with CRLF and lone CR turned into LF (a CR at a read boundary waits for the next)."""
    carry = b""
    while count := os.readv(fd, [view]):
        data = carry + bytes(view[:count])
        carry = b""
        if data.endswith(b"\r"):
            data, carry = data[:-1], b"\r"
        digest.update(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    if carry:
        digest.update(b"\n")


def _hash_large_files(
    paths: Sequence[str],
    normalize: bool,
    keyed: bool,
    workers: int | None,
) -> list[_Result]:
    hash_large = _hash_large
    count = min(len(paths), workers or min(_MAX_WORKERS, 2 * (os.cpu_count() or 1)))
    if count <= 1:
        return [hash_large(path, normalize, keyed) for path in paths]
    # Imported here: most recordings have no large file, and start-up time counts.
    import threading

    results: list[_Result] = [(None, None)] * len(paths)
    errors: dict[int, BaseException] = {}
    pending = iter(range(len(paths)))
    lock = threading.Lock()

    def work() -> None:
        while not errors:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            try:
                results[index] = hash_large(paths[index], normalize, keyed)
            except BaseException as exc:  # handed to the caller's thread below
                errors[index] = exc

    threads = [threading.Thread(target=work, name="intoto-hash", daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[min(errors)]
    return results
