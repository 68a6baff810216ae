"""Private copies: local files and downloads over loopback HTTP, sha256 checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from intoto_pip.errors import InputError, VerificationError
from intoto_pip.install.fetch import (
    copy_local,
    fetch_url,
    private_folder,
    remove_folder,
    safe_filename,
)
from tests.support.index import serve


def test_copy_local_makes_a_private_copy(tmp_path: Path) -> None:
    source = tmp_path / "a-1.0-py3-none-any.whl"
    source.write_bytes(b"wheel bytes")
    folder = private_folder()
    try:
        seen: list[int] = []
        fetched = copy_local(source, folder, lambda done, total: seen.append(done))
        assert fetched.path.read_bytes() == b"wheel bytes"
        assert fetched.path.is_relative_to(folder)
        assert fetched.sha256 == hashlib.sha256(b"wheel bytes").hexdigest()
        assert seen == [len(b"wheel bytes")]
        source.write_bytes(b"changed later")
        assert fetched.path.read_bytes() == b"wheel bytes"
        again = copy_local(source, folder)
        assert again.path != fetched.path
    finally:
        remove_folder(folder)


def test_copy_local_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        copy_local(tmp_path / "missing.whl", tmp_path)


def test_download_checks_the_index_hash(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a-1.0-py3-none-any.whl").write_bytes(b"payload")
    good = hashlib.sha256(b"payload").hexdigest()
    out = tmp_path / "out"
    out.mkdir()
    with serve(tmp_path) as url:
        link = f"{url}/files/a-1.0-py3-none-any.whl"
        fetched = fetch_url(link, out, expected_sha256=good)
        assert fetched.path.read_bytes() == b"payload" and fetched.url == link
        with pytest.raises(VerificationError, match="does not match the index"):
            fetch_url(link, out, expected_sha256="0" * 64)
        assert fetch_url(link, out, expected_sha256=None).sha256 == good
    assert sorted(p.name for p in out.rglob("*.whl")) == ["a-1.0-py3-none-any.whl"] * 2


@pytest.mark.parametrize("url", ["http://x/a/..", "http://x/", "http://x/a%2F..%2Fb.whl"])
def test_unsafe_file_names_are_refused(url: str) -> None:
    with pytest.raises(VerificationError):
        safe_filename(url)


def test_copy_local_takes_the_detached_evidence_beside_the_archive_once(tmp_path: Path) -> None:
    """``ARCHIVE.intoto/`` is copied beside the private copy (regular files only), so what is
    verified cannot change afterwards in the user's folder."""
    source = tmp_path / "a-1.0-py3-none-any.whl"
    source.write_bytes(b"wheel bytes")
    evidence = tmp_path / f"{source.name}.intoto"
    (evidence / "sub.12345678").mkdir(parents=True)
    (evidence / "root.layout").write_bytes(b"layout")
    (evidence / "sub.12345678" / "step.abcdef12.link").write_bytes(b"link")
    (evidence / "elsewhere.link").symlink_to(tmp_path / "a-1.0-py3-none-any.whl")
    folder = private_folder()
    try:
        fetched = copy_local(source, folder)
        (evidence / "root.layout").write_bytes(b"changed later")
        copied = fetched.path.parent / f"{source.name}.intoto"
        assert (copied / "root.layout").read_bytes() == b"layout"
        assert (copied / "sub.12345678" / "step.abcdef12.link").read_bytes() == b"link"
        assert not (copied / "elsewhere.link").exists()
    finally:
        remove_folder(folder)
