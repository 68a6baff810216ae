"""installer's WheelSource over our own reader: the listing verification used, no zipfile."""

from __future__ import annotations

import random
import sys
import zipfile
from pathlib import Path

import pytest

from intoto_pip.archives.reader import SafeArchive
from intoto_pip.install.installer_step import WheelToInstall, install_wheel
from intoto_pip.install.target import Target, probe_target
from intoto_pip.install.transaction import Transaction
from tests.support.wheels import record_hash, wheel_members, write_wheel

INFO = "demo-1.0.dist-info"
FILES = {
    "demo/__init__.py": b"X = 1\n",
    "demo/__pycache__/stale.cpython-311.pyc": b"stale",
    "demo-1.0.data/scripts/tool": b"#!python\nprint('tool')\n",
    "demo/big.bin": random.Random(0).randbytes(3 * 1024 * 1024),  # several chunks
}


def _wheel(folder: Path) -> Path:
    members = wheel_members("demo", "1.0", FILES, entry_points="[console_scripts]\nd = demo:X\n")
    return write_wheel(folder / "demo-1.0-py3-none-any.whl", members, f"{INFO}/RECORD")


@pytest.fixture()
def target(tmp_path: Path) -> Target:
    return probe_target(Path(sys.executable), target_dir=tmp_path / "site")


def test_installing_never_reopens_the_wheel_with_zipfile(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second parser of the same bytes is a second truth: installation reads the wheel only
    through the reader that verified it (before: installer's WheelFile, i.e. zipfile)."""
    wheel = _wheel(tmp_path)

    def no_zipfile(*args: object, **kwargs: object) -> None:
        raise AssertionError("the wheel was reopened with zipfile")

    monkeypatch.setattr(zipfile, "ZipFile", no_zipfile)
    journal = Transaction()
    install_wheel(WheelToInstall(path=wheel, name="demo", version="1.0"), target, journal)
    journal.commit()
    root = Path(target.scheme["purelib"])
    assert (root / "demo" / "big.bin").read_bytes() == FILES["demo/big.bin"]
    assert (root / "bin" / "tool").read_text().startswith(f"#!{target.executable}\n")


def test_contents_are_the_checked_members_with_their_record_rows(tmp_path: Path) -> None:
    from intoto_pip.install.wheel_source import open_wheel

    wheel = _wheel(tmp_path)
    with SafeArchive.open(wheel) as archive:
        expected = {m.name: archive.read(m.name) for m in archive.members}
    with open_wheel(wheel) as source:
        assert source.dist_info_dir == INFO and source.data_dir == "demo-1.0.data"
        listed = set(source.dist_info_filenames)
        assert listed == {"METADATA", "WHEEL", "entry_points.txt", "RECORD"}
        seen = {}
        for (name, digest, size), stream, _executable in source.get_contents():
            data = stream.read()
            seen[name] = data
            if not name.endswith("/RECORD"):
                assert (digest, size) == (record_hash(data), str(len(data)))
        assert source.skipped == ["demo/__pycache__/stale.cpython-311.pyc"]
    del expected["demo/__pycache__/stale.cpython-311.pyc"]
    assert seen == expected


def test_the_wheel_installed_is_checked_against_the_hashes_verification_found(
    tmp_path: Path,
) -> None:
    """The hashes verification took (in its own process) are the ones the wheel opened for
    installing must have: a wheel whose members changed since (here: another build at the same
    path, its RECORD consistent with its new bytes) is refused before a byte is written."""
    from intoto_pip.errors import ArchiveError
    from intoto_pip.install.wheel_source import open_wheel

    wheel = _wheel(tmp_path)
    with SafeArchive.open(wheel) as archive:
        verified = archive.sha256_of_members()
    with open_wheel(wheel, verified_sha256=verified) as source:
        assert source.checked.archive.sha256_of_members() == verified
    changed = {**FILES, "demo/big.bin": b"other bytes"}
    members = wheel_members("demo", "1.0", changed, entry_points="[console_scripts]\nd = demo:X\n")
    write_wheel(wheel, members, f"{INFO}/RECORD")
    with (
        pytest.raises(ArchiveError, match="changed since"),
        open_wheel(wheel, verified_sha256=verified),
    ):
        pass
