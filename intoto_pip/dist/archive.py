"""Reading wheels and sdists without trusting them.

``SafeArchive.open`` checks the whole listing before anything is read or written: regular files
and folders only, clean and distinct names (see :mod:`intoto_pip.dist.names`), and caps.

Zip (wheels, legacy ``.zip`` sdists) is parsed here, not by :mod:`zipfile`, so that one parser
decides what the archive holds: the end record must close the file (archive comments and
appended bytes are refused), one disk only, and every central-directory entry must point at a
local header with the same name, flags, method and sizes. Member data must tile the file
exactly from offset 0 to the central directory: prepended bytes, gaps, and two entries sharing
or overlapping data (the classic zip bomb and parser-confusion trick) are refused. Encrypted
members, methods other than stored and deflate, symbolic links and devices (Unix mode in the
external attributes), non-ASCII names without the UTF-8 flag, and zip64 fields that disagree
are refused. Data descriptors must agree with the central directory.

Tar (``.tar.gz`` sdists) is read as a stream with :mod:`tarfile` behind a gzip decoder of our
own: only regular files and folders (no links, devices, FIFOs, sparse files), UTF-8 names (pax
headers may rename a member; the final name is what is checked), no malformed header anywhere,
nothing but zeros after the end-of-archive marker, and nothing after the gzip stream.

Caps (``ArchiveLimits``), chosen to admit the largest real wheels on PyPI (multi-GB CUDA
wheels with ~10^5 files) while refusing bombs quickly:

- ``max_members = 200_000`` entries (files and folders);
- ``max_total_size = 8 GiB`` of member data, ``max_member_size = 4 GiB`` per member;
- ``max_ratio = 200``: a zip member larger than ``ratio_floor = 1 MiB`` may not expand more than
  200:1 (deflate reaches ~1030:1 only on degenerate input). A ``.tar.gz`` is one compressed
  stream, so there the cap applies to the whole stream: it may not decompress to more than
  ``max(ratio_floor, 200 * compressed size)`` bytes.

Declared sizes are never trusted alone: while streaming, a zip member is cut off as soon as it
yields more than its declared size, a gzip stream as soon as it passes its cap, and CRCs and
lengths are checked at the end of each member.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal, Protocol, Self

from intoto_pip.dist.names import NameSet, member_name_problem
from intoto_pip.dist.sandbox import PrivateWriter
from intoto_pip.errors import ArchiveError, InputError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
CHUNK = 1 * MIB  # most bytes produced per decompression step
_READ = 256 * KIB  # compressed bytes read at once
MAX_EXTENDED_HEADER = 1 * MIB  # pax / GNU long-name header data, held in memory by tarfile

Kind = Literal["wheel", "sdist"]
Select = Callable[[str], bool]


@dataclass(frozen=True, kw_only=True)
class Member:
    """A regular file in an archive: its clean relative POSIX name and its size in bytes."""

    name: str
    size: int
    executable: bool = False


@dataclass(frozen=True, kw_only=True)
class ArchiveLimits:
    """Caps applied before and while reading (see the module docstring for the reasoning)."""

    max_members: int = 200_000
    max_total_size: int = 8 * GIB
    max_member_size: int = 4 * GIB
    max_ratio: int = 200
    ratio_floor: int = 1 * MIB

    def __post_init__(self) -> None:
        for field in ("max_members", "max_total_size", "max_member_size", "max_ratio"):
            if getattr(self, field) < 1:
                raise ValueError(f"ArchiveLimits.{field} must be at least 1")


DEFAULT_LIMITS = ArchiveLimits()


def _member_error(where: str, name: str, problem: str) -> ArchiveError:
    return ArchiveError(f"{where}: member {name!r} {problem}")


def _read_at(file: BinaryIO, offset: int, size: int, where: str) -> bytes:
    file.seek(offset)
    data = file.read(size)
    if len(data) != size:
        raise ArchiveError(f"{where}: is truncated")
    return data


def _read_some(file: BinaryIO, offset: int) -> bytes:
    file.seek(offset)
    return file.read(CHUNK)


class _Reader(Protocol):
    members: tuple[Member, ...]
    directories: tuple[str, ...]
    hashes: dict[str, str]  # sha256 hex of members already read while opening

    def stream(self, select: Select | None) -> Iterator[tuple[Member, Iterator[bytes]]]: ...


class _Listing:
    """Checks names, counts and declared sizes of members as they are listed."""

    def __init__(self, where: str, limits: ArchiveLimits) -> None:
        self.where, self.limits = where, limits
        self.members: list[Member] = []
        self.directories: list[str] = []
        self._names = NameSet()
        self._total = 0

    def add(self, name: str, *, is_dir: bool, size: int, executable: bool = False) -> None:
        problem = member_name_problem(name) or self._names.add(name, is_dir=is_dir)
        if problem:
            raise _member_error(self.where, name, problem)
        if is_dir:
            self.directories.append(name)
            return
        if not 0 <= size <= self.limits.max_member_size:
            cap = self.limits.max_member_size
            raise _member_error(self.where, name, f"has size {size}, over the cap of {cap} bytes")
        self._total += size
        if self._total > self.limits.max_total_size:
            cap = self.limits.max_total_size
            raise _member_error(self.where, name, f"takes the total size over {cap} bytes")
        self.members.append(Member(name=name, size=size, executable=executable))


# --- zip --------------------------------------------------------------------------------------

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_DESCRIPTOR_SIG = b"PK\x07\x08"
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_ENCRYPTED, _DESCRIPTOR, _STRONG, _UTF8, _MASKED = 0x1, 0x8, 0x40, 0x800, 0x2000
_SHARED_FLAGS = _ENCRYPTED | _DESCRIPTOR | _STRONG | _UTF8
_STORED, _DEFLATED = 0, 8
_ZIP64_EXTRA, _UNICODE_PATH_EXTRA = 0x0001, 0x7075
_DOS_DIRECTORY = 0x10


@dataclass(frozen=True, kw_only=True)
class _ZipEntry:
    name: str
    raw_name: bytes
    is_dir: bool
    executable: bool
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int
    data_offset: int = -1


def _find_central_directory(file: BinaryIO, file_size: int, where: str) -> tuple[int, int, int]:
    """Locate the central directory: (offset, size, number of entries)."""
    if file_size < _EOCD.size:
        raise ArchiveError(f"{where}: is not a zip archive (too short)")
    eocd_at = file_size - _EOCD.size
    fields = _EOCD.unpack(_read_at(file, eocd_at, _EOCD.size, where))
    sig, disk, cd_disk, disk_count, count, cd_size, cd_offset, comment_len = fields
    if sig != b"PK\x05\x06" or comment_len:
        raise ArchiveError(
            f"{where}: does not end with a zip end record "
            "(archive comments and appended bytes are refused)"
        )
    if disk or cd_disk or disk_count != count:
        raise ArchiveError(f"{where}: is a multi-disk zip archive")
    dir_end = eocd_at
    zip64 = _read_zip64_end(file, eocd_at, where)
    if zip64 is None:
        if count == _U16 or _U32 in (cd_size, cd_offset):
            raise ArchiveError(f"{where}: has zip64 markers but no zip64 end record")
    else:
        pairs = ((count, zip64[2], _U16), (cd_size, zip64[1], _U32), (cd_offset, zip64[0], _U32))
        if any(small not in (big, sentinel) for small, big, sentinel in pairs):
            raise ArchiveError(f"{where}: zip64 end record disagrees with the end record")
        cd_offset, cd_size, count, dir_end = zip64
    if cd_offset + cd_size != dir_end:
        raise ArchiveError(f"{where}: central directory does not end where the end record begins")
    return cd_offset, cd_size, count


def _read_zip64_end(file: BinaryIO, eocd_at: int, where: str) -> tuple[int, int, int, int] | None:
    """(cd offset, cd size, count, record offset) from a zip64 end record, if there is one."""
    locator_at = eocd_at - _ZIP64_LOCATOR.size
    if locator_at < 0:
        return None
    sig, disk, record_at, disks = _ZIP64_LOCATOR.unpack(
        _read_at(file, locator_at, _ZIP64_LOCATOR.size, where)
    )
    if sig != b"PK\x06\x07":
        return None
    if disk or disks > 1:
        raise ArchiveError(f"{where}: is a multi-disk zip archive")
    if record_at + _ZIP64_EOCD.size > locator_at:
        raise ArchiveError(f"{where}: has a malformed zip64 end record")
    fields = _ZIP64_EOCD.unpack(_read_at(file, record_at, _ZIP64_EOCD.size, where))
    sig, record_size, _made, _needed, disk, cd_disk, disk_count, count, cd_size, cd_offset = fields
    if sig != b"PK\x06\x06" or record_at + 12 + record_size != locator_at:
        raise ArchiveError(f"{where}: has a malformed zip64 end record")
    if disk or cd_disk or disk_count != count:
        raise ArchiveError(f"{where}: is a multi-disk zip archive")
    return cd_offset, cd_size, count, record_at


def _extra_fields(extra: bytes, where: str, name: str) -> dict[int, bytes]:
    fields: dict[int, bytes] = {}
    pos = 0
    while pos < len(extra):
        if pos + 4 > len(extra):
            raise _member_error(where, name, "has a truncated extra field")
        field_id, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra) or field_id in fields:
            raise _member_error(where, name, "has a malformed or repeated extra field")
        fields[field_id] = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return fields


def _decode_name(raw: bytes, flags: int, where: str) -> str:
    # Without the UTF-8 flag the name would be CP437 to some tools and UTF-8 to others.
    encoding = "utf-8" if flags & _UTF8 else "ascii"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        shown = raw.decode("utf-8", "backslashreplace")
        raise _member_error(where, shown, f"has a name that is not valid {encoding}") from None


def _resolve_zip64(fields: dict[int, bytes], values: list[int], where: str, name: str) -> list[int]:
    """Replace 0xFFFFFFFF sizes/offset (in that order) by their zip64 extra values."""
    needed = [i for i, value in enumerate(values) if value == _U32]
    if not needed:
        return values
    extra = fields.get(_ZIP64_EXTRA, b"")
    if len(extra) < 8 * len(needed):
        raise _member_error(where, name, "lacks the zip64 sizes its header announces")
    resolved = list(values)
    for slot, index in enumerate(needed):
        resolved[index] = struct.unpack_from("<Q", extra, 8 * slot)[0]
    return resolved


def _check_unicode_path(fields: dict[int, bytes], name: str, where: str) -> None:
    # Some tools prefer this Info-ZIP field over the header name: it must say the same.
    field = fields.get(_UNICODE_PATH_EXTRA)
    if field is not None and field[5:] != name.encode("utf-8"):
        raise _member_error(where, name, "has a Unicode path extra field naming another file")


def _entry_kind(name: str, external: int, size: int, where: str) -> tuple[bool, bool]:
    """(is a directory, is executable) from the name and the external attributes."""
    mode = external >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise _member_error(where, name, "is a symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _member_error(where, name, "is not a regular file or directory")
    is_dir = name.endswith("/")
    if not is_dir and (kind == stat.S_IFDIR or external & _DOS_DIRECTORY):
        raise _member_error(where, name, "is a directory by its attributes but not its name")
    if is_dir and kind == stat.S_IFREG:
        raise _member_error(where, name, "is a directory by its name but not its attributes")
    if is_dir and size:
        raise _member_error(where, name, "is a directory with data")
    return is_dir, bool(mode & 0o111) and not is_dir


def _entry_problem(flags: int, method: int, compressed: int, size: int) -> str | None:
    if flags & (_ENCRYPTED | _STRONG | _MASKED):
        return "is encrypted"
    if method not in (_STORED, _DEFLATED):
        return f"uses unsupported compression method {method}"
    if method == _STORED and compressed != size:
        return "is stored but its compressed and plain sizes differ"
    return None


def _central_entry(data: bytes, pos: int, where: str) -> tuple[_ZipEntry, int]:
    if pos + _CENTRAL.size > len(data):
        raise ArchiveError(f"{where}: central directory is truncated")
    fields = _CENTRAL.unpack_from(data, pos)
    sig, _made, _needed, flags, method, _time, _date, crc, compressed, size = fields[:10]
    name_len, extra_len, comment_len, disk, _internal, external, offset = fields[10:]
    start = pos + _CENTRAL.size
    end = start + name_len + extra_len + comment_len
    if sig != b"PK\x01\x02" or end > len(data):
        raise ArchiveError(f"{where}: central directory is malformed")
    raw_name = data[start : start + name_len]
    name = _decode_name(raw_name, flags, where)
    extras = _extra_fields(data[start + name_len : start + name_len + extra_len], where, name)
    size, compressed, offset = _resolve_zip64(extras, [size, compressed, offset], where, name)
    _check_unicode_path(extras, name, where)
    problem = _entry_problem(flags, method, compressed, size) or (
        "is on another disk" if disk else None
    )
    if problem:
        raise _member_error(where, name, problem)
    is_dir, executable = _entry_kind(name, external, size, where)
    entry = _ZipEntry(
        name=name.removesuffix("/") if is_dir else name,
        raw_name=raw_name,
        is_dir=is_dir,
        executable=executable,
        flags=flags,
        method=method,
        crc=crc,
        compressed_size=compressed,
        size=size,
        header_offset=offset,
    )
    return entry, end


def _check_ratio(entry: _ZipEntry, where: str, limits: ArchiveLimits) -> None:
    if entry.size > limits.ratio_floor and entry.size > limits.max_ratio * entry.compressed_size:
        ratio = entry.size // max(entry.compressed_size, 1)
        problem = f"expands {ratio}:1, over the cap of {limits.max_ratio}:1 (zip bomb?)"
        raise _member_error(where, entry.name, problem)


def _local_sizes(head: tuple[int, ...], extras: dict[int, bytes]) -> tuple[int, int, int]:
    """(crc, compressed size, size) as the local header states them."""
    crc, compressed, size = head[6], head[7], head[8]
    zip64 = extras.get(_ZIP64_EXTRA)
    if zip64 is not None and len(zip64) >= 16:
        # In a local header the zip64 field always holds both sizes.
        plain64, compressed64 = struct.unpack_from("<QQ", zip64)
        size = plain64 if size == _U32 else size
        compressed = compressed64 if compressed == _U32 else compressed
    return crc, compressed, size


def _check_local(file: BinaryIO, entry: _ZipEntry, where: str) -> tuple[int, int]:
    """Check the local header against the central entry: (data offset, end of the member)."""
    head = _LOCAL.unpack(_read_at(file, entry.header_offset, _LOCAL.size, where))
    name_len, extra_len = head[9], head[10]
    tail = _read_at(file, entry.header_offset + _LOCAL.size, name_len + extra_len, where)
    if head[0] != b"PK\x03\x04":
        raise _member_error(where, entry.name, "has no local header where the directory points")
    if tail[:name_len] != entry.raw_name:
        raise _member_error(where, entry.name, "has another name in its local header")
    if (head[2] ^ entry.flags) & _SHARED_FLAGS or head[3] != entry.method:
        raise _member_error(where, entry.name, "has a local header that disagrees on flags")
    extras = _extra_fields(tail[name_len:], where, entry.name)
    stated = _local_sizes(head, extras)
    expected = (entry.crc, entry.compressed_size, entry.size)
    deferred = entry.flags & _DESCRIPTOR
    if any(
        got != want and not (deferred and got == 0)
        for got, want in zip(stated, expected, strict=True)
    ):
        raise _member_error(where, entry.name, "has a local header that disagrees on sizes")
    data_offset = entry.header_offset + _LOCAL.size + name_len + extra_len
    end = data_offset + entry.compressed_size
    if deferred:
        end += _descriptor_length(file, entry, end, _ZIP64_EXTRA in extras, where)
    return data_offset, end


def _descriptor_length(
    file: BinaryIO, entry: _ZipEntry, offset: int, zip64: bool, where: str
) -> int:
    layout = struct.Struct("<IQQ" if zip64 else "<III")
    file.seek(offset)
    raw = file.read(4 + layout.size)
    expected = (entry.crc, entry.compressed_size, entry.size)
    for start in (4, 0) if raw[:4] == _DESCRIPTOR_SIG else (0,):
        if len(raw) >= start + layout.size and layout.unpack_from(raw, start) == expected:
            return start + layout.size
    raise _member_error(where, entry.name, "has a data descriptor that disagrees with its entry")


def _check_tiling(
    file: BinaryIO, entries: list[_ZipEntry], cd_offset: int, where: str
) -> list[_ZipEntry]:
    """Members must cover the file from 0 to the central directory with no gap or overlap."""
    located: dict[int, _ZipEntry] = {}
    expected, previous = 0, None
    for index, entry in sorted(enumerate(entries), key=lambda pair: pair[1].header_offset):
        if entry.header_offset < expected and previous is not None:
            raise _member_error(where, entry.name, f"overlaps the data of {previous.name!r}")
        if entry.header_offset != expected:
            raise _member_error(where, entry.name, "is preceded by bytes outside any member")
        data_offset, expected = _check_local(file, entry, where)
        if expected > cd_offset:
            raise _member_error(where, entry.name, "runs into the central directory")
        located[index] = replace(entry, data_offset=data_offset)
        previous = entry
    if expected != cd_offset:
        raise ArchiveError(f"{where}: has bytes between the last member and the central directory")
    return [located[index] for index in range(len(entries))]


def _inflate(blocks: Iterator[bytes], entry: _ZipEntry, where: str) -> Iterator[bytes]:
    if entry.method == _STORED:
        yield from blocks
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for block in blocks:
            data = block
            while True:
                out = inflater.decompress(data, CHUNK)
                if out:
                    yield out
                data = inflater.unconsumed_tail
                if not data and (len(out) < CHUNK or inflater.eof):
                    break
    except zlib.error:
        raise _member_error(where, entry.name, "has corrupt compressed data") from None
    if not inflater.eof or inflater.unused_data:
        raise _member_error(where, entry.name, "has compressed data of the wrong length")


class _ZipReader:
    def __init__(self, file: BinaryIO, file_size: int, where: str, limits: ArchiveLimits):
        self._file, self._where = file, where
        cd_offset, cd_size, count = _find_central_directory(file, file_size, where)
        if count > limits.max_members:
            raise ArchiveError(
                f"{where}: has {count} members, over the cap of {limits.max_members}"
            )
        data = _read_at(file, cd_offset, cd_size, where)
        entries, pos = [], 0
        for _ in range(count):
            entry, pos = _central_entry(data, pos, where)
            entries.append(entry)
        if pos != len(data):
            raise ArchiveError(f"{where}: central directory has bytes after its last entry")
        listing = _Listing(where, limits)
        for entry in entries:
            listing.add(
                entry.name, is_dir=entry.is_dir, size=entry.size, executable=entry.executable
            )
            _check_ratio(entry, where, limits)
        self._entries = [e for e in _check_tiling(file, entries, cd_offset, where) if not e.is_dir]
        self.members = tuple(listing.members)
        self.directories = tuple(listing.directories)
        self.hashes: dict[str, str] = {}

    def stream(self, select: Select | None) -> Iterator[tuple[Member, Iterator[bytes]]]:
        for member, entry in zip(self.members, self._entries, strict=True):
            if select is None or select(member.name):
                yield member, self._chunks(entry)

    def _blocks(self, entry: _ZipEntry) -> Iterator[bytes]:
        offset, left = entry.data_offset, entry.compressed_size
        while left:
            block = _read_at(self._file, offset, min(left, _READ), self._where)
            offset, left = offset + len(block), left - len(block)
            yield block

    def _chunks(self, entry: _ZipEntry) -> Iterator[bytes]:
        produced, crc = 0, 0
        for chunk in _inflate(self._blocks(entry), entry, self._where):
            produced += len(chunk)
            if produced > entry.size:
                problem = f"yields more than its declared {entry.size} bytes"
                raise _member_error(self._where, entry.name, problem)
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if produced != entry.size:
            raise _member_error(self._where, entry.name, "is shorter than its declared size")
        if crc != entry.crc:
            raise _member_error(self._where, entry.name, "fails its CRC check")


# --- tar.gz -----------------------------------------------------------------------------------


class _GzipStream:
    """The decompressed bytes of a .tar.gz, read by tarfile; refuses bombs and trailing bytes."""

    def __init__(self, file: BinaryIO, file_size: int, where: str, limits: ArchiveLimits):
        self._file, self._size, self._where = file, file_size, where
        self._ratio = limits.max_ratio
        self._cap = max(limits.ratio_floor, limits.max_ratio * file_size)
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
        if info.type in _EXTENDED_TYPES and info.size > MAX_EXTENDED_HEADER:
            raise _HeaderRefused(f"has an extended header over {MAX_EXTENDED_HEADER} bytes")
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


# --- the archive --------------------------------------------------------------------------------


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
    def open(cls, path: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> SafeArchive:
        """Open ``path`` and check its whole listing; ArchiveError on any problem.

        The kind comes from the file name: ``.whl`` is a wheel, ``.tar.gz`` or ``.zip`` an
        sdist. A .tar.gz is read through once here (its members are hashed on the way).
        """
        kind, fmt = _kind_of(path.name)
        file, size = _open_regular(path)
        try:
            reader_type = _ZipReader if fmt == "zip" else _TarReader
            reader: _Reader = reader_type(file, size, path.name, limits)
        except BaseException:
            file.close()
            raise
        return cls(path=path, kind=kind, file=file, reader=reader, limits=limits)

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
