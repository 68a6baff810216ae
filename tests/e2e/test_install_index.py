"""End to end with a real virtualenv and a real PEP 503 index on 127.0.0.1: pip resolves,
intoto-pip downloads, verifies and installs."""

from __future__ import annotations

import json
import subprocess
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
from tests.support.pki import make_pki
from tests.support.signing import Project
from tests.support.tree import diff, snapshot

pytestmark = pytest.mark.slow


def _app(project: Project, folder: Path, version: str) -> Path:
    files = {"app/__init__.py": f"import dep\nVERSION = {version!r}\nDEP = dep.VALUE\n".encode()}
    return project.signed_wheel(folder, "app", version, files, requires=["dep>=1.0"])


def _dep(project: Project, folder: Path, *, tampered: bool = False) -> Path:
    tamper = {"dep/__init__.py": b"VALUE = 'evil'\n"} if tampered else None
    return project.signed_wheel(
        folder, "dep", "1.0", {"dep/__init__.py": b"VALUE = 'dep'\n"}, tamper=tamper
    )


@pytest.fixture()
def requests() -> list[str]:
    """Every path the index was asked for, in order."""
    return []


@pytest.fixture()
def index(tmp_path: Path, requests: list[str]) -> Iterator[tuple[SimpleIndex, str]]:
    """An index serving each wheel's METADATA beside it, as PyPI does (PEP 658)."""
    simple = SimpleIndex(tmp_path / "index", metadata=True)
    with serve(simple.root, requests=requests) as url:
        yield simple, f"{url}/simple/"


def _run(python: Path, project: Project, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_intoto_pip(
        "install",
        *args,
        "--index-url",
        url,
        "--python",
        str(python),
        "--layout-key",
        str(project.owner.public_path),
    )


def _probe(python: Path) -> str:
    code = "import app; print(app.VERSION, app.DEP)"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "absent"


def test_project_and_dependency_install_then_upgrade(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path, requests: list[str]
) -> None:
    simple, url = index
    simple.add(_app(project, tmp_path / "d1", "1.0"), "app")
    simple.add(_dep(project, tmp_path / "d1"), "dep")
    python = make_venv(tmp_path / "venv")
    report = tmp_path / "report.json"
    done = _run(python, project, url, "app", "--report", str(report))
    assert done.returncode == 0, done.stderr
    # pip read the METADATA files only; each wheel was downloaded once (while pip resolved)
    wheels = sorted(path.rsplit("/", 1)[-1] for path in requests if path.endswith(".whl"))
    assert wheels == ["app-1.0-py3-none-any.whl", "dep-1.0-py3-none-any.whl"]
    assert _probe(python) == "1.0 dep"
    entries = {e["name"]: e for e in json.loads(report.read_text())["distributions"]}
    assert entries["app"]["requested"] is True and entries["dep"]["requested"] is False
    assert {e["verdict"] for e in entries.values()} == {"verified"}
    assert json.loads(report.read_text())["used_pip"] is True
    simple.add(_app(project, tmp_path / "d2", "2.0"), "app")
    done = _run(python, project, url, "--upgrade", "app")
    assert done.returncode == 0, done.stderr
    assert _probe(python) == "2.0 dep"
    listed = json.loads(run_pip(python, "list", "--format=json").stdout)
    assert {p["name"]: p["version"] for p in listed if p["name"] != "pip"} == {
        "app": "2.0",
        "dep": "1.0",
    }
    assert run_pip(python, "check").returncode == 0


def test_tampered_dependency_refuses_the_whole_install(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    simple, url = index
    simple.add(_app(project, tmp_path / "d", "1.0"), "app")
    simple.add(_dep(project, tmp_path / "d", tampered=True), "dep")
    python = make_venv(tmp_path / "venv")
    before = snapshot(python.parent.parent)
    done = _run(python, project, url, "app")
    assert done.returncode == 1
    assert "dep-1.0-py3-none-any.whl: NOT verified" in done.stderr
    assert "nothing was installed" in done.stderr and "Traceback" not in done.stderr
    assert diff(before, snapshot(python.parent.parent)) == []
    assert _probe(python) == "absent"


def test_index_hash_mismatch_is_refused(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    simple, url = index
    simple.add(_app(project, tmp_path / "d", "1.0"), "app")
    simple.add(_dep(project, tmp_path / "d"), "dep")
    # Swap the file after the index page was written: its sha256 fragment no longer matches.
    (simple.root / "files" / "dep-1.0-py3-none-any.whl").write_bytes(
        _dep(project, tmp_path / "other", tampered=True).read_bytes()
    )
    python = make_venv(tmp_path / "venv")
    done = _run(python, project, url, "app")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert _probe(python) == "absent"


def test_local_wheel_with_dependency_from_the_index(
    project: Project, index: tuple[SimpleIndex, str], tmp_path: Path
) -> None:
    simple, url = index
    simple.add(_dep(project, tmp_path / "d"), "dep")
    app = _app(project, tmp_path / "local", "1.0")
    python = make_venv(tmp_path / "venv")
    done = _run(python, project, url, str(app))
    assert done.returncode == 0, done.stderr
    assert _probe(python) == "1.0 dep"
    site = Path(
        subprocess.run(
            [
                str(python),
                "-c",
                "import app, os; print(os.path.dirname(os.path.dirname(app.__file__)))",
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    direct = json.loads((site / "app-1.0.dist-info" / "direct_url.json").read_text())
    assert direct["url"] == app.absolute().as_uri()
    assert not (site / "dep-1.0.dist-info" / "direct_url.json").exists()
    assert not (site / "dep-1.0.dist-info" / "REQUESTED").exists()


def test_an_index_behind_a_private_authority_is_reached_as_pip_is_told(
    project: Project, tmp_path: Path
) -> None:
    """pip.conf's ``cert`` (here PIP_CERT) names the authority of a private https index: pip
    resolves with it, and intoto-pip's own downloads of the files pip picked use it too.
    Before, pip resolved and the download failed ("certificate verify failed")."""
    pki = make_pki(tmp_path / "pki")
    simple = SimpleIndex(tmp_path / "index")
    simple.add(_app(project, tmp_path / "d1", "1.0"), "app")
    simple.add(_dep(project, tmp_path / "d1"), "dep")
    python = make_venv(tmp_path / "venv")
    with serve(simple.root, tls=pki.server_context()) as url:
        key = ("--layout-key", str(project.owner.public_path))
        args = ("install", "app", "--index-url", f"{url}/simple/", "--python", str(python), *key)
        untrusted = run_intoto_pip(*args)
        assert untrusted.returncode != 0  # the system's authorities do not know this one
        assert _probe(python) == "absent"
        env = clean_env(PIP_CERT=str(pki.authority))
        # requests (inside pip) lets these beat pip's own cert setting: not what is tested.
        env = {k: v for k, v in env.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
        trusted = run_intoto_pip(*args, env=env)
    assert trusted.returncode == 0, trusted.stderr
    assert _probe(python) == "1.0 dep"
