"""Build wheels, sdists and hostile archives in tests, fast and without build tools.

``make_wheel`` and ``make_sdist`` write well-formed distributions (METADATA, WHEEL and a
correct RECORD; PKG-INFO in one top folder) that other tests can reuse and then spoil.
``raw_zip`` writes zip bytes field by field, so a test can make the central directory and the
local headers disagree in exactly one way.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

EMPTY: Mapping[str, bytes] = {}


def record_hash(data: bytes) -> str:
    """The RECORD hash field for ``data``: sha256=<urlsafe base64 without padding>."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def record_text(files: Mapping[str, bytes], record_name: str) -> str:
    """A correct RECORD for ``files``, with the RECORD row itself last and empty."""
    rows = [f"{name},{record_hash(data)},{len(data)}" for name, data in files.items()]
    return "\n".join([*rows, f"{record_name},,"]) + "\n"


def metadata_text(name: str, version: str, *, extra: str = "") -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}\n".encode()


def wheel_filename(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def _target(path: Path, filename: str) -> Path:
    return path if path.suffix in (".whl", ".gz", ".zip") else path / filename


def make_wheel(
    path: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes] = EMPTY,
    *,
    extra_members: Mapping[str, bytes] = EMPTY,
    record: bool | bytes = True,
    metadata: bytes | None = None,
    dist_info: str | None = None,
) -> Path:
    """Write a pure-Python wheel; ``path`` is the .whl file or the folder to put it in.

    ``files`` are listed in RECORD; ``extra_members`` are added after RECORD, unlisted.
    ``record`` False leaves RECORD out, bytes replace it. ``metadata`` replaces METADATA.
    """
    target = _target(path, wheel_filename(name, version))
    folder = dist_info or f"{name.replace('-', '_')}-{version}.dist-info"
    wheel_meta = b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    listed = {
        **files,
        f"{folder}/METADATA": metadata if metadata is not None else metadata_text(name, version),
        f"{folder}/WHEEL": wheel_meta,
    }
    record_name = f"{folder}/RECORD"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in listed.items():
            archive.writestr(member, data)
        if record is not False:
            text = record if isinstance(record, bytes) else record_text(listed, record_name)
            archive.writestr(record_name, text)
        for member, data in extra_members.items():
            archive.writestr(member, data)
    return target


def make_sdist(
    path: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes] = EMPTY,
    *,
    pkg_info: bytes | None = None,
    top: str | None = None,
    extra_members: Mapping[str, bytes] = EMPTY,
    directories: bool = True,
) -> Path:
    """Write ``<name>-<version>.tar.gz`` with one top folder holding PKG-INFO and ``files``.

    ``files`` are relative to the top folder; ``extra_members`` are full archive names.
    """
    target = _target(path, f"{name.replace('-', '_')}-{version}.tar.gz")
    folder = top or f"{name.replace('-', '_')}-{version}"
    members = {
        f"{folder}/PKG-INFO": pkg_info if pkg_info is not None else metadata_text(name, version),
        **{f"{folder}/{member}": data for member, data in files.items()},
        **extra_members,
    }
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        if directories:
            archive.addfile(tar_entry(folder, tarfile.DIRTYPE))
        for member, data in members.items():
            archive.addfile(tar_entry(member, size=len(data)), io.BytesIO(data))
    return target


def tar_entry(name: str, kind: bytes = tarfile.REGTYPE, *, size: int = 0) -> tarfile.TarInfo:
    """A TarInfo with fixed metadata (so archives are reproducible)."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime = kind, size, 1_600_000_000
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


class Zeros(io.RawIOBase):
    """``size`` zero bytes as a readable stream, without allocating them at once."""

    def __init__(self, size: int) -> None:
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self._left)
        buffer[:count] = bytes(count)
        self._left -= count
        return count


def zero_chunks(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = bytes(chunk)
    while size > 0:
        yield block[: min(chunk, size)]
        size -= chunk


def deflate_zeros(size: int) -> bytes:
    """Raw deflate of ``size`` zeros, produced chunk by chunk."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [compressor.compress(chunk) for chunk in zero_chunks(size)]
    return b"".join([*parts, compressor.flush()])


# --- zip written field by field ---------------------------------------------------------------


