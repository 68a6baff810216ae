"""One zip, one reading: every archive two zip readers could read differently is refused.

The attack behind these tests: a genuinely signed wheel whose bytes hold a second directory
that our reader does not see but another reader (Python's ``zipfile``, which ``installer``
uses, or any tool that scans the file differently) does. What is verified would then not be
what is installed.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from intoto_pip.archives.reader import SafeArchive
from intoto_pip.errors import ArchiveError
from tests.archives.builders import (
    RawEntry,
    end_record,
    raw_zip,
    raw_zip64,
    with_entry_comment,
    zip64_end,
    zip_parts,
)

WHEEL = "pkg-1.0-py3-none-any.whl"


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / WHEEL
    path.write_bytes(data)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(ArchiveError) as caught:
        SafeArchive.open(path).close()
    message = str(caught.value)
    assert message.startswith(f"{WHEEL}: ") and "\n" not in message
    return message


def hidden_directory_in_zip64_extensible_data() -> bytes:
    """Our reader follows the locator to the first zip64 end record; ``zipfile`` assumes no
    extensible data and reads the 56 bytes before the locator: a second end record, hidden in
    the first one's extensible data, pointing at a second directory and a second member."""
    good, directory = zip_parts([RawEntry(b"pkg/a.py", data=b"GOOD = True\n")])
    record_at = len(good) + len(directory)
    hidden_base = record_at + 56  # where the extensible data starts
    evil, hidden_dir = zip_parts(
        [RawEntry(b"pkg/a.py", data=b"import os  # evil\n")], base=hidden_base
    )
    hidden_cd_at = hidden_base + len(evil)
    hidden_record_at = hidden_cd_at + len(hidden_dir)
    hidden_end = zip64_end(1, len(hidden_dir), hidden_cd_at, hidden_record_at)[:56]
    extensible = evil + hidden_dir + hidden_end
    return (
        good + directory + zip64_end(1, len(directory), len(good), record_at, extensible=extensible)
    )


def test_zip64_extensible_data_hiding_a_second_directory_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, hidden_directory_in_zip64_extensible_data())
    with zipfile.ZipFile(path) as other:  # the attack is real: zipfile reads the hidden member
        assert other.read("pkg/a.py") == b"import os  # evil\n"
    assert "zip64 end record carries extensible data" in refusal(path)


def test_zip64_extensible_data_is_refused_even_when_harmless(tmp_path: Path) -> None:
    body, directory = zip_parts([RawEntry(b"pkg/a.py")])
    record_at = len(body) + len(directory)
    tail = zip64_end(1, len(directory), len(body), record_at, extensible=b"\0" * 12)
    assert "zip64 end record carries extensible data" in refusal(
        write(tmp_path, body + directory + tail)
    )


def test_directory_entry_comment_hiding_an_end_record_is_refused(tmp_path: Path) -> None:
    """A reader that scans the end of the file forwards finds the end record hidden in the
    last entry's comment (its comment length reaches the end of the file too)."""
    body, directory = zip_parts([RawEntry(b"pkg/a.py")])
    hidden_at = len(body) + len(directory)
    hidden = end_record(0, 0, hidden_at, comment=b"")[:-2] + struct.pack("<H", 22)
    directory = with_entry_comment(directory, 0, hidden)
    data = body + directory + end_record(1, len(directory), len(body))
    assert "hides a zip signature in its directory entry" in refusal(write(tmp_path, data))


