"""Installing one wheel through the journaling destination, and removing an installed one."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from intoto_pip.install.installer_step import (
    InstalledFiles,
    WheelToInstall,
    install_wheel,
    remove_installed,
)
from intoto_pip.install.target import Target, probe_target
from intoto_pip.install.transaction import Transaction
from tests.support.tree import diff, snapshot
from tests.support.wheels import wheel_members, write_wheel

INFO = "demo-1.0.dist-info"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    return probe_target(Path(sys.executable), target_dir=tmp_path_factory.mktemp("site"))


def _wheel(tmp_path: Path) -> Path:
    files = {
        "demo/__init__.py": b"X = 1\n",
        "demo/__pycache__/stale.cpython-311.pyc": b"stale",
        "demo-startup.pth": b"import demo\n",
        "demo-1.0.data/scripts/tool": b"#!python\nprint('tool')\n",
    }
    members = wheel_members("demo", "1.0", files, entry_points="[console_scripts]\ndemo = demo:X\n")
    return write_wheel(tmp_path / "demo-1.0-py3-none-any.whl", members, f"{INFO}/RECORD")


def _install(tmp_path: Path, target: Target, journal: Transaction) -> InstalledFiles:
    wheel = WheelToInstall(
        path=_wheel(tmp_path),
        name="demo",
        version="1.0",
        requested=True,
        direct_url="file:///x/demo-1.0-py3-none-any.whl",
        sha256="ab" * 32,
    )
    return install_wheel(wheel, target, journal)


def test_install_writes_record_with_bytecode_and_metadata(tmp_path: Path, target: Target) -> None:
    root = Path(target.scheme["purelib"])
    before = snapshot(root)
    journal = Transaction()
    result = _install(tmp_path, target, journal)
    journal.commit()
    rows = {row[0] for row in csv.reader((root / INFO / "RECORD").read_text().splitlines())}
    pyc = f"demo/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    assert {"demo/__init__.py", pyc, f"{INFO}/INSTALLER", f"{INFO}/REQUESTED"} <= rows
    assert {f"{INFO}/direct_url.json", "bin/demo", "bin/tool", "demo-startup.pth"} <= rows
    assert (root / pyc).is_file()
    assert not (root / "demo/__pycache__/stale.cpython-311.pyc").exists()
    assert (root / "bin" / "tool").read_text().startswith(f"#!{target.executable}\n")
    assert result.pth_files == (root / "demo-startup.pth",)
    assert result.skipped == ("demo/__pycache__/stale.cpython-311.pyc",)
    # Removal (journaled) then rollback brings everything back; commit leaves the old tree.
    installed = target.installed()["demo"]
    after_install = snapshot(root)
    journal = Transaction()
    assert remove_installed(installed, target, journal) > 5
    assert not (root / "demo").exists() and not (root / INFO).exists()
    assert journal.rollback() == []
    assert diff(after_install, snapshot(root)) == []
    journal = Transaction()
    remove_installed(installed, target, journal)
    journal.commit()
    # Scheme roots (here --target's bin/) stay, as pip leaves a venv's bin/ in place.
    assert diff(before, snapshot(root)) == ["added bin"]


def test_failed_install_rolls_back(tmp_path: Path, target: Target) -> None:
    root = Path(target.scheme["purelib"])
    (root / "demo").mkdir(exist_ok=True)
    (root / "demo" / "__init__.py").write_text("in the way\n")
    before = snapshot(root)
    journal = Transaction()
    _install(tmp_path, target, journal)
    assert (root / "demo" / "__init__.py").read_text() == "X = 1\n"
    assert journal.rollback() == []
    assert diff(before, snapshot(root)) == []
    (root / "demo" / "__init__.py").unlink()
    (root / "demo").rmdir()


def test_compiling_bytecode_runs_no_pth_file_of_the_wheel(tmp_path: Path) -> None:
    """Bytecode is compiled by the target interpreter started with -S: a .pth file being
    installed must not run mid-installation (what it did could not be rolled back)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = probe_target(venv / "bin" / "python")
    marker = tmp_path / "pth-ran"
    files = {
        "loud/__init__.py": b"X = 1\n",
        "loud.pth": f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n".encode(),
    }
    members = wheel_members("loud", "1.0", files)
    path = write_wheel(tmp_path / "loud-1.0-py3-none-any.whl", members, "loud-1.0.dist-info/RECORD")
    journal = Transaction()
    result = install_wheel(WheelToInstall(path=path, name="loud", version="1.0"), target, journal)
    assert not marker.exists()
    pyc = Path(target.scheme["purelib"]) / f"loud/__pycache__/__init__.{target.cache_tag}.pyc"
    assert pyc in result.files and pyc.is_file()
    journal.rollback()


