"""The installation's wheels: one opened while pip resolved is used only with the verdict
it was opened for."""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from intoto_pip.install.apply import _source
from intoto_pip.install.wheel_source import OpenedWheel, open_ahead
from tests.support.wheels import wheel_members, write_wheel

if TYPE_CHECKING:
    from intoto_pip.install.candidates import Candidate


def _wheel(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    members = wheel_members("dep", "1.0", {"dep/__init__.py": b"V = 1\n"})
    path = tmp_path / "dep-1.0-py3-none-any.whl"
    write_wheel(path, members, "dep-1.0.dist-info/RECORD")
    with zipfile.ZipFile(path) as archive:  # every member, RECORD included, as verified
        return path, {n: hashlib.sha256(archive.read(n)).hexdigest() for n in archive.namelist()}


def _candidate(path: Path, member_sha256: dict[str, str]) -> Candidate:
    stub = SimpleNamespace(
        fetched=SimpleNamespace(path=path),
        verdict=SimpleNamespace(member_sha256=member_sha256),
    )
    return cast("Candidate", stub)


def _tracked(opened: OpenedWheel, closed: list[Path], path: Path) -> OpenedWheel:
    def close() -> None:
        closed.append(path)
        opened.close()

    return OpenedWheel(source=opened.source, member_sha256=opened.member_sha256, close=close)


def test_a_wheel_opened_ahead_for_this_verdict_is_used_and_closed_with_the_installation(
    tmp_path: Path,
) -> None:
    path, hashes = _wheel(tmp_path)
    closed: list[Path] = []
    ahead = _tracked(open_ahead(path, hashes), closed, path)
    opened = {path: ahead}
    with contextlib.ExitStack() as stack:
        assert _source(_candidate(path, hashes), opened, stack) is ahead.source
        assert opened == {} and closed == []
    assert closed == [path]


def test_a_wheel_opened_ahead_for_another_verdict_is_closed_and_opened_again(
    tmp_path: Path,
) -> None:
    """Its members were checked against other hashes than the candidate's verdict found:
    it is not what this installation verified, so it is opened again with the right ones."""
    path, hashes = _wheel(tmp_path)
    closed: list[Path] = []
    real = _tracked(open_ahead(path, hashes), closed, path)
    other = {**hashes, "dep/__init__.py": "0" * 64}  # what another verdict would have found
    ahead = OpenedWheel(source=real.source, member_sha256=other, close=real.close)
    with contextlib.ExitStack() as stack:
        source = _source(_candidate(path, hashes), {path: ahead}, stack)
        assert source is not ahead.source
        assert [m.name for m, _ in source.checked.archive.iter_files(None)] != []
    assert closed == [path]
