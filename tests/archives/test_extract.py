"""Extraction into a private sandbox: exactly the members, nothing outside, hashes while writing."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from intoto_pip.archives.reader import SafeArchive
from intoto_pip.archives.sandbox import PrivateWriter, make_sandbox, sandbox
from intoto_pip.errors import ArchiveError
from tests.archives.builders import RawEntry, make_sdist, make_wheel, raw_zip

FILES = {"pkg/__init__.py": b"VALUE = 1\n", "pkg/sub/data.bin": bytes(range(256)) * 4000}


def tree(root: Path) -> dict[str, str]:
    """{relative path: 'dir' or sha256} of everything under root, links included."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = "link"
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_extract_writes_exactly_the_members(tmp_path: Path, kind: str) -> None:
    if kind == "wheel":
        path = make_wheel(tmp_path, "pkg", "1.0", FILES)
    else:
        path = make_sdist(tmp_path, "pkg", "1.0", FILES)
    dest = make_sandbox(tmp_path)
    with SafeArchive.open(path) as archive:
        written = archive.extract_to(dest)
        assert written == archive.sha256_of_members()
    files = {name: digest for name, digest in tree(dest).items() if digest != "dir"}
    assert files == written
    assert set(written) == {member.name for member in archive.members}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, dest.name])


def test_extract_select_and_read_agree(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "pkg", "1.0", FILES)
    dest = make_sandbox(tmp_path)
    with SafeArchive.open(path) as archive:
        written = archive.extract_to(dest, select=lambda name: name.startswith("pkg/sub/"))
        assert list(written) == ["pkg/sub/data.bin"]
        assert (dest / "pkg/sub/data.bin").read_bytes() == archive.read("pkg/sub/data.bin")
    assert tree(dest) == {"pkg": "dir", "pkg/sub": "dir", **written}


def test_iter_files_yields_chunks_in_archive_order(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "pkg", "1.0", FILES)
    with SafeArchive.open(path) as archive:
        contents = {member.name: b"".join(chunks) for member, chunks in archive.iter_files()}
    assert list(contents) == [
        "pkg-1.0/PKG-INFO",
        "pkg-1.0/pkg/__init__.py",
        "pkg-1.0/pkg/sub/data.bin",
    ]
    assert contents["pkg-1.0/pkg/sub/data.bin"] == FILES["pkg/sub/data.bin"]


def test_extracted_files_are_private_and_keep_the_executable_bit(tmp_path: Path) -> None:
    script = RawEntry(b"bin/tool", external=(stat.S_IFREG | 0o755) << 16)
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(raw_zip([script, RawEntry(b"bin/data")]))
    dest = make_sandbox(tmp_path)
    with SafeArchive.open(path) as archive:
        archive.extract_to(dest)
    assert stat.S_IMODE(os.stat(dest / "bin/tool").st_mode) & 0o777 == 0o700
    assert stat.S_IMODE(os.stat(dest / "bin/data").st_mode) & 0o777 == 0o600
    assert stat.S_IMODE(os.stat(dest / "bin").st_mode) & 0o777 == 0o700


def test_hostile_archive_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(raw_zip([RawEntry(b"ok.py"), RawEntry(b"../escaped.py")]))
    dest = make_sandbox(tmp_path)
    with pytest.raises(
        ArchiveError, match=re.escape("member '../escaped.py' escapes the archive root")
    ):
        SafeArchive.open(path)
    assert tree(dest) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, dest.name])


def test_read_of_a_missing_member_is_refused(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "pkg", "1.0", FILES)
    with SafeArchive.open(path) as archive:
        assert "pkg/__init__.py" in archive
        assert "pkg" not in archive
        with pytest.raises(ArchiveError, match=r"^pkg-1.0-py3-none-any.whl: has no member 'x'$"):
            archive.read("x")


@pytest.mark.parametrize("problem", ["not empty", "not private", "symlink", "file"])
def test_destination_must_be_an_empty_private_folder(tmp_path: Path, problem: str) -> None:
    dest = make_sandbox(tmp_path)
    if problem == "not empty":
        (dest / "x").write_text("")
    elif problem == "not private":
        dest.chmod(0o755)
    elif problem == "symlink":
        link = tmp_path / "link"
        link.symlink_to(dest)
        dest = link
    else:
        dest = tmp_path / "file"
        dest.write_text("")
    path = make_wheel(tmp_path, "pkg", "1.0", FILES)
    with SafeArchive.open(path) as archive, pytest.raises(ValueError, match=f"{dest}"):
        archive.extract_to(dest)


def test_writer_does_not_follow_a_planted_folder_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = make_sandbox(tmp_path)
    writer = PrivateWriter(dest)
    (dest / "pkg").symlink_to(outside)  # planted after the emptiness check
    with pytest.raises(FileExistsError):
        writer.write("pkg/a.py", [b"x"])
    assert list(outside.iterdir()) == []


def test_writer_does_not_follow_a_planted_file_link(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("untouched")
    dest = make_sandbox(tmp_path)
    writer = PrivateWriter(dest)
    (dest / "a.py").symlink_to(target)
    with pytest.raises(FileExistsError):
        writer.write("a.py", [b"x"])
    assert target.read_text() == "untouched"


@pytest.mark.parametrize("name", ["../x", "a/../../x", "a//b", "./a", "a\\b"])
def test_writer_refuses_unclean_names_itself(tmp_path: Path, name: str) -> None:
    writer = PrivateWriter(make_sandbox(tmp_path))
    with pytest.raises(ValueError, match="unclean name"):
        writer.write(name, [b"x"])


def test_sandbox_is_private_and_removed(tmp_path: Path) -> None:
    with sandbox(tmp_path) as box:
        assert stat.S_IMODE(box.stat().st_mode) == 0o700
        assert box.parent == tmp_path
        (box / "f").write_text("x")
    assert not box.exists()


def test_raw_bytes_come_from_the_file_checked_not_the_path(tmp_path: Path) -> None:
    """Detached mode copies the archive into the sandbox: the copy must be the file that was
    checked, even when someone replaces the file at that path meanwhile."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    wheel = make_wheel(tmp_path / "a", "pkg", "1.0", FILES)
    original = wheel.read_bytes()
    swapped = make_wheel(tmp_path / "b", "pkg", "1.0", {"pkg/__init__.py": b"EVIL = 1\n"})
    with SafeArchive.open(wheel) as archive:
        os.replace(swapped, wheel)
        assert b"".join(archive.raw_chunks()) == original
        assert b"".join(archive.raw_chunks()) == original  # readable twice


def test_members_read_as_streams_are_the_bytes_and_checked(tmp_path: Path) -> None:
    """What installer's WheelSource needs: a binary stream per member, checks at the end."""
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    big = bytes(range(256)) * 9000  # over one chunk of the buffered stream
    path.write_bytes(
        raw_zip([RawEntry(b"pkg/a.py", data=b"hello"), RawEntry(b"pkg/big", data=big)])
    )
    with SafeArchive.open(path) as archive:
        read = {member.name: stream.read() for member, stream in archive.iter_streams()}
    assert read == {"pkg/a.py": b"hello", "pkg/big": big}
    path.write_bytes(raw_zip([RawEntry(b"pkg/a.py", data=b"hello", crc=1)]))
    with SafeArchive.open(path) as archive:
        ((_member, stream),) = archive.iter_streams()
        with pytest.raises(ArchiveError, match="fails its CRC check"):
            shutil.copyfileobj(stream, io.BytesIO())