@pytest.mark.parametrize("signature", [b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x01\x02"])
def test_directory_entry_comment_holding_any_signature_is_refused(
    tmp_path: Path, signature: bytes
) -> None:
    body, directory = zip_parts([RawEntry(b"pkg/a.py")])
    directory = with_entry_comment(directory, 0, b"note " + signature + b" end")
    data = body + directory + end_record(1, len(directory), len(body))
    assert "hides a zip signature in its directory entry" in refusal(write(tmp_path, data))


@pytest.mark.parametrize("signature", [b"PK\x05\x06", b"PK\x06\x06", b"PK\x01\x02", b"plain"])
def test_end_record_comment_is_refused_whatever_it_holds(tmp_path: Path, signature: bytes) -> None:
    data = raw_zip([RawEntry(b"pkg/a.py")], comment=b"x" + signature)
    assert "archive comments and appended bytes are refused" in refusal(write(tmp_path, data))


def test_two_end_records_are_refused(tmp_path: Path) -> None:
    one = raw_zip([RawEntry(b"pkg/a.py")])
    data = one + one[-22:]  # the same end record twice: the first is now between
    assert "central directory does not end where the end record begins" in refusal(
        write(tmp_path, data)
    )


def test_end_record_hidden_at_the_end_of_a_comment_is_refused(tmp_path: Path) -> None:
    """The last 22 bytes look like an end record with no comment, but they are the comment of
    an earlier end record: readers that search backwards and forwards disagree."""
    one = raw_zip([RawEntry(b"pkg/a.py")])
    real = bytearray(one[-22:])
    struct.pack_into("<H", real, 20, 22)
    data = one[:-22] + bytes(real) + one[-22:]
    refusal(write(tmp_path, data))


# Fields of the classic end record (struct indexes) set to a small value the zip64 one denies.
ZIP64_DISAGREEMENTS = {"entries": (3, 4), "directory size": (5,), "directory offset": (6,)}


@pytest.mark.parametrize("field", sorted(ZIP64_DISAGREEMENTS))
def test_zip64_and_classic_end_records_disagreeing_are_refused(tmp_path: Path, field: str) -> None:
    data = bytearray(raw_zip64([RawEntry(b"pkg/a.py")]))
    fields = list(struct.unpack_from("<4sHHHHIIH", data, len(data) - 22))
    for index in ZIP64_DISAGREEMENTS[field]:
        fields[index] = 2
    struct.pack_into("<4sHHHHIIH", data, len(data) - 22, *fields)
    assert "zip64 end record disagrees with the end record" in refusal(write(tmp_path, bytes(data)))


def test_zip64_end_record_closing_the_directory_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip64([RawEntry(b"pkg/a.py", data=b"ok")]))
    with SafeArchive.open(path) as archive:
        assert archive.read("pkg/a.py") == b"ok"
    with zipfile.ZipFile(path) as other:
        assert other.read("pkg/a.py") == b"ok"


def test_local_unicode_path_field_naming_another_file_is_refused(tmp_path: Path) -> None:
    """Info-ZIP's unzip prefers this field over the header name, in the local header too."""
    field = b"\x75\x70\x0c\x00\x01\0\0\0\0evil.py"
    data = raw_zip([RawEntry(b"pkg/a.py", local_extra=field)])
    assert "Unicode path extra field naming another file" in refusal(write(tmp_path, data))


def test_local_header_with_another_method_is_refused(tmp_path: Path) -> None:
    data = bytearray(raw_zip([RawEntry(b"pkg/a.py", method=0)]))
    struct.pack_into("<H", data, 8, 8)  # the local header says deflate, the directory stored
    assert "disagrees on flags" in refusal(write(tmp_path, bytes(data)))


def test_zipfile_reads_what_the_attack_builder_hides() -> None:
    """The builder above is a faithful attack: without our reader, zipfile is fooled."""
    with zipfile.ZipFile(io.BytesIO(hidden_directory_in_zip64_extensible_data())) as other:
        assert other.namelist() == ["pkg/a.py"]


def test_entry_needing_an_unknown_zip_version_is_refused(tmp_path: Path) -> None:
    """zipfile refuses "version needed to extract" past 6.3; a reader that ignores it would
    read the archive where zipfile cannot (found by the differential test)."""
    data = bytearray(raw_zip([RawEntry(b"pkg/a.py")]))
    directory_at = struct.unpack_from("<I", data, len(data) - 6)[0]
    struct.pack_into("<B", data, directory_at + 6, 64)
    assert "needs zip version 64 to extract" in refusal(write(tmp_path, bytes(data)))


def test_entry_with_patched_data_flag_is_refused(tmp_path: Path) -> None:
    """Flag bit 5 (compressed patched data): zipfile refuses to read it (differential test)."""
    data = raw_zip([RawEntry(b"pkg/a.py", flags=0x820)])
    assert "uses zip flags 0x0020" in refusal(write(tmp_path, data))
