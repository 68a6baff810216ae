"""Reading wheels and sdists without trusting them.

``SafeArchive.open`` checks the whole listing before anything is read or written: regular files
and folders only, clean and distinct names (see :mod:`intoto_pip.archives.names`), and caps.

Zip (wheels, legacy ``.zip`` sdists) is parsed by our own reader (``_zip.py``), not by
:mod:`zipfile`, so that one parser decides what the archive holds, and an archive that two
readers could read differently is refused: the end record must close the file (archive
comments and appended bytes are refused), one end record only, a zip64 end record without
"extensible data" (where zipfile would find a second one), zip64 and classic end records that
agree, no record signature hidden in a directory entry's name, extra fields or comment, one
disk only, and every central-directory entry must point at a local header with the same name,
flags, method and sizes (and no Unicode-path field naming another file in either). Member data
must tile the file exactly from offset 0 to the central directory: prepended bytes, gaps, and
two entries sharing or overlapping data (the classic zip bomb and parser-confusion trick) are
refused. Encrypted members, methods other than stored and deflate, flags beyond the known
ones (patched data, reserved bits), a "version needed" past 6.3, symbolic links and devices
(Unix mode in the external attributes), non-ASCII names without the UTF-8 flag, and zip64
fields that disagree are refused. Data descriptors must agree with the central directory.
``tests/archives/test_zip_differential.py`` holds us to it: whatever we accept, ``zipfile``
reads with the same names and bytes.

Tar (``.tar.gz`` sdists, ``_tar.py``) is read as a stream with :mod:`tarfile` behind a gzip
decoder of our own: only regular files and folders (no links, devices, FIFOs, sparse files),
UTF-8 names (pax headers may rename a member; the final name is what is checked), no malformed
header anywhere, nothing but zeros after the end-of-archive marker, and nothing after the gzip
stream.

Caps are the fields of ``ArchiveLimits`` (:mod:`intoto_pip.archives.limits`, which says why
each was chosen): member count, size per member and in total, and a compression ratio checked
only above a size where it matters (a zip member, a zip's members in total, a ``.tar.gz``
stream).

Declared sizes are never trusted alone: while streaming, a zip member is cut off as soon as it
yields more than its declared size, a gzip stream as soon as it passes its cap, and CRCs and
lengths are checked at the end of each member.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Literal, Self

from intoto_pip.archives._listing import (
    CHUNK,
    Kind,
    Member,
    Select,
    _member_error,
    _read_some,
    _Reader,
)
from intoto_pip.archives._tar import _TarReader
from intoto_pip.archives._zip import _ZipReader
from intoto_pip.archives.limits import DEFAULT_LIMITS, ArchiveLimits
from intoto_pip.archives.sandbox import PrivateWriter
from intoto_pip.errors import ArchiveError, InputError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["DEFAULT_LIMITS", "ArchiveLimits", "Kind", "Member", "SafeArchive", "Select"]


class _Content(Iterator[bytes]):
    """A member's bytes in chunks, hashed and counted as they pass; ``sha256`` once exhausted."""

    def __init__(
        self, chunks: Iterator[bytes], spend: Callable[[int], None], done: Callable[[str], None]
    ) -> None:
        self._chunks, self._spend, self._done = chunks, spend, done
        self._hash = hashlib.sha256()
        self.sha256: str | None = None

    def __next__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            if self.sha256 is None:
                self.sha256 = self._hash.hexdigest()
                self._done(self.sha256)
            raise
        self._spend(len(chunk))
        self._hash.update(chunk)
        return chunk


