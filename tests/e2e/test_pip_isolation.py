"""pip, as intoto-pip runs it, obeys only what intoto-pip passes: no code runs that nobody
verified, whatever the working folder, pip's environment and files, or a verified wheel's
dependencies say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intoto_pip.install.pip_settings import TAKEN
from tests.support.index import clean_env, run_intoto_pip
from tests.support.signing import Project
from tests.support.traps import trap_pip_package, trap_sdist
from tests.support.wheels import wheel_members, write_wheel

pytestmark = pytest.mark.slow


def _plain_dep(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    members = wheel_members("dep", "1.0", {"dep/__init__.py": b"VALUE = 1\n"})
    return write_wheel(folder / "dep-1.0-py3-none-any.whl", members, "dep-1.0.dist-info/RECORD")


def _app(project: Project, folder: Path, requirement: str) -> Path:
    files = {"app/__init__.py": b"import dep\n"}
    return project.signed_wheel(folder, "app", "1.0", files, requires=[requirement])


@pytest.mark.parametrize("kind", ["file", "https", "vcs"])
def test_a_direct_url_dependency_of_a_verified_wheel_is_refused_before_pip_starts(
    project: Project, tmp_path: Path, kind: str
) -> None:
    marker = tmp_path / "dep-backend-ran"
    trap = trap_sdist(tmp_path / "trap", "dep", "1.0", marker)
    urls = {
        "file": trap.as_uri(),
        "https": "https://127.0.0.1:9/dep-1.0.tar.gz",
        "vcs": "git+https://127.0.0.1:9/dep.git@v1",
    }
    requirement = f"dep @ {urls[kind]}"
    app = _app(project, tmp_path / "app", requirement)
    done = run_intoto_pip(
        *("install", "--dry-run", "--no-index", str(app)),
        *("--layout-key", str(project.owner.public_path)),
    )
    assert not marker.exists()
    assert done.returncode == 1, done.stderr
    assert repr(requirement) in done.stderr and "--allow-direct-url dep" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_named_direct_url_dependency_is_followed(project: Project, tmp_path: Path) -> None:
    dep = _plain_dep(tmp_path / "dep")
    app = _app(project, tmp_path / "app", f"dep @ {dep.as_uri()}")
    done = run_intoto_pip(
        *("install", "--dry-run", "--no-index", str(app), "--allow-direct-url", "Dep"),
        *("--layout-key", str(project.owner.public_path), "--allow-unverified", "dep"),
    )
    assert done.returncode == 0, done.stderr
    assert "Would install app-1.0 dep-1.0" in done.stdout


def test_pip_settings_from_outside_are_shown_and_only_the_allowed_ones_taken(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "trap-backend-ran"
    trap = trap_sdist(tmp_path / "trap", "dep", "1.0", marker)
    wheels = _plain_dep(tmp_path / "wheels").parent
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"dep @ {trap.as_uri()}\n")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nno-binary = :all:\nfind-links = {wheels}\n")
    env = clean_env(PIP_CONSTRAINT=str(constraints), PIP_CONFIG_FILE=str(config), PIP_RETRIES="2")
    report = tmp_path / "report.json"
    done = run_intoto_pip(
        *("install", "--dry-run", "--no-index", "dep", "--allow-unverified", "dep", "-v"),
        *("--report", str(report)),
        env=env,
    )
    assert not marker.exists()
    assert done.returncode == 0, done.stderr
    assert "pip setting constraint (environment PIP_CONSTRAINT) ignored" in done.stderr
    assert "pip setting no-binary (configuration [global]) ignored" in done.stderr
    assert f"pip setting taken: find-links={wheels} (configuration [global])" in done.stderr
    assert "pip setting taken: retries=2 (environment PIP_RETRIES)" in done.stderr
    settings = json.loads(report.read_text())["pip_settings"]
    # The machine's own pip files (global, site) are read too: only what they add may differ.
    taken = {s["name"] for s in settings["taken"]}
    assert {"find-links", "retries"} <= taken <= set(TAKEN)
    assert {"constraint", "no-binary"} <= {s["name"] for s in settings["ignored"]}


def test_pip_never_runs_a_pip_package_from_the_working_folder(tmp_path: Path) -> None:
    marker = tmp_path / "planted-pip-ran"
    work = tmp_path / "work"
    trap_pip_package(work, marker)
    wheels = _plain_dep(tmp_path / "wheels").parent
    done = run_intoto_pip(
        *("install", "--dry-run", "--no-index", "--find-links", str(wheels), "dep"),
        *("--allow-unverified", "dep"),
        cwd=work,
    )
    assert not marker.exists()
    assert done.returncode == 0, done.stderr
