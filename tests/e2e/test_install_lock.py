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
    simple.add(_dep(project, tmp_path / "other", b"dap"), "dep")
    python = make_venv(tmp_path / "venv")
    before = snapshot(python.parent.parent)
    done = run_intoto_pip("install", "--lock", str(lock), "--python", str(python), *_key(project))
    assert done.returncode == 1
    # The size differs or, when it happens not to, the sha256 (both are checked).
    assert f"{lock}: packages[1].wheels[0]: dep-1.0-py3-none-any.whl " in done.stderr
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


# Provenance: the real PEP 740 attestations of fixtures/pep740/ on a PEP 691 index.


@pytest.fixture(scope="module")
def flit_core(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.e2e.test_install_provenance import flit_core as download

    return download.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined,no-any-return]


def test_a_lock_pins_the_publisher_it_verified(tmp_path: Path, flit_core: Path) -> None:
    from tests.e2e.test_install_provenance import GITLAB, intoto_pip, make_index
    from tests.support.pep691 import serve_pep691
    from tests.support.pep740 import GITLAB_PIN

    home, lock = tmp_path / "home", tmp_path / "pylock.toml"
    build = ("--no-binary", GITLAB, "--allow-unverified", "flit-core")
    with serve_pep691(make_index(tmp_path / "index", flit_core)) as url:
        pin = ("--publisher", f"{GITLAB}={GITLAB_PIN}")
        written = intoto_pip(
            home, "lock", f"{GITLAB}==0.0.3", *build, "--index-url", url, *pin, "-o", str(lock)
        )
        assert written.returncode == 0, written.stderr
        package = tomllib.loads(lock.read_text())["packages"][0]
        assert package["sdist"]["name"] == "gitlab_oidc_project-0.0.3.tar.gz"
        assert package["attestation-identities"] == [
            {
                "kind": "GitLab",
                "repository": "facutuesca/gitlab-oidc-project",
                "workflow_filepath": ".gitlab-ci.yml",
            }
        ]
        python = make_venv(tmp_path / "venv")
        # No --publisher now: the lock's identity is the pin.
        install = ("install", *build, "--index-url", url, "--python", str(python))
        done = intoto_pip(home, *install, "-r", str(lock))
        assert done.returncode == 0, done.stderr
        assert "published by GitLab facutuesca/gitlab-oidc-project" in done.stderr
        # The same lock, claiming another publisher: the file's attestation says otherwise.
        other = tmp_path / "other" / "pylock.toml"
        other.parent.mkdir()
        other.write_text(lock.read_text().replace(".gitlab-ci.yml", "release.yml"))
        refused = intoto_pip(home, *install, "--dry-run", "--lock", str(other))
        conflict = intoto_pip(
            home, *install, "--lock", str(lock), "--dry-run", "--publisher", f"{GITLAB}=gitlab:a/b"
        )
    assert refused.returncode == 1, refused.stderr
    assert "not by GitLab facutuesca/gitlab-oidc-project, workflow release.yml" in refused.stderr
    assert f"pinned by {other}: packages[0].attestation-identities[0]" in refused.stderr
    assert conflict.returncode == 2
    assert "the lock says gitlab-oidc-project is published by GitLab facut" in conflict.stderr
    assert "but --publisher gitlab-oidc-project=gitlab:a/b pins it to GitLab a/b" in conflict.stderr