class _ChunkStream(io.RawIOBase):
    """A read-only raw stream over an iterator of chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def _kind_of(filename: str) -> tuple[Kind, Literal["zip", "tar"]]:
    if filename.endswith(".whl"):
        return "wheel", "zip"
    if filename.endswith(".tar.gz"):
        return "sdist", "tar"
    if filename.endswith(".zip"):
        return "sdist", "zip"
    raise ArchiveError(f"{filename}: is neither a wheel (.whl) nor an sdist (.tar.gz, .zip)")


def _open_regular(path: Path) -> tuple[BinaryIO, int]:
    # O_NONBLOCK: opening a FIFO must not hang; it changes nothing for a regular file.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InputError(f"cannot read archive {path}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ArchiveError(f"{path.name}: is not a regular file")
    return os.fdopen(fd, "rb"), info.st_size


class SafeArchive:
    """A wheel or sdist whose listing passed every structural check.

    Open with :meth:`open`; use as a context manager (or call :meth:`close`). Content is read
    from the file object opened then, never from the path again; a tar stream read a second time
    must list the same members with the same hashes, or reading fails. Not thread-safe.
    """

    def __init__(
        self, *, path: Path, kind: Kind, file: BinaryIO, reader: _Reader, limits: ArchiveLimits
    ) -> None:
        self.path, self.filename, self.kind, self.limits = path, path.name, kind, limits
        self.members: tuple[Member, ...] = reader.members
        self.directories: tuple[str, ...] = reader.directories
        self._file, self._reader = file, reader
        self._by_name = {member.name: member for member in self.members}
        self._hashes: dict[str, str] = dict(reader.hashes)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        limits: ArchiveLimits = DEFAULT_LIMITS,
        known_sha256: Mapping[str, str] | None = None,
    ) -> SafeArchive:
        """Open ``path`` and check its whole listing; ArchiveError on any problem.

        The kind comes from the file name: ``.whl`` is a wheel, ``.tar.gz`` or ``.zip`` an
        sdist. A .tar.gz is read through once here (its members are hashed on the way).
        ``known_sha256``: the members' hashes as an earlier reading of the same file found
        them (verification, in another process); every member read is checked against them,
        as against the hashes of a first read, and hashing all members costs nothing.
        """
        kind, fmt = _kind_of(path.name)
        file, size = _open_regular(path)
        try:
            reader_type = _ZipReader if fmt == "zip" else _TarReader
            reader: _Reader = reader_type(file, size, path.name, limits)
        except BaseException:
            file.close()
            raise
        archive = cls(path=path, kind=kind, file=file, reader=reader, limits=limits)
        for name, digest in (known_sha256 or {}).items():
            if name in archive._by_name and archive._hashes.setdefault(name, digest) != digest:
                archive.close()
                raise _member_error(path.name, name, "changed since it was verified")
        return archive

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def member(self, name: str) -> Member:
        """The regular member called ``name``; ArchiveError when there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ArchiveError(f"{self.filename}: has no member {name!r}") from None

    def read(self, name: str) -> bytes:
        """The whole content of member ``name``, with every cap and check applied."""
        self.member(name)
        for _member, content in self._contents(lambda candidate: candidate == name):
            return b"".join(content)
        raise ArchiveError(f"{self.filename}: has no member {name!r}")

    def iter_files(self, select: Select | None = None) -> Iterator[tuple[Member, Iterator[bytes]]]:
        """Each selected regular member, in archive order, with an iterator over its bytes.

        Chunks are at most 1 MiB. Consume a member's iterator before advancing (a tar.gz is one
        stream); a member's size, CRC and hash are checked when its iterator is exhausted, and
        an ArchiveError can surface from either iterator.
        """
        yield from self._contents(select)

    def iter_streams(self, select: Select | None = None) -> Iterator[tuple[Member, BinaryIO]]:
        """As :meth:`iter_files`, with each member's bytes as a readable binary stream (what
        ``installer``'s ``WheelSource.get_contents`` hands out). Read a stream to its end
        before advancing: the checks (size, CRC, hash) run when it is exhausted."""
        for member, content in self._contents(select):
            yield member, io.BufferedReader(_ChunkStream(content), buffer_size=CHUNK)

    def raw_chunks(self) -> Iterator[bytes]:
        """The archive file's own bytes, read from the file opened and checked, never from the
        path again (someone may have replaced the file at that path since)."""
        position = 0
        while chunk := _read_some(self._file, position):
            position += len(chunk)
            yield chunk

    def sha256_of_members(self) -> dict[str, str]:
        """{name: sha256 hex} of every regular member, in archive order; writes nothing."""
        if len(self._hashes) != len(self.members):
            for _member, content in self._contents(lambda name: name not in self._hashes):
                for _chunk in content:
                    pass
        return {member.name: self._hashes[member.name] for member in self.members}

    def extract_to(self, dest: Path, *, select: Select | None = None) -> dict[str, str]:
        """Write the selected regular members below ``dest``; {name: sha256 hex} of each.

        ``dest`` must be an empty folder only the current user can enter (ValueError
        otherwise). Files are created with O_EXCL|O_NOFOLLOW, hashed while written. Folder
        members are not written (parents are created as needed). On an ArchiveError part of
        the tree may exist: discard ``dest``.
        """
        writer = PrivateWriter(dest)
        written: dict[str, str] = {}
        for member, content in self._contents(select):
            writer.write(member.name, content, executable=member.executable)
            assert content.sha256 is not None  # set once writing exhausted the iterator
            written[member.name] = content.sha256
        return written

    def _contents(self, select: Select | None) -> Iterator[tuple[Member, _Content]]:
        total = 0

        def spend(size: int) -> None:
            nonlocal total
            total += size
            if total > self.limits.max_total_size:
                cap = self.limits.max_total_size
                raise ArchiveError(f"{self.filename}: yields more than {cap} bytes in total")

        for member, chunks in self._reader.stream(select):
            done = self._remember_hash(member.name)
            yield member, _Content(chunks, spend, done)

    def _remember_hash(self, name: str) -> Callable[[str], None]:
        def done(digest: str) -> None:
            if self._hashes.setdefault(name, digest) != digest:
                raise _member_error(self.filename, name, "changed since the archive was opened")

        return done
