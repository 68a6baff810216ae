"""End to end with PEP 751 locks on a loopback PEP 503 index: ``intoto-pip lock`` writes one,
``install -r pylock.toml`` installs exactly its files, verified; locks written by uv and by
pip install too."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index import (
    SimpleIndex,
    clean_env,
    make_venv,
    run_intoto_pip,
    run_pip,
    serve,
)
from tests.support.signing import Project
from tests.support.tree import diff, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("keys"))


def _app(project: Project, folder: Path) -> Path:
    files = {"app/__init__.py": b"import dep\nVERSION = '1.0'\nDEP = dep.VALUE\n"}
    return project.signed_wheel(folder, "app", "1.0", files, requires=["dep>=1.0"])


def _dep(project: Project, folder: Path, value: bytes = b"dep") -> Path:
    files = {"dep/__init__.py": b"VALUE = '" + value + b"'\n"}
    return project.signed_wheel(folder, "dep", "1.0", files)


@pytest.fixture()
def index(project: Project, tmp_path: Path) -> Iterator[tuple[SimpleIndex, str]]:
    simple = SimpleIndex(tmp_path / "index")
    simple.add(_app(project, tmp_path / "built"), "app")
    simple.add(_dep(project, tmp_path / "built"), "dep")
    with serve(simple.root) as url:
        yield simple, f"{url}/simple/"


def _key(project: Project) -> tuple[str, str]:
    return ("--layout-key", str(project.owner.public_path))


def _installed(python: Path) -> dict[str, str]:
    listed = json.loads(run_pip(python, "list", "--format=json").stdout)
    return {p["name"]: p["version"] for p in listed if p["name"] != "pip"}


def _probe(python: Path) -> str:
    code = "import app; print(app.VERSION, app.DEP)"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "absent"


def test_lock_then_install_gives_what_a_plain_verified_install_gives(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    _, url = index
    lock = tmp_path / "pylock.toml"
    written = run_intoto_pip("lock", "app", "--index-url", url, *_key(project), "-o", str(lock))
    assert written.returncode == 0, written.stderr
    data = tomllib.loads(lock.read_text())
    assert data["lock-version"] == "1.0" and data["created-by"] == "intoto-pip"
    packages = {p["name"]: p for p in data["packages"]}
    assert sorted(packages) == ["app", "dep"]
    wheel = packages["dep"]["wheels"][0]
    assert wheel["url"] == url.replace("/simple/", "/files/dep-1.0-py3-none-any.whl")
    assert wheel["size"] > 0 and len(wheel["hashes"]["sha256"]) == 64
    assert packages["dep"]["index"] == url
    locked_venv, plain_venv = make_venv(tmp_path / "a"), make_venv(tmp_path / "b")
    done = run_intoto_pip("install", "-r", str(lock), "--python", str(locked_venv), *_key(project))
    assert done.returncode == 0, done.stderr
    assert "dep-1.0-py3-none-any.whl: verified" in done.stderr
    plain = run_intoto_pip(
        "install", "app", "--index-url", url, "--python", str(plain_venv), *_key(project)
    )
    assert plain.returncode == 0, plain.stderr
    assert _installed(locked_venv) == _installed(plain_venv) == {"app": "1.0", "dep": "1.0"}
    assert _probe(locked_venv) == "1.0 dep"
    assert run_pip(locked_venv, "check").returncode == 0


def test_a_file_swapped_on_the_index_after_locking_is_refused(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    simple, url = index
    lock = tmp_path / "pylock.toml"
    written = run_intoto_pip("lock", "app", "--index-url", url, *_key(project), "-o", str(lock))
    assert written.returncode == 0, written.stderr
    # Another build of dep 1.0, signed by the same owner: only the lock's hash tells it apart.
    simple.add(_dep(project, tmp_path / "other", b"other"), "dep")
    python = make_venv(tmp_path / "venv")
    before = snapshot(python.parent.parent)
    done = run_intoto_pip("install", "--lock", str(lock), "--python", str(python), *_key(project))
    assert done.returncode == 1
    assert f"{lock}: packages[1].wheels[0]: dep-1.0-py3-none-any.whl has sha256" in done.stderr
    assert "not the file that was locked" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert diff(before, snapshot(python.parent.parent)) == []


def test_a_refused_distribution_writes_no_lock(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    simple, url = index
    tampered = project.signed_wheel(
        tmp_path / "evil",
        "dep",
        "1.0",
        {"dep/__init__.py": b"VALUE = 'dep'\n"},
        tamper={"dep/__init__.py": b"VALUE = 'evil'\n"},
    )
    simple.add(tampered, "dep")
    lock = tmp_path / "pylock.toml"
    done = run_intoto_pip("lock", "app", "--index-url", url, *_key(project), "-o", str(lock))
    assert done.returncode == 1
    assert "dep-1.0-py3-none-any.whl: NOT verified" in done.stderr
    assert "no lock was written" in done.stderr
    assert not lock.exists()


def test_a_lock_written_by_uv_installs(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    _, url = index
    (tmp_path / "requirements.in").write_text("app\n")
    lock = tmp_path / "pylock.toml"
    uv = Path(sys.executable).parent / "uv"
    compiled = subprocess.run(
        [str(uv), "pip", "compile", "requirements.in", "-o", lock.name, "--index-url", url],
        cwd=tmp_path,
        env=clean_env(UV_NO_CACHE="1", UV_NO_CONFIG="1"),
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, compiled.stderr
    assert "uv" in tomllib.loads(lock.read_text())["created-by"]
    python = make_venv(tmp_path / "venv")
    done = run_intoto_pip("install", "-r", str(lock), "--python", str(python), *_key(project))
    assert done.returncode == 0, done.stderr
    assert _probe(python) == "1.0 dep"


def test_a_lock_written_by_pip_installs(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    _, url = index
    tool = make_venv(tmp_path / "pip-tool")  # virtualenv seeds a pip that has `pip lock`
    lock = tmp_path / "pylock.toml"
    written = run_pip(tool, "lock", "app", "--index-url", url, "-o", str(lock))
    assert written.returncode == 0, written.stderr
    assert "pip" in tomllib.loads(lock.read_text())["created-by"]
    python = make_venv(tmp_path / "venv")
    done = run_intoto_pip("install", "-r", str(lock), "--python", str(python), *_key(project))
    assert done.returncode == 0, done.stderr
    assert _probe(python) == "1.0 dep"
