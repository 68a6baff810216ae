"""The ``.tar.gz`` reader behind ``SafeArchive`` (sdists); see archive.py."""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Self

from intoto_pip.archives._listing import (
    _READ,
    CHUNK,
    Member,
    Select,
    _Listing,
    _member_error,
    _read_at,
)
from intoto_pip.archives.limits import DEFAULT_LIMITS, ArchiveLimits
from intoto_pip.errors import ArchiveError


class _GzipStream:
    """The decompressed bytes of a .tar.gz, read by tarfile; refuses bombs and trailing bytes."""

    def __init__(self, file: BinaryIO, file_size: int, where: str, limits: ArchiveLimits):
        self._file, self._size, self._where = file, file_size, where
        self._ratio = limits.max_ratio
        self._cap = limits.ratio_cap(file_size)
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing, CRC, ISIZE
        self._pos = self._produced = 0
        self._buffer = bytearray()
        self._done = False

    def read(self, size: int = -1, /) -> bytes:
        want = self._cap if size < 0 else size
        while len(self._buffer) < want and not self._done:
            self._buffer += self._step()
        out = bytes(self._buffer[:want])
        del self._buffer[:want]
        return out

    def _step(self) -> bytes:
        data = self._inflater.unconsumed_tail
        if not data and self._pos < self._size:
            data = _read_at(self._file, self._pos, min(_READ, self._size - self._pos), self._where)
            self._pos += len(data)
        try:
            out = self._inflater.decompress(data, CHUNK)
        except zlib.error as exc:
            raise ArchiveError(f"{self._where}: is not a valid gzip stream ({exc})") from None
        self._produced += len(out)
        if self._produced > self._cap:
            cap = self._ratio
            raise ArchiveError(f"{self._where}: expands more than {cap}:1 (gzip bomb?)")
        if self._inflater.eof:
            if self._inflater.unused_data or self._pos < self._size:
                raise ArchiveError(f"{self._where}: has bytes after the end of its gzip stream")
            self._done = True
        elif not out and not self._inflater.unconsumed_tail and self._pos >= self._size:
            raise ArchiveError(f"{self._where}: gzip stream is truncated")
        return out

    def tell(self) -> int:
        return self._produced - len(self._buffer)

    def write(self, data: bytes, /) -> int:
        raise OSError("read-only stream")

    def seek(self, pos: int, /) -> int:
        raise OSError("not seekable")

    def close(self) -> None:
        self._buffer.clear()


class _HeaderRefused(Exception):
    """Raised from inside tarfile, where the archive's name is not known."""


_EXTENDED_TYPES = frozenset(
    {
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
    }
)
_TYPE_PROBLEMS = {
    tarfile.SYMTYPE: "is a symbolic link",
    tarfile.LNKTYPE: "is a hard link",
    tarfile.CHRTYPE: "is a character device",
    tarfile.BLKTYPE: "is a block device",
    tarfile.FIFOTYPE: "is a FIFO",
    tarfile.GNUTYPE_SPARSE: "is a sparse file",
}


class _StrictTarInfo(tarfile.TarInfo):
    """tarfile silently ends the archive at a bad header; we refuse it instead."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Self:
        if len(buf) == tarfile.BLOCKSIZE and buf.count(0) == tarfile.BLOCKSIZE:
            return super().frombuf(buf, encoding, errors)  # end-of-archive block
        if not buf:
            raise _HeaderRefused("ends without an end-of-archive marker")
        try:
            info = super().frombuf(buf, encoding, errors)
        except (tarfile.HeaderError, UnicodeError, ValueError) as exc:
            raise _HeaderRefused(f"has a malformed tar header ({exc})") from None
        cap = DEFAULT_LIMITS.max_extended_header  # tarfile gives this hook no settings
        if info.type in _EXTENDED_TYPES and info.size > cap:
            raise _HeaderRefused(f"has an extended header over {cap} bytes")
        if info.type == tarfile.GNUTYPE_SPARSE:
            raise _HeaderRefused("has a sparse member")
        return info


def _tar_type_problem(info: tarfile.TarInfo) -> str | None:
    if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        return "is a sparse file" if info.sparse is not None else None
    if info.type == tarfile.DIRTYPE:
        return "is a directory with data" if info.size else None
    return _TYPE_PROBLEMS.get(info.type, f"has unsupported tar type {info.type!r}")


class _TarReader:
    def __init__(self, file: BinaryIO, file_size: int, where: str, limits: ArchiveLimits):
        self._file, self._size, self._where, self._limits = file, file_size, where, limits
        self.hashes: dict[str, str] = {}
        listing = _Listing(where, limits)
        self._sequence: list[tuple[str, bytes, int]] = []
        for info, tar in self._headers():
            name, is_dir = info.name, info.isdir()
            problem = _tar_type_problem(info)
            if problem:
                raise _member_error(where, name, problem)
            listing.add(name, is_dir=is_dir, size=info.size, executable=bool(info.mode & 0o111))
            self._sequence.append((name, info.type, info.size))
            if not is_dir:
                digest = hashlib.sha256()
                for chunk in self._chunks(tar, info):
                    digest.update(chunk)
                self.hashes[name] = digest.hexdigest()
        self.members = tuple(listing.members)
        self.directories = tuple(listing.directories)

    def _headers(self) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
        """Every header in order; afterwards, only zeros may remain."""
        stream = _GzipStream(self._file, self._size, self._where, self._limits)
        last = None
        try:
            with tarfile.open(
                fileobj=stream, mode="r|", tarinfo=_StrictTarInfo, encoding="utf-8", errors="strict"
            ) as tar:
                for count in range(1, self._limits.max_members + 2):
                    info = tar.next()
                    if info is None:
                        break
                    if count > self._limits.max_members:
                        cap = self._limits.max_members
                        raise ArchiveError(f"{self._where}: has more than {cap} members")
                    last = info.name
                    yield info, tar
                self._check_end(tar)
        except _HeaderRefused as exc:
            after = f" (after member {last!r})" if last else ""
            raise ArchiveError(f"{self._where}: {exc}{after}") from None
        except (tarfile.TarError, EOFError, UnicodeError) as exc:
            raise ArchiveError(f"{self._where}: is not a valid tar archive ({exc})") from None

    def _check_end(self, tar: tarfile.TarFile) -> None:
        while chunk := tar.fileobj.read(CHUNK):
            if chunk.count(0) != len(chunk):
                raise ArchiveError(f"{self._where}: has data after its end-of-archive marker")

    def _chunks(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> Iterator[bytes]:
        data = tar.extractfile(info)
        if data is None:  # not a regular file: excluded before we get here
            raise _member_error(self._where, info.name, "is not a regular file")
        try:
            while chunk := data.read(CHUNK):
                yield chunk
        except (tarfile.TarError, EOFError) as exc:
            raise _member_error(self._where, info.name, f"cannot be read ({exc})") from None

    def stream(self, select: Select | None) -> Iterator[tuple[Member, Iterator[bytes]]]:
        members = {member.name: member for member in self.members}
        seen = 0
        for info, tar in self._headers():
            expected = self._sequence[seen] if seen < len(self._sequence) else None
            if expected != (info.name, info.type, info.size):
                raise ArchiveError(f"{self._where}: changed since it was opened")
            seen += 1
            if not info.isdir() and (select is None or select(info.name)):
                yield members[info.name], self._chunks(tar, info)
        if seen != len(self._sequence):
            raise ArchiveError(f"{self._where}: changed since it was opened")