@dataclass
class RawEntry:
    """One zip member. Defaults make a valid deflated file; each field can be spoiled."""

    name: bytes
    data: bytes = b"data"
    method: int = 8
    flags: int = 0x800
    external: int = 0o100644 << 16
    compressed: bytes | None = None  # the stored bytes; default: data, deflated if method 8
    size: int | None = None  # declared plain size (both headers); default len(data)
    crc: int | None = None
    local_name: bytes | None = None
    local_flags: int | None = None
    local_size: int | None = None
    points_at: int | None = None  # central entry points at another entry's local header
    descriptor: bytes | None = None  # raw data descriptor written after the data
    central_extra: bytes = b""
    local_extra: bytes = b""
    disk: int = 0
    offset: int = field(default=0, init=False)

    def payload(self) -> bytes:
        if self.compressed is not None:
            return self.compressed
        if self.method == 8:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            return compressor.compress(self.data) + compressor.flush()
        return self.data

    def sizes(self) -> tuple[int, int, int]:
        crc = zlib.crc32(self.data) if self.crc is None else self.crc
        size = len(self.data) if self.size is None else self.size
        return crc, len(self.payload()), size


def _local(entry: RawEntry) -> bytes:
    crc, compressed, size = entry.sizes()
    name = entry.name if entry.local_name is None else entry.local_name
    flags = entry.flags if entry.local_flags is None else entry.local_flags
    size = size if entry.local_size is None else entry.local_size
    head = struct.pack(
        "<4sHHHHHIIIHH",
        b"PK\x03\x04",
        20,
        flags,
        entry.method,
        0,
        0x21,
        crc,
        compressed,
        size,
        len(name),
        len(entry.local_extra),
    )
    return head + name + entry.local_extra + entry.payload() + (entry.descriptor or b"")


def _central(entry: RawEntry, offset: int) -> bytes:
    crc, compressed, size = entry.sizes()
    head = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        0x0314,
        20,
        entry.flags,
        entry.method,
        0,
        0x21,
        crc,
        compressed,
        size,
        len(entry.name),
        len(entry.central_extra),
        0,
        entry.disk,
        0,
        entry.external,
        offset,
    )
    return head + entry.name + entry.central_extra


def end_record(count: int, cd_size: int, cd_offset: int, comment: bytes = b"") -> bytes:
    return (
        struct.pack(
            "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, len(comment)
        )
        + comment
    )


def raw_zip(
    entries: list[RawEntry],
    *,
    prepend: bytes = b"",
    between: bytes = b"",
    append: bytes = b"",
    comment: bytes = b"",
) -> bytes:
    """Zip bytes from ``entries``: local headers, central directory, end record.

    ``prepend`` goes before the first member (offsets are shifted, as a self-extractor does),
    ``between`` between the last member and the directory, ``append`` after the end record.
    """
    body = bytearray(prepend)
    for entry in entries:
        entry.offset = len(body)
        body += _local(entry)
    body += between
    cd_offset = len(body)
    for entry in entries:
        target = entry if entry.points_at is None else entries[entry.points_at]
        body += _central(entry, target.offset)
    cd_size = len(body) - cd_offset
    return bytes(body) + end_record(len(entries), cd_size, cd_offset, comment) + append


def zip64_end(
    count: int, cd_size: int, cd_offset: int, record_at: int, *, extensible: bytes = b""
) -> bytes:
    """A zip64 end record at ``record_at`` (with ``extensible`` data), its locator, and a
    classic end record whose fields all say "see zip64"."""
    record = struct.pack(
        "<4sQHHIIQQQQ",
        b"PK\x06\x06",
        44 + len(extensible),
        0x031E,
        45,
        0,
        0,
        count,
        count,
        cd_size,
        cd_offset,
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    classic = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
    )
    return record + extensible + locator + classic


def zip_parts(entries: list[RawEntry], *, base: int = 0) -> tuple[bytes, bytes]:
    """(local headers and data, central directory) for ``entries`` placed at offset ``base``."""
    body = bytearray()
    for entry in entries:
        entry.offset = base + len(body)
        body += _local(entry)
    directory = b"".join(_central(entry, entry.offset) for entry in entries)
    return bytes(body), directory


def raw_zip64(entries: list[RawEntry], *, comment_of_last: bytes = b"") -> bytes:
    """Like ``raw_zip``, but closed by a zip64 end record (and no extensible data)."""
    body, directory = zip_parts(entries)
    if comment_of_last:
        directory = with_entry_comment(directory, len(entries) - 1, comment_of_last)
    record_at = len(body) + len(directory)
    return body + directory + zip64_end(len(entries), len(directory), len(body), record_at)


def with_entry_comment(directory: bytes, index: int, comment: bytes) -> bytes:
    """Give central-directory entry ``index`` (0-based) a file comment."""
    pos = 0
    for _ in range(index):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
    name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, pos + 28)
    assert comment_len == 0
    end = pos + 46 + name_len + extra_len
    head = bytearray(directory[:end])
    struct.pack_into("<H", head, pos + 32, len(comment))
    return bytes(head) + comment + directory[end:]
