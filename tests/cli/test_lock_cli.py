"""``install -r pylock.toml`` / ``--lock`` and ``intoto-pip lock`` on the command line: exit
codes, one-line errors, and a lock of local wheels installed without pip or an index."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from tests.support.signing import Project
from tests.support.wheels import wheel_members, write_wheel


def _wheel(folder: Path, name: str = "demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    members = wheel_members(name, "1.0", {f"{name}/__init__.py": b"X = 1\n"})
    return write_wheel(
        folder / f"{name}-1.0-py3-none-any.whl", members, f"{name}-1.0.dist-info/RECORD"
    )


def _lock_of(wheel: Path, lock: Path, *, sha256: str | None = None) -> Path:
    digest = sha256 or hashlib.sha256(wheel.read_bytes()).hexdigest()
    relative = wheel.relative_to(lock.parent).as_posix()
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\nname = "demo"\n'
        f'version = "1.0"\nwheels = [{{ name = "{wheel.name}", path = "{relative}", '
        f'size = {wheel.stat().st_size}, hashes = {{ sha256 = "{digest}" }} }}]\n'
    )
    return lock


def _err(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_a_lock_of_local_wheels_installs_without_pip(tmp_path: Path) -> None:
    lock = _lock_of(_wheel(tmp_path / "wheels"), tmp_path / "pylock.toml")
    target = tmp_path / "target"
    code = main(["install", "-r", str(lock), "--target", str(target), "--allow-unverified", "demo"])
    assert code == 0
    assert (target / "demo" / "__init__.py").read_bytes() == b"X = 1\n"


def test_a_hash_that_differs_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _lock_of(_wheel(tmp_path / "wheels"), tmp_path / "pylock.toml", sha256="0" * 64)
    target = tmp_path / "target"
    code = main(
        ["install", "--lock", str(lock), "--target", str(target), "--allow-unverified", ":all:"]
    )
    assert code == 1
    (line,) = _err(capsys)
    assert f"{lock}: packages[0].wheels[0]: demo-1.0-py3-none-any.whl has sha256" in line
    assert not target.exists() or not any(target.iterdir())


def test_a_file_verified_by_no_one_is_refused_like_any_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _lock_of(_wheel(tmp_path / "wheels"), tmp_path / "pylock.toml")
    key = Project(tmp_path / "keys").owner.public_path
    code = main(
        ["install", "-r", str(lock), "--target", str(tmp_path / "t"), "--layout-key", str(key)]
    )
    assert code == 1
    assert "nothing was installed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            'lock-version = "3"\ncreated-by = "x"\npackages = []\n',
            "lock-version: 3 is not supported",
        ),
        ('lock-version = "1.0"\npackages = []\n', "created-by: Missing required value"),
        (
            'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "demo"\n'
            'wheels = [{ name = "demo-1.0-cp38-cp38-win_amd64.whl", path = "w.whl", '
            'hashes = { sha256 = "00" } }]\n',
            "No wheel found matching the provided tags for package 'demo' at packages[0]",
        ),
    ],
)
def test_a_malformed_lock_exits_2_with_one_line_naming_the_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str
) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(text)
    assert main(["install", "-r", str(lock), "--target", str(tmp_path / "t")]) == 2
    (line,) = _err(capsys)
    assert line.startswith(f"intoto-pip: error: {lock}: ") and where in line


def test_a_lock_comes_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = _lock_of(_wheel(tmp_path / "wheels"), tmp_path / "pylock.toml")
    assert main(["install", "-r", str(lock), "requests", "--target", str(tmp_path / "t")]) == 2
    assert "installed exactly as it is: give no other requirement" in capsys.readouterr().err


def test_lock_writes_only_a_file_named_as_a_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lock", "demo", "-o", str(tmp_path / "requirements.txt")]) == 2
    assert "PEP 751 names a lock pylock.toml or pylock.NAME.toml" in capsys.readouterr().err


def test_lock_of_a_local_wheel_then_install_of_the_lock(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "wheels")
    lock = tmp_path / "pylock.local.toml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "intoto_pip.cli.main",
            "lock",
            str(wheel),
            "--no-index",
            "--allow-unverified",
            "demo",
            "-o",
            str(lock),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert 'path = "wheels/demo-1.0-py3-none-any.whl"' in lock.read_text()
    target = tmp_path / "target"
    code = main(["install", "-r", str(lock), "--target", str(target), "--allow-unverified", "demo"])
    assert code == 0 and (target / "demo" / "__init__.py").is_file()
