"""Hostile zip archives: each is refused by SafeArchive.open, before anything is written."""

from __future__ import annotations

import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from intoto_pip.archives.reader import ArchiveLimits, SafeArchive
from intoto_pip.errors import ArchiveError, InputError
from tests.archives.builders import RawEntry, end_record, raw_zip

WHEEL = "pkg-1.0-py3-none-any.whl"


def write(tmp_path: Path, data: bytes, filename: str = WHEEL) -> Path:
    path = tmp_path / filename
    path.write_bytes(data)
    return path


def entry(name: str, **changes: object) -> RawEntry:
    return RawEntry(name.encode(), **changes)  # type: ignore[arg-type]


def descriptor(data: bytes, *, signature: bool = True, crc: int | None = None) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    size = len(compressor.compress(data) + compressor.flush())
    fields = struct.pack("<III", zlib.crc32(data) if crc is None else crc, size, len(data))
    return (b"PK\x07\x08" if signature else b"") + fields


def overlapping() -> bytes:
    first = entry("a.py", data=b"x" * 100)
    second = entry("b.py", data=b"x" * 100)
    second.points_at = 0
    zip_bytes = raw_zip([first, second])
    return zip_bytes


def zip64_markers_without_record() -> bytes:
    body = raw_zip([entry("a.py")])
    return body[:-22] + end_record(0xFFFF, 0, 0)


S_LINK = (stat.S_IFLNK | 0o777) << 16
S_CHAR = (stat.S_IFCHR | 0o644) << 16
S_FIFO = (stat.S_IFIFO | 0o644) << 16
S_DIR = (stat.S_IFDIR | 0o755) << 16

HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "dot-dot": (lambda: raw_zip([entry("../evil")]), "member '../evil' escapes the archive root"),
    "nested dot-dot": (lambda: raw_zip([entry("a/../../x")]), "escapes the archive root"),
    "absolute": (lambda: raw_zip([entry("/etc/x")]), "member '/etc/x' is an absolute path"),
    "drive": (lambda: raw_zip([entry("C:/x")]), "member 'C:/x' names a drive"),
    "UNC": (lambda: raw_zip([entry("//host/share/x")]), "is a UNC path"),
    "backslash": (lambda: raw_zip([entry("..\\evil")]), "has a backslash"),
    "NUL": (lambda: raw_zip([entry("a\x00.py")]), "member 'a\\x00.py' has a control character"),
    "reserved": (lambda: raw_zip([entry("pkg/CON.py")]), "Windows reserved device name"),
    "duplicate": (
        lambda: raw_zip([entry("a.py"), entry("a.py")]),
        "member 'a.py' is a duplicate member",
    ),
    "case fold": (
        lambda: raw_zip([entry("A.py"), entry("a.py")]),
        "member 'a.py' collides with 'A.py'",
    ),
    "NFC/NFD": (
        lambda: raw_zip([entry("caf\u00e9.py"), entry("cafe\u0301.py")]),
        "collides with 'café.py'",
    ),
    "file and folder": (
        lambda: raw_zip([entry("pkg"), entry("pkg/a.py")]),
        "both a file and a directory",
    ),
    "symlink": (lambda: raw_zip([entry("link", external=S_LINK)]), "is a symbolic link"),
    "device": (lambda: raw_zip([entry("dev", external=S_CHAR)]), "not a regular file"),
    "fifo": (lambda: raw_zip([entry("fifo", external=S_FIFO)]), "not a regular file"),
    "folder by attributes": (lambda: raw_zip([entry("d", external=S_DIR)]), "is a directory"),
    "regular file with slash": (lambda: raw_zip([entry("d/", data=b"")]), "is a directory by"),
    "folder with data": (lambda: raw_zip([entry("d/", external=S_DIR)]), "directory with data"),
    "encrypted": (lambda: raw_zip([entry("a.py", flags=0x801)]), "member 'a.py' is encrypted"),
    "strong encryption": (lambda: raw_zip([entry("a.py", flags=0x841)]), "is encrypted"),
    "bzip2": (
        lambda: raw_zip([entry("a.py", method=12, compressed=b"BZh9")]),
        "unsupported compression method 12",
    ),
    "lzma": (
        lambda: raw_zip([entry("a.py", method=14, compressed=b"\0" * 9)]),
        "unsupported compression method 14",
    ),
    "stored size mismatch": (
        lambda: raw_zip([entry("a.py", method=0, size=99)]),
        "stored but its compressed and plain sizes differ",
    ),
    "local name differs": (
        lambda: raw_zip([entry("a.py", local_name=b"../evil.py")]),
        "member 'a.py' has another name in its local header",
    ),
    "local flags differ": (
        lambda: raw_zip([entry("a.py", local_flags=0x801)]),
        "local header that disagrees on flags",
    ),
    "local size differs": (
        lambda: raw_zip([entry("a.py", local_size=1)]),
        "local header that disagrees on sizes",
    ),
    "overlapping entries": (overlapping, "member 'b.py' overlaps the data of 'a.py'"),
    "prepended bytes": (
        lambda: raw_zip([entry("a.py")], prepend=b"#!/bin/sh\nexit 0\n"),
        "member 'a.py' is preceded by bytes outside any member",
    ),
    "bytes before directory": (
        lambda: raw_zip([entry("a.py")], between=b"hidden"),
        "bytes between the last member and the central directory",
    ),
    "appended bytes": (
        lambda: raw_zip([entry("a.py")], append=b"trailing"),
        "does not end with a zip end record",
    ),
    "comment": (
        lambda: raw_zip([entry("a.py")], comment=b"PK\x05\x06 fake"),
        "does not end with a zip end record",
    ),
    "not ascii without utf-8 flag": (
        lambda: raw_zip([entry("caf\u00e9.py", flags=0)]),
        "name that is not valid ascii",
    ),
    "bad utf-8": (
        lambda: raw_zip([RawEntry(b"\xff\xfe.py")]),
        "name that is not valid utf-8",
    ),
    "unicode path extra disagrees": (
        lambda: raw_zip([entry("a.py", central_extra=b"\x75\x70\x0c\x00\x01\0\0\0\0evil.py")]),
        "Unicode path extra field naming another file",
    ),
    "repeated extra field": (
        lambda: raw_zip([entry("a.py", central_extra=b"\x99\x99\x00\x00" * 2)]),
        "malformed or repeated extra field",
    ),
    "zip64 size without field": (
        lambda: raw_zip([entry("a.py", size=0xFFFFFFFF)]),
        "lacks the zip64 sizes",
    ),
    "zip64 markers without record": (zip64_markers_without_record, "no zip64 end record"),
    "other disk": (lambda: raw_zip([entry("a.py", disk=1)]), "is on another disk"),
    "descriptor disagrees": (
        lambda: raw_zip(
            [entry("a.py", flags=0x808, descriptor=descriptor(b"data"), local_size=5)],
        ),
        "has a local header that disagrees on sizes",
    ),
    "descriptor wrong crc": (
        lambda: raw_zip([entry("a.py", flags=0x808, descriptor=descriptor(b"data", crc=1))]),
        "data descriptor that disagrees",
    ),
    "truncated": (lambda: raw_zip([entry("a.py")])[:40], "does not end with a zip end record"),
    "too short": (lambda: b"PK", "is not a zip archive"),
    "not a zip": (lambda: b"\x1f\x8b" + bytes(100), "does not end with a zip end record"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_zip_is_refused_on_open(tmp_path: Path, case: str) -> None:
    build, fragment = HOSTILE[case]
    path = write(tmp_path, build())
    with pytest.raises(ArchiveError) as caught:
        SafeArchive.open(path)
    message = str(caught.value)
    assert message.startswith(f"{WHEEL}: ")
    assert fragment in message
    assert "\n" not in message


def test_raw_builder_makes_a_valid_zip(tmp_path: Path) -> None:
    """The hostile cases above differ from this accepted archive in one field each."""
    path = write(tmp_path, raw_zip([entry("a.py", data=b"hello"), entry("d/e.txt", method=0)]))
    with SafeArchive.open(path) as archive:
        assert [m.name for m in archive.members] == ["a.py", "d/e.txt"]
        assert archive.read("a.py") == b"hello"
        assert archive.read("d/e.txt") == b"data"
    with zipfile.ZipFile(path) as reference:
        assert reference.testzip() is None


@pytest.mark.parametrize("signature", [True, False])
def test_matching_data_descriptor_is_accepted(tmp_path: Path, signature: bool) -> None:
    raw = entry("a.py", flags=0x808, descriptor=descriptor(b"data", signature=signature))
    with SafeArchive.open(write(tmp_path, raw_zip([raw]))) as archive:
        assert archive.read("a.py") == b"data"


def test_zipfile_streamed_archive_with_descriptors_is_accepted(tmp_path: Path) -> None:
    class Unseekable:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, chunk: bytes) -> int:
            self.data += chunk
            return len(chunk)

        def flush(self) -> None:
            pass

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[call-overload]
        archive.writestr("pkg/a.py", b"a" * 1000)
        with archive.open("pkg/b.py", "w") as member:
            member.write(b"b" * 1000)
    with SafeArchive.open(write(tmp_path, bytes(sink.data))) as archive:
        assert archive.read("pkg/b.py") == b"b" * 1000


