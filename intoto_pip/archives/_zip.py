"""The zip reader behind ``SafeArchive`` (wheels, legacy ``.zip`` sdists); see archive.py."""

from __future__ import annotations

import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from intoto_pip.archives._listing import (
    _READ,
    CHUNK,
    Member,
    Select,
    _Listing,
    _member_error,
    _read_at,
)
from intoto_pip.archives.limits import ArchiveLimits
from intoto_pip.errors import ArchiveError

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_DESCRIPTOR_SIG = b"PK\x07\x08"
# Record signatures a reader may search for: none may hide in a name, extra field or comment.
_SIGNATURES = (b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07")
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_ENCRYPTED, _DESCRIPTOR, _STRONG, _UTF8, _MASKED = 0x1, 0x8, 0x40, 0x800, 0x2000
_DEFLATE_OPTIONS = 0x6  # compression level hints: change nothing for a reader
# Every other flag (patched data, enhanced deflate, reserved bits) means something to some
# readers and is refused (zipfile, for one, refuses patched data).
_KNOWN_FLAGS = _ENCRYPTED | _DEFLATE_OPTIONS | _DESCRIPTOR | _STRONG | _UTF8 | _MASKED
_STORED, _DEFLATED = 0, 8
_NEWEST_VERSION = 63  # "version needed to extract" 6.3, the latest APPNOTE
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
    if record_size != _ZIP64_EOCD.size - 12:
        # zipfile assumes there is none and reads the 56 bytes before the locator instead,
        # where a second end record and directory may hide.
        raise ArchiveError(f"{where}: zip64 end record carries extensible data")
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


def _version_problem(needed: int) -> str | None:
    # No zip specification goes past 6.3; zipfile refuses anything newer, others may not.
    if needed & 0xFF > _NEWEST_VERSION:
        return f"needs zip version {needed & 0xFF} to extract (newest known: {_NEWEST_VERSION})"
    return None


def _entry_problem(flags: int, method: int, compressed: int, size: int) -> str | None:
    if flags & (_ENCRYPTED | _STRONG | _MASKED):
        return "is encrypted"
    if flags & ~_KNOWN_FLAGS:
        return f"uses zip flags {flags & ~_KNOWN_FLAGS:#06x} that readers interpret differently"
    if method not in (_STORED, _DEFLATED):
        return f"uses unsupported compression method {method}"
    if method == _STORED and compressed != size:
        return "is stored but its compressed and plain sizes differ"
    return None


def _central_entry(data: bytes, pos: int, where: str) -> tuple[_ZipEntry, int]:
    if pos + _CENTRAL.size > len(data):
        raise ArchiveError(f"{where}: central directory is truncated")
    fields = _CENTRAL.unpack_from(data, pos)
    sig, _made, needed, flags, method, _time, _date, crc, compressed, size = fields[:10]
    name_len, extra_len, comment_len, disk, _internal, external, offset = fields[10:]
    start = pos + _CENTRAL.size
    end = start + name_len + extra_len + comment_len
    if sig != b"PK\x01\x02" or end > len(data):
        raise ArchiveError(f"{where}: central directory is malformed")
    variable = data[start:end]  # name, extra fields, comment
    if b"PK" in variable and any(signature in variable for signature in _SIGNATURES):
        shown = data[start : start + name_len].decode("utf-8", "backslashreplace")
        raise _member_error(where, shown, "hides a zip signature in its directory entry")
    raw_name = data[start : start + name_len]
    name = _decode_name(raw_name, flags, where)
    extras = _extra_fields(data[start + name_len : start + name_len + extra_len], where, name)
    size, compressed, offset = _resolve_zip64(extras, [size, compressed, offset], where, name)
    _check_unicode_path(extras, name, where)
    problem = (
        _entry_problem(flags, method, compressed, size)
        or ("is on another disk" if disk else None)
        or _version_problem(needed)
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
    if entry.size > limits.ratio_cap(entry.compressed_size):
        ratio = entry.size // max(entry.compressed_size, 1)
        problem = f"expands {ratio}:1, over the cap of {limits.max_ratio}:1 (zip bomb?)"
        raise _member_error(where, entry.name, problem)


def _check_total_ratio(
    entries: list[_ZipEntry], file_size: int, where: str, limits: ArchiveLimits
) -> None:
    # Many members each under the floor still add up: the archive as a whole has the cap too.
    total = sum(entry.size for entry in entries)
    if total > limits.ratio_cap(file_size):
        ratio = total // max(file_size, 1)
        problem = f"expands {ratio}:1 in total, over the cap of {limits.max_ratio}:1 (zip bomb?)"
        raise ArchiveError(f"{where}: {problem}")


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
    if (head[2] ^ entry.flags) & ~_DEFLATE_OPTIONS or head[3] != entry.method:
        raise _member_error(where, entry.name, "has a local header that disagrees on flags")
    extras = _extra_fields(tail[name_len:], where, entry.name)
    _check_unicode_path(extras, f"{entry.name}/" if entry.is_dir else entry.name, where)
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
        _check_total_ratio(entries, file_size, where, limits)
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
