"""Differential: for every zip our reader accepts, Python's ``zipfile`` (what ``installer``
and most tools use) lists the same files and yields the same bytes.

Archives are written field by field (``builders.raw_zip``) and then spoiled in one structural
way each (bytes before, between or after members, comments, local headers that disagree,
shared data, extra fields, zip64 end records with extensible data) or by flipping bytes
anywhere. Whatever our reader accepts must read the same through ``zipfile``; real wheels
from PyPI are held to the same.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intoto_pip.archives.reader import SafeArchive
from intoto_pip.errors import ArchiveError
from tests.archives.builders import RawEntry, raw_zip, zip64_end, zip_parts
from tests.archives.real_wheels import REAL_WHEELS, real_wheel
from tests.archives.test_zip_readings import hidden_directory_in_zip64_extensible_data

DIFFERENTIAL = settings(max_examples=300, deadline=None, database=None, derandomize=True)
NAMES = ["pkg/__init__.py", "pkg/a.py", "pkg/data.bin", "pkg-1.0.dist-info/RECORD", "pkg/"]
ENTRIES = st.lists(
    st.builds(
        lambda name, data, method, descriptor: RawEntry(
            name.encode(),
            data=b"" if name.endswith("/") else data,
            method=0 if name.endswith("/") else method,
            flags=0x808 if descriptor else 0x800,
            external=(0o40755 if name.endswith("/") else 0o100644) << 16,
        ),
        st.sampled_from(NAMES),
        st.binary(max_size=300),
        st.sampled_from([0, 8]),
        st.booleans(),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda entry: entry.name,
)


def descriptors(entries: list[RawEntry]) -> None:
    for entry in entries:
        if entry.flags & 0x8:
            crc, compressed, size = entry.sizes()
            entry.descriptor = b"PK\x07\x08" + struct.pack("<III", crc, compressed, size)


def as_zip64(entries: list[RawEntry], extensible: bytes) -> bytes:
    body, directory = zip_parts(entries)
    record_at = len(body) + len(directory)
    tail = zip64_end(len(entries), len(directory), len(body), record_at, extensible=extensible)
    return body + directory + tail


SPOILERS: dict[str, Callable[[st.DataObject, list[RawEntry]], bytes]] = {
    "none": lambda data, entries: raw_zip(entries),
    "prepend": lambda data, entries: raw_zip(entries, prepend=data.draw(st.binary(max_size=30))),
    "between": lambda data, entries: raw_zip(entries, between=data.draw(st.binary(max_size=30))),
    "append": lambda data, entries: raw_zip(entries, append=data.draw(st.binary(max_size=30))),
    "comment": lambda data, entries: raw_zip(entries, comment=data.draw(st.binary(max_size=30))),
    "zip64": lambda data, entries: as_zip64(entries, b""),
    "zip64 extensible": lambda data, entries: as_zip64(entries, data.draw(st.binary(max_size=80))),
    "local name": lambda data, entries: spoil_entry(data, entries, "local_name", st.binary()),
    "local flags": lambda data, entries: spoil_entry(
        data, entries, "local_flags", st.integers(0, 0xFFFF)
    ),
    "local size": lambda data, entries: spoil_entry(
        data, entries, "local_size", st.integers(0, 400)
    ),
    "shared data": lambda data, entries: spoil_entry(
        data, entries, "points_at", st.integers(0, len(entries) - 1)
    ),
    "central extra": lambda data, entries: spoil_entry(
        data, entries, "central_extra", st.binary(max_size=24)
    ),
    "local extra": lambda data, entries: spoil_entry(
        data, entries, "local_extra", st.binary(max_size=24)
    ),
}


def spoil_entry(
    data: st.DataObject, entries: list[RawEntry], field: str, values: st.SearchStrategy[object]
) -> bytes:
    index = data.draw(st.integers(0, len(entries) - 1))
    setattr(entries[index], field, data.draw(values))
    return raw_zip(entries)


def flip_bytes(data: st.DataObject, raw: bytes) -> bytes:
    spoiled = bytearray(raw)
    for _ in range(data.draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        position = data.draw(st.integers(0, len(spoiled) - 1))
        spoiled[position] = data.draw(st.integers(0, 255))
    return bytes(spoiled)


def ours(path: Path) -> dict[str, bytes] | None:
    """{name: bytes} of every regular member, or None when our reader refuses the archive."""
    try:
        with SafeArchive.open(path) as archive:
            return {member.name: archive.read(member.name) for member in archive.members}
    except ArchiveError:
        return None


def theirs(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {
            info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()
        }


def assert_same_reading(path: Path) -> bool:
    """True when our reader accepted (and zipfile read the same); False when it refused."""
    accepted = ours(path)
    if accepted is None:
        return False
    assert theirs(path) == accepted
    return True


@DIFFERENTIAL
@given(entries=ENTRIES, spoiler=st.sampled_from(sorted(SPOILERS)), data=st.data())
def test_every_zip_we_accept_reads_the_same_through_zipfile(
    tmp_path_factory: pytest.TempPathFactory,
    entries: list[RawEntry],
    spoiler: str,
    data: st.DataObject,
) -> None:
    descriptors(entries)
    raw = flip_bytes(data, SPOILERS[spoiler](data, entries))
    path = tmp_path_factory.mktemp("zip") / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(raw)
    assert_same_reading(path)


def test_a_hidden_second_directory_is_not_a_second_reading(tmp_path: Path) -> None:
    """The attack that zipfile falls for (test_zip_readings): refused, not read differently."""
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(hidden_directory_in_zip64_extensible_data())
    assert not assert_same_reading(path)


@pytest.mark.parametrize("filename", sorted(REAL_WHEELS))
def test_real_wheels_read_the_same_through_zipfile(filename: str) -> None:
    assert assert_same_reading(real_wheel(filename))


def test_the_differential_accepts_enough_to_bite(tmp_path: Path) -> None:
    """Untouched archives of the generator's kind are accepted, so the property compares."""
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    entries = [RawEntry(b"pkg/a.py", data=b"x" * 50), RawEntry(b"pkg/b.py", method=0)]
    path.write_bytes(raw_zip(entries))
    assert assert_same_reading(path)