def test_zip64_archive_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / WHEEL
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("big.bin", "w", force_zip64=True) as member:
            member.write(b"z" * 5000)
        archive.writestr("pkg/", b"")
    with SafeArchive.open(path) as archive:
        assert [(m.name, m.size) for m in archive.members] == [("big.bin", 5000)]
        assert archive.directories == ("pkg",)
        assert archive.read("big.bin") == b"z" * 5000


def test_wrong_crc_is_refused_while_reading(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([entry("a.py", crc=1234)]))
    with SafeArchive.open(path) as archive, pytest.raises(ArchiveError) as caught:
        archive.read("a.py")
    assert str(caught.value) == f"{WHEEL}: member 'a.py' fails its CRC check"


def test_corrupt_deflate_is_refused_while_reading(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([entry("a.py", compressed=b"\xff" * 20)]))
    expected = re.escape("'a.py' has corrupt compressed data")
    with SafeArchive.open(path) as archive, pytest.raises(ArchiveError, match=expected):
        archive.read("a.py")


def test_bytes_after_deflate_end_are_refused(tmp_path: Path) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    hidden = compressor.compress(b"data") + compressor.flush() + b"hidden"
    path = write(tmp_path, raw_zip([entry("a.py", compressed=hidden)]))
    expected = "compressed data of the wrong length"
    with SafeArchive.open(path) as archive, pytest.raises(ArchiveError, match=expected):
        archive.read("a.py")


def test_member_shorter_than_declared_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([entry("a.py", size=10)]))
    expected = re.escape("'a.py' is shorter than its declared size")
    with SafeArchive.open(path) as archive, pytest.raises(ArchiveError, match=expected):
        archive.read("a.py")


def test_executable_bit_and_folders_are_reported(tmp_path: Path) -> None:
    path = tmp_path / WHEEL
    with zipfile.ZipFile(path, "w") as archive:
        archive.mkdir("bin")
        info = zipfile.ZipInfo("bin/tool")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(info, b"#!/bin/sh\n")
        archive.writestr("bin/data", b"")
    with SafeArchive.open(path) as archive:
        assert archive.directories == ("bin",)
        assert [(m.name, m.executable) for m in archive.members] == [
            ("bin/tool", True),
            ("bin/data", False),
        ]


def test_member_count_cap(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([entry(f"m{i}.py") for i in range(4)]))
    SafeArchive.open(path, limits=ArchiveLimits(max_members=4)).close()
    with pytest.raises(ArchiveError, match=rf"^{WHEEL}: has 4 members, over the cap of 3$"):
        SafeArchive.open(path, limits=ArchiveLimits(max_members=3))


def test_member_and_total_size_caps(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([entry("a.py", data=b"a" * 60), entry("b.py", data=b"b" * 60)]))
    with pytest.raises(
        ArchiveError, match=re.escape("member 'a.py' has size 60, over the cap of 50")
    ):
        SafeArchive.open(path, limits=ArchiveLimits(max_member_size=50))
    with pytest.raises(
        ArchiveError, match=re.escape("member 'b.py' takes the total size over 100 bytes")
    ):
        SafeArchive.open(path, limits=ArchiveLimits(max_total_size=100))
    SafeArchive.open(path, limits=ArchiveLimits(max_member_size=60, max_total_size=120)).close()


@pytest.mark.parametrize("filename", ["pkg-1.0.tar.bz2", "pkg-1.0.egg", "pkg.whl.txt"])
def test_unknown_archive_kinds_are_refused(tmp_path: Path, filename: str) -> None:
    path = write(tmp_path, raw_zip([entry("a.py")]), filename)
    with pytest.raises(ArchiveError, match="is neither a wheel"):
        SafeArchive.open(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read archive"):
        SafeArchive.open(tmp_path / WHEEL)


def test_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / WHEEL).mkdir()
    with pytest.raises(ArchiveError, match="is not a regular file"):
        SafeArchive.open(tmp_path / WHEEL)