def test_failure_midway_stops_the_compiler_before_the_rollback(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Modules are handed to the compiler as they are written; an installation failing midway
    stops it (before the rollback), and the rollback removes every .pyc it wrote and leaves
    the target as it was."""
    from intoto_pip.install import bytecode, installer_step

    made: list[bytecode.BytecodeCompiler] = []

    def compiler_for(python: str, check: object = None) -> bytecode.BytecodeCompiler:
        made.append(bytecode.BytecodeCompiler(python))
        return made[-1]

    monkeypatch.setattr(installer_step, "compiler_for", compiler_for)
    files = {f"many/m{i:02d}.py": b"X = 1\n" for i in range(30)}
    files["many/zz_blocked/file.py"] = b"Y = 2\n"
    members = wheel_members("many", "1.0", files)
    path = write_wheel(tmp_path / "many-1.0-py3-none-any.whl", members, "many-1.0.dist-info/RECORD")
    root = Path(target.scheme["purelib"])
    before = snapshot(root)
    (root / "many").mkdir()
    (root / "many" / "zz_blocked").write_text("a file where a folder must go")
    journal = Transaction()
    with pytest.raises(OSError):
        install_wheel(WheelToInstall(path=path, name="many", version="1.0"), target, journal)
    [compiler] = made
    assert compiler._caches and compiler._processes, "modules went to the compiler as written"
    assert all(p.poll() is not None for p in compiler._processes), "stopped before rollback"
    assert all(cache in journal.written for cache in compiler._caches), "journaled first"
    assert journal.rollback() == []
    (root / "many" / "zz_blocked").unlink()
    (root / "many").rmdir()
    assert diff(before, snapshot(root)) == []


@pytest.mark.parametrize("largest", [1, 10_000_000])
def test_every_file_matches_its_record_row_whoever_writes_it(
    largest: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small members are handed to the writing threads, large ones streamed by the installing
    thread (``largest``: the most bytes handed over): either way each file holds the member's
    bytes, and RECORD lists that hash and size."""
    import base64
    import hashlib

    from intoto_pip.install import installer_step

    monkeypatch.setattr(installer_step, "LARGEST_HANDED_OVER", largest)
    site = tmp_path / "site"
    target = probe_target(Path(sys.executable), target_dir=site)
    big = bytes(range(256)) * 4096  # 1 MiB: several chunks
    files = {"demo/__init__.py": b"X = 1\n", "demo/big.bin": big, "demo/empty.txt": b""}
    members = wheel_members("demo", "1.0", files)
    path = write_wheel(tmp_path / "demo-1.0-py3-none-any.whl", members, f"{INFO}/RECORD")
    journal = Transaction()
    install_wheel(WheelToInstall(path=path, name="demo", version="1.0"), target, journal)
    journal.commit()
    for name, data in files.items():
        assert (site / name).read_bytes() == data
    rows = {r[0]: r for r in csv.reader((site / INFO / "RECORD").read_text().splitlines())}
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
        assert rows[name][1:] == [f"sha256={digest}", str(len(data))]
