"""End to end with a real virtualenv: local signed wheels, no pip resolution involved."""

from __future__ import annotations

import errno
import json
import subprocess
from pathlib import Path
from typing import BinaryIO

import pytest
from installer.records import RecordEntry
from installer.utils import Scheme

from intoto_pip.cli.main import main
from intoto_pip.install import installer_step, pipeline
from tests.support.index import run_intoto_pip, run_pip, site_packages
from tests.support.signing import Project
from tests.support.tree import diff, snapshot

pytestmark = pytest.mark.slow

MAIN = "def main():\n    print(VERSION)\n"
ENTRY_POINTS = "[console_scripts]\ndemo-tool = demo_pkg:main\n"


def _wheel(project: Project, folder: Path, version: str, **kwargs: object) -> Path:
    files = {
        "demo_pkg/__init__.py": f"VERSION = {version!r}\n{MAIN}".encode(),
        f"demo_pkg/only_{version.replace('.', '_')}.py": b"",
    }
    return project.signed_wheel(
        folder,
        "demo-pkg",
        version,
        files,
        entry_points=ENTRY_POINTS,
        **kwargs,  # type: ignore[arg-type]
    )


def _import(python: Path) -> str:
    done = subprocess.run(
        [str(python), "-c", "import demo_pkg; print(demo_pkg.VERSION)"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else f"error: {done.stderr}"


def _install(python: Path, project: Project, *args: str) -> list[str]:
    return [
        "install",
        *args,
        "--python",
        str(python),
        "--layout-key",
        str(project.owner.public_path),
    ]


def test_verified_local_install_then_pip_uninstall(
    venv: Path, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _wheel(project, tmp_path / "dist", "1.0")
    before = snapshot(venv.parent.parent)

    def no_pip(options: object) -> list[object]:
        raise AssertionError("pip must not be started for a local wheel without dependencies")

    # Patched where the pipeline looks it up (patching the resolve module's own name would
    # reach a pipeline first imported during this test, and stay there for later tests).
    monkeypatch.setattr(pipeline, "resolve", no_pip)
    report = tmp_path / "report.json"
    assert main([*_install(venv, project, str(wheel)), "--report", str(report)]) == 0
    assert _import(venv) == "1.0"
    assert (
        subprocess.run([str(venv.parent / "demo-tool")], capture_output=True, text=True).stdout
        == "1.0\n"
    )
    site = site_packages(venv)
    info = site / "demo_pkg-1.0.dist-info"
    assert (info / "INSTALLER").read_text() == "intoto-pip\n"
    assert (info / "REQUESTED").exists()
    assert json.loads((info / "direct_url.json").read_text())["url"] == wheel.absolute().as_uri()
    assert (info / "in-toto" / "root.layout").is_file()
    assert "demo_pkg/__pycache__/__init__.cpython" in (info / "RECORD").read_text()
    data = json.loads(report.read_text())
    assert data["compile_bytecode"] is True and data["bytecode_written"] is True
    [entry] = data["distributions"]
    assert entry["verdict"] == "verified"
    assert entry["layout_keys"] == [project.owner.public.keyid]
    assert entry["functionaries"] == {"build": [project.functionary.public.keyid]}
    listed = run_pip(venv, "list", "--format=json")
    assert {"name": "demo-pkg", "version": "1.0"} in [
        {"name": p["name"].lower(), "version": p["version"]} for p in json.loads(listed.stdout)
    ]
    assert "Version: 1.0" in run_pip(venv, "show", "demo-pkg").stdout
    assert run_pip(venv, "uninstall", "-y", "demo-pkg").returncode == 0
    assert diff(before, snapshot(venv.parent.parent)) == []


def test_no_compile_writes_no_bytecode_and_the_report_says_so(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    """``--no-compile`` (as pip's): no .pyc in the target, none in RECORD; the report says so."""
    wheel = _wheel(project, tmp_path / "dist", "1.0")
    report = tmp_path / "report.json"
    args = [*_install(venv, project, str(wheel)), "--no-compile", "--report", str(report)]
    assert main(args) == 0
    site = site_packages(venv)
    assert list(site.glob("demo_pkg/**/*.pyc")) == []
    assert ".pyc" not in (site / "demo_pkg-1.0.dist-info" / "RECORD").read_text()
    data = json.loads(report.read_text())
    assert data["compile_bytecode"] is False and data["bytecode_written"] is False
    assert all(".pyc" not in path for path in data["distributions"][0]["installed_files"])
    assert run_pip(venv, "uninstall", "-y", "demo-pkg").returncode == 0


def test_tampered_wheel_is_refused_and_nothing_written(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    good = _wheel(project, tmp_path / "good", "1.0")
    bad = project.signed_wheel(
        tmp_path / "bad", "other", "1.0", {"other.py": b"X = 1\n"}, tamper={"other.py": b"X = 2\n"}
    )
    before = snapshot(venv.parent.parent)
    done = run_intoto_pip(*_install(venv, project, str(good), str(bad)))
    assert done.returncode == 1, done.stderr
    assert "NOT verified" in done.stderr and "nothing was installed" in done.stderr
    assert "Traceback" not in done.stderr
    assert diff(before, snapshot(venv.parent.parent)) == []


def test_missing_metadata_is_refused_unless_allowed(venv: Path, tmp_path: Path) -> None:
    from tests.support.wheels import wheel_members, write_wheel

    members = wheel_members("demo-pkg", "1.0", {"demo_pkg/__init__.py": b"VERSION = '1.0'\n"})
    wheel = write_wheel(
        tmp_path / "demo_pkg-1.0-py3-none-any.whl", members, "demo_pkg-1.0.dist-info/RECORD"
    )
    done = run_intoto_pip("install", str(wheel), "--python", str(venv))
    assert done.returncode == 1
    assert "--allow-unverified demo-pkg" in done.stderr
    done = run_intoto_pip(
        "install", str(wheel), "--python", str(venv), "--allow-unverified", "Demo_Pkg"
    )
    assert done.returncode == 0, done.stderr
    assert _import(venv) == "1.0"


def test_upgrade_and_failure_midway_restores_everything(
    venv: Path, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _wheel(project, tmp_path / "v1", "1.0")
    new = _wheel(project, tmp_path / "v2", "2.0")
    assert main(_install(venv, project, str(old))) == 0
    before = snapshot(venv.parent.parent)
    original = installer_step.RecordingDestination.write_to_fs
    calls = {"n": 0}

    def failing(
        self: installer_step.RecordingDestination,
        scheme: Scheme,
        path: str,
        stream: BinaryIO,
        is_executable: bool,
    ) -> RecordEntry:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return original(self, scheme, path, stream, is_executable)

    monkeypatch.setattr(installer_step.RecordingDestination, "write_to_fs", failing)
    assert main(_install(venv, project, str(new))) == 3
    assert calls["n"] == 3
    assert diff(before, snapshot(venv.parent.parent)) == []
    assert _import(venv) == "1.0"
    monkeypatch.setattr(installer_step.RecordingDestination, "write_to_fs", original)
    assert main(_install(venv, project, str(new))) == 0
    assert _import(venv) == "2.0"
    site = site_packages(venv)
    assert not (site / "demo_pkg-1.0.dist-info").exists()
    assert not (site / "demo_pkg" / "only_1_0.py").exists()
    assert (site / "demo_pkg" / "only_2_0.py").exists()
    assert "Version: 2.0" in run_pip(venv, "show", "demo-pkg").stdout


def test_file_in_the_way_is_replaced_and_restored_on_failure(
    venv: Path, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _wheel(project, tmp_path / "dist", "1.0")
    site = site_packages(venv)
    (site / "demo_pkg").mkdir()
    (site / "demo_pkg" / "__init__.py").write_text("STRAY = True\n")
    before = snapshot(venv.parent.parent)
    original = installer_step.RecordingDestination.finalize_installation

    def failing(self: installer_step.RecordingDestination, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", "RECORD")

    monkeypatch.setattr(installer_step.RecordingDestination, "finalize_installation", failing)
    assert main(_install(venv, project, str(wheel))) == 3
    assert diff(before, snapshot(venv.parent.parent)) == []
    monkeypatch.setattr(installer_step.RecordingDestination, "finalize_installation", original)
    assert main(_install(venv, project, str(wheel))) == 0
    assert _import(venv) == "1.0"


def test_dry_run_installs_nothing(venv: Path, project: Project, tmp_path: Path) -> None:
    wheel = _wheel(project, tmp_path / "dist", "1.0")
    before = snapshot(venv.parent.parent)
    done = run_intoto_pip(*_install(venv, project, str(wheel), "--dry-run", "--report", "-"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    assert report["dry_run"] is True and report["distributions"][0]["verdict"] == "verified"
    assert diff(before, snapshot(venv.parent.parent)) == []
