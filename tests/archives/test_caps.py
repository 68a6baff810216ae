"""Zip and gzip bombs are refused quickly, and the caps still admit very large archives.

Every cap is a field of ``ArchiveLimits`` (intoto_pip/archives/limits.py), which says why.
"""

from __future__ import annotations

import hashlib
import tarfile
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from intoto_pip.archives import _zip
from intoto_pip.archives.limits import DEFAULT_LIMITS, MIB, ArchiveLimits
from intoto_pip.archives.reader import SafeArchive
from intoto_pip.archives.sandbox import make_sandbox
from intoto_pip.errors import ArchiveError
from tests.archives.builders import RawEntry, Zeros, deflate_zeros, raw_zip, tar_entry, zero_chunks

BOMB_SIZE = 100 * 1024 * 1024
WHEEL = "pkg-1.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 MB of zeros, deflated to ~100 KB, honestly declared; built chunk by chunk."""
    path = tmp_path_factory.mktemp("bomb") / WHEEL
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w") as member,
    ):
        for chunk in zero_chunks(BOMB_SIZE):
            member.write(chunk)
    return path


@pytest.fixture(scope="module")
def deflated_zeros() -> bytes:
    return deflate_zeros(BOMB_SIZE)


def test_zip_bomb_is_refused_by_ratio_before_reading(zip_bomb: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ArchiveError) as caught:
        SafeArchive.open(zip_bomb)
    elapsed = time.monotonic() - started
    assert str(caught.value).startswith(f"{WHEEL}: member 'zeros.bin' expands ")
    assert "over the cap of 200:1" in str(caught.value)
    assert elapsed < 2.0


def test_zip_bomb_within_raised_ratio_cap_is_read(zip_bomb: Path) -> None:
    """The refusal above is the ratio cap, not something else about the archive."""
    limits = ArchiveLimits(max_ratio=2000)
    with SafeArchive.open(zip_bomb, limits=limits) as archive:
        assert archive.members[0].size == BOMB_SIZE


def test_lying_zip_member_is_cut_off_at_its_declared_size(
    tmp_path: Path, deflated_zeros: bytes
) -> None:
    """Declared 1000 bytes (under the ratio floor) but inflating to 100 MB."""
    bomb = RawEntry(b"zeros.bin", compressed=deflated_zeros, size=1000, crc=0)
    path = tmp_path / WHEEL
    path.write_bytes(raw_zip([bomb]))
    with SafeArchive.open(path) as archive:
        started = time.monotonic()
        with pytest.raises(ArchiveError) as caught:
            archive.read("zeros.bin")
        assert time.monotonic() - started < 2.0
    expected = f"{WHEEL}: member 'zeros.bin' yields more than its declared 1000 bytes"
    assert str(caught.value) == expected


def test_lying_zip_member_does_not_fill_the_sandbox(tmp_path: Path, deflated_zeros: bytes) -> None:
    bomb = RawEntry(b"zeros.bin", compressed=deflated_zeros, size=1000, crc=0)
    path = tmp_path / WHEEL
    path.write_bytes(raw_zip([bomb]))
    dest = make_sandbox(tmp_path)
    with SafeArchive.open(path) as archive, pytest.raises(ArchiveError, match="yields more"):
        archive.extract_to(dest)
    assert (dest / "zeros.bin").stat().st_size <= 1000


def test_small_highly_compressible_member_is_under_the_ratio_floor(tmp_path: Path) -> None:
    path = tmp_path / WHEEL
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(512 * 1024))
    with SafeArchive.open(path) as archive:
        assert archive.read("zeros.bin") == bytes(512 * 1024)


