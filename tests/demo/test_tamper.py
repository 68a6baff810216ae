"""The attacker's tool really produces a wheel whose RECORD vouches for the swapped file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from intoto_pip.demo.tamper import record_matches, swap_member
from intoto_pip.errors import InputError
from tests.support.wheels import wheel_members, write_wheel

RECORD = "pkg-1.0.dist-info/RECORD"


def _wheel(tmp_path: Path) -> Path:
    members = wheel_members("pkg", "1.0", {"pkg/__init__.py": b"X = 1\n", "pkg/b.py": b""})
    return write_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", members, RECORD)


def test_swap_replaces_the_member_and_keeps_the_others(tmp_path: Path) -> None:
    source = _wheel(tmp_path)
    forged = tmp_path / "forged.whl"
    swap_member(source, forged, "pkg/__init__.py", b"X = 2\n")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(forged) as new:
        assert new.read("pkg/__init__.py") == b"X = 2\n"
        assert sorted(new.namelist()) == sorted(old.namelist())
        for name in old.namelist():
            if name not in ("pkg/__init__.py", RECORD):
                assert new.read(name) == old.read(name)


def test_forged_record_matches_every_file(tmp_path: Path) -> None:
    source = _wheel(tmp_path)
    forged = tmp_path / "forged.whl"
    swap_member(source, forged, "pkg/__init__.py", b"import os\n")
    assert record_matches(source)
    assert record_matches(forged)


def test_record_matches_notices_a_swap_without_a_new_record(tmp_path: Path) -> None:
    source = _wheel(tmp_path)
    lazy = tmp_path / "lazy.whl"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(lazy, "w") as new:
        for name in old.namelist():
            data = b"X = 3\n" if name == "pkg/__init__.py" else old.read(name)
            new.writestr(name, data)
    assert not record_matches(lazy)


def test_swapping_a_missing_member_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no member 'pkg/nope\.py'"):
        swap_member(_wheel(tmp_path), tmp_path / "x.whl", "pkg/nope.py", b"")
