"""Hostile .tar.gz sdists: links, devices, renamed members, hidden data, broken streams."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from intoto_pip.archives.reader import ArchiveLimits, SafeArchive
from intoto_pip.errors import ArchiveError
from tests.archives.builders import make_sdist, tar_entry

SDIST = "pkg-1.0.tar.gz"
Entry = tuple[tarfile.TarInfo, bytes]


def tar_bytes(
    entries: list[Entry], *, fmt: int = tarfile.PAX_FORMAT, encoding: str = "utf-8"
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt, encoding=encoding) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def file(name: str, data: bytes = b"data") -> Entry:
    return tar_entry(name, size=len(data)), data


def special(name: str, kind: bytes, **fields: object) -> Entry:
    info = tar_entry(name, kind)
    for key, value in fields.items():
        setattr(info, key, value)
    return info, b""


def with_pax(name: str, headers: dict[str, str]) -> Entry:
    info, data = file(name)
    info.pax_headers = headers
    return info, data


def sdist_of(*entries: Entry, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    return gzip.compress(tar_bytes([file("pkg-1.0/PKG-INFO"), *entries], fmt=fmt), mtime=0)


def corrupt_second_header() -> bytes:
    raw = bytearray(
        tar_bytes([file("pkg-1.0/a.py"), file("pkg-1.0/b.py")], fmt=tarfile.USTAR_FORMAT)
    )
    raw[1024 + 148 : 1024 + 156] = b"0000000\0"  # checksum of the second header
    return gzip.compress(bytes(raw))


def hidden_after_end() -> bytes:
    visible = tar_bytes([file("pkg-1.0/a.py")])
    hidden = tar_bytes([file("pkg-1.0/evil.py")])
    return gzip.compress(visible + hidden)


def without_end_marker() -> bytes:
    raw = tar_bytes([file("pkg-1.0/a.py")], fmt=tarfile.USTAR_FORMAT)
    return gzip.compress(raw[:1024])


def latin1_name() -> bytes:
    entries = [file("pkg-1.0/caf\u00e9.py")]
    return gzip.compress(tar_bytes(entries, fmt=tarfile.USTAR_FORMAT, encoding="latin-1"))


def good() -> bytes:
    return sdist_of(file("pkg-1.0/a.py"))


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "symlink": (
        lambda: sdist_of(special("pkg-1.0/link", tarfile.SYMTYPE, linkname="/etc/passwd")),
        "member 'pkg-1.0/link' is a symbolic link",
    ),
    "hardlink": (
        lambda: sdist_of(special("pkg-1.0/hard", tarfile.LNKTYPE, linkname="pkg-1.0/PKG-INFO")),
        "member 'pkg-1.0/hard' is a hard link",
    ),
    "char device": (
        lambda: sdist_of(special("pkg-1.0/tty", tarfile.CHRTYPE, devmajor=4, devminor=1)),
        "is a character device",
    ),
    "block device": (
        lambda: sdist_of(special("pkg-1.0/sda", tarfile.BLKTYPE, devmajor=8)),
        "is a block device",
    ),
    "fifo": (lambda: sdist_of(special("pkg-1.0/pipe", tarfile.FIFOTYPE)), "is a FIFO"),
    "contiguous file": (
        lambda: sdist_of(special("pkg-1.0/c", tarfile.CONTTYPE)),
        "unsupported tar type",
    ),
    "sparse": (
        lambda: sdist_of(special("pkg-1.0/s", tarfile.GNUTYPE_SPARSE), fmt=tarfile.GNU_FORMAT),
        "sparse",
    ),
    "directory with data": (
        lambda: sdist_of(special("pkg-1.0/d", tarfile.DIRTYPE, size=512)),
        "member 'pkg-1.0/d' is a directory with data",
    ),
    "dot-dot": (lambda: sdist_of(file("pkg-1.0/../../evil")), "escapes the archive root"),
    "absolute": (lambda: sdist_of(file("/tmp/evil")), "member '/tmp/evil' is an absolute path"),
    "dot prefix": (lambda: sdist_of(file("./pkg-1.0/x")), "not a clean path"),
    "NUL via pax": (lambda: sdist_of(with_pax("pkg-1.0/a", {"path": "a\0b"})), "control"),
    "pax renames to dot-dot": (
        lambda: sdist_of(with_pax("pkg-1.0/ok.py", {"path": "../evil.py"})),
        "member '../evil.py' escapes the archive root",
    ),
    "GNU long name": (
        lambda: sdist_of(file("pkg-1.0/" + "a" * 120 + "/../../../evil"), fmt=tarfile.GNU_FORMAT),
        "escapes the archive root",
    ),
    "oversized pax header": (
        lambda: sdist_of(with_pax("pkg-1.0/a", {"comment": "x" * (2 << 20)})),
        "extended header over 1048576 bytes",
    ),
    "duplicate": (
        lambda: sdist_of(file("pkg-1.0/a.py"), file("pkg-1.0/a.py")),
        "member 'pkg-1.0/a.py' is a duplicate member",
    ),
    "case fold": (
        lambda: sdist_of(file("pkg-1.0/README"), file("pkg-1.0/readme")),
        "member 'pkg-1.0/readme' collides with 'pkg-1.0/README'",
    ),
    "reserved name": (lambda: sdist_of(file("pkg-1.0/aux.c")), "Windows reserved device name"),
    "bad header mid-archive": (corrupt_second_header, "has a malformed tar header"),
    "data after end marker": (hidden_after_end, "has data after its end-of-archive marker"),
    "no end marker": (without_end_marker, "ends without an end-of-archive marker"),
    "non-UTF-8 name": (latin1_name, "malformed tar header"),
    "gzip trailing garbage": (lambda: good() + b"garbage", "bytes after the end of its gzip"),
    "gzip trailing zeros": (lambda: good() + bytes(16), "bytes after the end of its gzip"),
    "second gzip member": (lambda: good() + gzip.compress(b""), "bytes after the end of its gzip"),
    "gzip truncated": (lambda: good()[:-12], "gzip stream is truncated"),
    "gzip corrupt": (lambda: good()[:20] + bytes(40) + good()[60:], "not a valid gzip stream"),
    "not gzip": (lambda: tar_bytes([file("pkg-1.0/a")]), "not a valid gzip stream"),
    "empty": (lambda: gzip.compress(b""), "ends without an end-of-archive marker"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_sdist_is_refused_on_open(tmp_path: Path, case: str) -> None:
    build, fragment = HOSTILE[case]
    path = tmp_path / SDIST
    path.write_bytes(build())
    with pytest.raises(ArchiveError) as caught:
        SafeArchive.open(path)
    message = str(caught.value)
    assert message.startswith(f"{SDIST}: ")
    assert fragment in message
    assert "\n" not in message


def test_good_sdist_lists_files_and_folders(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "pkg", "1.0", {"setup.py": b"setup()\n", "pkg/__init__.py": b""})
    with SafeArchive.open(path) as archive:
        assert archive.kind == "sdist"
        assert archive.directories == ("pkg-1.0",)
        assert [m.name for m in archive.members] == [
            "pkg-1.0/PKG-INFO",
            "pkg-1.0/setup.py",
            "pkg-1.0/pkg/__init__.py",
        ]
        assert archive.read("pkg-1.0/setup.py") == b"setup()\n"


def test_pax_header_may_rename_a_member_to_a_clean_name(tmp_path: Path) -> None:
    path = tmp_path / SDIST
    path.write_bytes(sdist_of(with_pax("../evil.py", {"path": "pkg-1.0/fine.py"})))
    with SafeArchive.open(path) as archive:
        assert [m.name for m in archive.members] == ["pkg-1.0/PKG-INFO", "pkg-1.0/fine.py"]


def test_zero_padding_after_end_marker_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / SDIST
    path.write_bytes(gzip.compress(tar_bytes([file("pkg-1.0/a")]) + bytes(20480)))
    with SafeArchive.open(path) as archive:
        assert archive.read("pkg-1.0/a") == b"data"


def test_member_count_cap_counts_folders(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "pkg", "1.0", {"a": b"", "b": b""})  # folder + 3 files
    SafeArchive.open(path, limits=ArchiveLimits(max_members=4)).close()
    with pytest.raises(ArchiveError, match=rf"^{SDIST}: has more than 3 members$"):
        SafeArchive.open(path, limits=ArchiveLimits(max_members=3))


def test_size_caps(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "pkg", "1.0", {"a": b"a" * 100, "b": b"b" * 100})
    with pytest.raises(
        ArchiveError, match=re.escape("member 'pkg-1.0/a' has size 100, over the cap of 99")
    ):
        SafeArchive.open(path, limits=ArchiveLimits(max_member_size=99))
    with pytest.raises(
        ArchiveError, match=re.escape("member 'pkg-1.0/b' takes the total size over 200")
    ):
        SafeArchive.open(path, limits=ArchiveLimits(max_total_size=200))


def test_archive_changed_after_open_is_detected(tmp_path: Path) -> None:
    def stored(data: bytes) -> bytes:  # level 0: same length for same-length content
        return gzip.compress(tar_bytes([file("pkg-1.0/a.py", data)]), compresslevel=0, mtime=0)

    path = tmp_path / SDIST
    path.write_bytes(stored(b"original"))
    with SafeArchive.open(path) as archive:
        before = archive.sha256_of_members()
        path.write_bytes(stored(b"tampered"))  # same inode, same size, same listing
        assert archive.sha256_of_members() == before  # hashed while opening: not re-read
        with pytest.raises(ArchiveError, match=re.escape("member 'pkg-1.0/a.py' changed since")):
            archive.read("pkg-1.0/a.py")


def test_archive_with_other_listing_after_open_is_detected(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "pkg", "1.0", {"a.py": b"original"})
    with SafeArchive.open(path) as archive:
        make_sdist(path, "pkg", "1.0", {"b.py": b"original"})
        with pytest.raises(ArchiveError, match=rf"^{SDIST}: changed since it was opened$"):
            archive.read("pkg-1.0/a.py")