def test_gzip_bomb_is_refused_fast(tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as archive:
        archive.addfile(tar_entry("pkg-1.0", tarfile.DIRTYPE))
        archive.addfile(tar_entry("pkg-1.0/zeros.bin", size=BOMB_SIZE), Zeros(BOMB_SIZE))
    started = time.monotonic()
    with pytest.raises(ArchiveError) as caught:
        SafeArchive.open(path)
    elapsed = time.monotonic() - started
    assert str(caught.value) == "pkg-1.0.tar.gz: expands more than 200:1 (gzip bomb?)"
    assert elapsed < 2.0


def test_gzip_stream_cap_follows_the_configured_ratio(tmp_path: Path) -> None:
    data = bytes(4 * MIB)  # ~4 KiB compressed: ~1000:1, over a 1 MiB floor
    path = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as archive:
        archive.addfile(tar_entry("pkg-1.0/zeros.bin", size=len(data)), Zeros(len(data)))
    low_floor = ArchiveLimits(ratio_floor=1 * MIB)
    with pytest.raises(ArchiveError, match="expands more than 200:1"):
        SafeArchive.open(path, limits=low_floor)
    with SafeArchive.open(path, limits=ArchiveLimits(ratio_floor=1 * MIB, max_ratio=5000)) as got:
        assert got.member("pkg-1.0/zeros.bin").size == len(data)
    with SafeArchive.open(path) as archive:  # under the default 64 MiB floor
        assert archive.member("pkg-1.0/zeros.bin").size == len(data)


def test_ratio_applies_only_above_a_floor_real_wheels_never_meet() -> None:
    assert (DEFAULT_LIMITS.max_ratio, DEFAULT_LIMITS.ratio_floor) == (200, 64 * MIB)


def test_padded_shared_library_expanding_past_the_ratio_under_the_floor_is_read(
    tmp_path: Path,
) -> None:
    """pillow 13's libXau: 2 MiB of mostly zero padding (2 MiB page alignment), 223:1."""
    library = b"\x7fELF" + bytes(2 * MIB - 8) + b"\x01\x02\x03\x04"
    path = tmp_path / WHEEL
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("pkg.libs/libXau.so.6", library)
    with SafeArchive.open(path) as archive:
        (member,) = archive.members
        assert member.size == len(library)
        assert archive.read("pkg.libs/libXau.so.6") == library


def test_many_members_each_under_the_floor_are_capped_as_a_whole(tmp_path: Path) -> None:
    """Forty 4 MiB members of zeros: each under the floor, 160 MiB from ~170 KB in total."""
    size = 4 * MIB
    packed, crc = deflate_zeros(size), zlib.crc32(bytes(size))
    entries = [
        RawEntry(f"pkg/z{index}.bin".encode(), compressed=packed, size=size, crc=crc)
        for index in range(40)
    ]
    path = tmp_path / WHEEL
    path.write_bytes(raw_zip(entries))
    with pytest.raises(ArchiveError) as caught:
        SafeArchive.open(path)
    assert str(caught.value).startswith(f"{WHEEL}: expands ")
    assert str(caught.value).endswith(" in total, over the cap of 200:1 (zip bomb?)")
    with SafeArchive.open(path, limits=ArchiveLimits(max_ratio=2000)) as archive:
        assert len(archive.members) == 40


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="max_ratio must be at least 1"):
        ArchiveLimits(max_ratio=0)
    with pytest.raises(ValueError, match="ratio_floor must not be negative"):
        ArchiveLimits(ratio_floor=-1)


@pytest.fixture(scope="module")
def many_members(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 tiny members: more than zip's 16-bit count, so a zip64 end record too."""
    path = tmp_path_factory.mktemp("many") / WHEEL
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(100_000):
            archive.writestr(f"pkg/m{index // 1000}/{index}.py", b"")
    return path


def test_hundred_thousand_members_are_admitted(many_members: Path) -> None:
    # How fast is a benchmark's question (benchmarks/, pair 4); here: admitted and hashed whole.
    with SafeArchive.open(many_members) as archive:
        assert len(archive.members) == 100_000
        assert archive.members[-1].name == "pkg/m99/99999.py"
        hashes = archive.sha256_of_members()
    assert len(hashes) == 100_000
    assert set(hashes.values()) == {hashlib.sha256(b"").hexdigest()}


def test_hundred_thousand_members_over_a_lower_cap_are_refused_before_any_is_parsed(
    many_members: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count in the end record is enough: no directory entry is parsed (a bomb of entries
    costs nothing). Checked by making entry parsing fail, not by a clock."""

    def never(*args: object) -> object:
        raise AssertionError("a directory entry was parsed before the member cap was checked")

    monkeypatch.setattr(_zip, "_central_entry", never)
    with pytest.raises(ArchiveError, match="has 100000 members, over the cap of 99999"):
        SafeArchive.open(many_members, limits=ArchiveLimits(max_members=99_999))
