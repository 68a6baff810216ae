"""The suite's producer makes evidence that binds the archive: verified mode is not vacuous.

Offline, on a tiny wheel: what ``Producer.attach`` makes verifies with the owner's key, and is
refused with another key or once a member changes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.realworld.installs import fresh_venv, intoto_pip_install
from tests.realworld.producer import Producer, intoto_pip, unpack
from tests.support.wheels import dist_info, wheel_filename, wheel_members, write_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def producer(tmp_path_factory: pytest.TempPathFactory) -> Producer:
    return Producer.create(tmp_path_factory.mktemp("producer"))


def tiny_wheel(folder: Path, source: bytes = b"VALUE = 1\n") -> Path:
    members = wheel_members("tiny", "1.0", {"tiny/__init__.py": source, "tiny/x.pyc": b"\0"})
    folder.mkdir(parents=True, exist_ok=True)
    record = f"{dist_info('tiny', '1.0')}/RECORD"
    return write_wheel(folder / wheel_filename("tiny", "1.0"), members, record)


def test_unpack_leaves_out_only_the_wheels_record(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    unpack(tiny_wheel(tmp_path / "in"), tree)
    found = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    info = dist_info("tiny", "1.0")
    assert found == [f"{info}/METADATA", f"{info}/WHEEL", "tiny/__init__.py", "tiny/x.pyc"]


def test_attached_wheel_verifies_with_the_owner_key_only(
    producer: Producer, tmp_path: Path
) -> None:
    signed = producer.attach(tiny_wheel(tmp_path / "in"), tmp_path / "work")
    owner = str(producer.owner_public)
    assert intoto_pip("verify", str(signed), "--layout-key", owner).returncode == 0
    other = Producer.create(tmp_path / "other")
    refused = intoto_pip("verify", str(signed), "--layout-key", str(other.owner_public))
    assert refused.returncode == 1, refused.stderr


def test_attached_wheel_with_a_changed_member_is_not_installed(
    producer: Producer, tmp_path: Path
) -> None:
    signed = producer.attach(tiny_wheel(tmp_path / "in"), tmp_path / "work")
    with zipfile.ZipFile(signed) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["tiny/__init__.py"] = b"VALUE = 2\n"
    record = f"{dist_info('tiny', '1.0')}/RECORD"
    del members[record]
    (tmp_path / "tampered").mkdir()
    tampered = write_wheel(tmp_path / "tampered" / signed.name, members, record)
    python = fresh_venv(tmp_path / "venv")
    flags = ["--no-deps", "--layout-key", str(producer.owner_public)]
    outcome = intoto_pip_install(python, [str(tampered), *flags])
    assert outcome.error is not None and "exit 1" in outcome.error
    assert intoto_pip_install(python, [str(signed), *flags]).error is None
