"""``intoto-pip install`` with PEP 740 provenance from a loopback index, on real attestations.

The index speaks PEP 691 JSON: gitlab-oidc-project's file carries a ``provenance`` URL,
the same file, in another index, only on the Integrity API path. Sdists go through
``--no-binary`` (fetched, provenance-checked, then built with flit_core from the same index).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.index import clean_env
from tests.support.pep691 import Pep691Index, serve_pep691
from tests.support.pep740 import (
    GITLAB_PIN,
    GITLAB_SDIST,
    PYPI_SDIST,
    RFC_WHEEL,
    ROOT,
    attestation,
    no_network,
    provenance_object,
)

pytestmark = pytest.mark.slow
GITLAB = "gitlab-oidc-project"


@pytest.fixture(scope="module")
def flit_core(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real build backend gitlab-oidc-project asks for, from PyPI through pip."""
    folder = tmp_path_factory.mktemp("flit")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-d",
            str(folder),
            "flit_core>=3.5,<4",
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stderr
    return next(folder.glob("flit_core-*.whl"))


def make_index(root: Path, flit_core: Path, *, gitlab_mode: str = "url") -> Pep691Index:
    index = Pep691Index(root)
    gitlab = json.dumps(provenance_object(GITLAB_SDIST)).encode()
    index.add(GITLAB_SDIST, GITLAB, provenance=gitlab, mode=gitlab_mode)
    pypi = (ROOT / f"{PYPI_SDIST.name}.provenance").read_bytes()
    index.add(PYPI_SDIST, "pypi-attestations", provenance=pypi)
    index.add(flit_core, "flit-core")
    return index


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def intoto_pip(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    return subprocess.run(
        [sys.executable, "-m", "intoto_pip.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
    )


def install_gitlab(
    home: Path, url: str, python: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return intoto_pip(
        home,
        "install",
        f"{GITLAB}==0.0.3",
        "--no-binary",
        GITLAB,
        "--index-url",
        url,
        "--python",
        str(python),
        "--allow-unverified",
        "flit-core",
        *extra,
    )


def imports(python: Path) -> bool:
    done = subprocess.run([str(python), "-c", "import gitlab_oidc_project"], capture_output=True)
    return done.returncode == 0


def test_the_pinned_publisher_verifies_and_installs_the_sdist(
    tmp_path: Path, flit_core: Path, venv: Path, home: Path
) -> None:
    index = make_index(tmp_path / "index", flit_core)
    with serve_pep691(index) as url:
        done = install_gitlab(
            home,
            url,
            venv,
            "--publisher",
            f"{GITLAB}={GITLAB_PIN}",
            "--report",
            str(tmp_path / "report.json"),
        )
    assert done.returncode == 0, done.stderr
    assert (
        "gitlab_oidc_project-0.0.3.tar.gz: verified (published by GitLab "
        "facutuesca/gitlab-oidc-project, workflow .gitlab-ci.yml (publish/v1))" in done.stderr
    )
    assert imports(venv)
    assert "/provenance/gitlab_oidc_project-0.0.3.tar.gz.provenance" in index.requests
    report = json.loads((tmp_path / "report.json").read_text())
    entry = next(d for d in report["distributions"] if d["name"] == GITLAB)
    assert entry["verdict"] == "verified"
    assert entry["provenance"]["pinned"] is True
    assert entry["provenance"]["publisher"]["repository"] == "facutuesca/gitlab-oidc-project"
    assert entry["provenance"]["predicate_types"] == [
        "https://docs.pypi.org/attestations/publish/v1"
    ]


def test_the_wrong_pin_is_refused_and_nothing_is_built(
    tmp_path: Path, flit_core: Path, venv: Path, home: Path
) -> None:
    index = make_index(tmp_path / "index", flit_core)
    with serve_pep691(index) as url:
        done = install_gitlab(
            home,
            url,
            venv,
            "--publisher",
            f"{GITLAB}=gitlab:facutuesca/gitlab-oidc-project@evil.yml",
        )
    assert done.returncode == 1
    assert "not by GitLab facutuesca/gitlab-oidc-project, workflow evil.yml" in done.stderr
    assert "nothing was installed" in done.stderr and "Traceback" not in done.stderr
    assert not imports(venv)
    assert not any("flit" in path for path in index.requests)  # no build was attempted


def test_tofu_records_then_refuses_the_release_without_provenance(
    tmp_path: Path, flit_core: Path, venv: Path, home: Path
) -> None:
    # tofu alone verifies nothing for install (only a pin does): the project is allowed.
    tofu = ("--provenance", "tofu", "--allow-unverified", GITLAB)
    with serve_pep691(make_index(tmp_path / "index", flit_core)) as url:
        first = install_gitlab(home, url, venv, *tofu)
    assert first.returncode == 0, first.stderr
    assert "recorded its publisher (GitLab facutuesca/gitlab-oidc-project" in first.stderr
    listed = intoto_pip(home, "trust", "list")
    assert "gitlab-oidc-project: GitLab facutuesca/gitlab-oidc-project" in listed.stdout
    # The same release, now served as if uploaded with a stolen token: no provenance.
    stripped = make_index(tmp_path / "index2", flit_core, gitlab_mode="none")
    stripped.modes[GITLAB_SDIST.name] = "none"
    with serve_pep691(stripped) as url:
        second = install_gitlab(home, url, venv, *tofu, "--dry-run")
        assert second.returncode == 1
        assert "was published by GitLab facutuesca/gitlab-oidc-project" in second.stderr
        assert "intoto-pip trust forget gitlab-oidc-project" in second.stderr
        assert intoto_pip(home, "trust", "forget", GITLAB).returncode == 0
        third = install_gitlab(home, url, venv, *tofu, "--dry-run")
    assert third.returncode == 0, third.stderr


def test_the_integrity_api_path_serves_what_the_json_page_does_not(
    tmp_path: Path, flit_core: Path, venv: Path, home: Path
) -> None:
    index = make_index(tmp_path / "index", flit_core, gitlab_mode="integrity")
    with serve_pep691(index) as url:
        done = install_gitlab(home, url, venv, "--publisher", f"{GITLAB}={GITLAB_PIN}")
    assert done.returncode == 0, done.stderr
    assert "published by GitLab facutuesca/gitlab-oidc-project" in done.stderr
    integrity = "/integrity/gitlab-oidc-project/0.0.3/gitlab_oidc_project-0.0.3.tar.gz/provenance"
    assert integrity in index.requests
    assert imports(venv)


def test_sigstore_checks_open_no_connection_off_loopback(
    tmp_path: Path,
    flit_core: Path,
    venv: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from intoto_pip.cli.main import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    index = make_index(tmp_path / "index", flit_core)
    with serve_pep691(index) as url, no_network(monkeypatch) as attempts:
        code = main(
            [
                "install",
                f"{GITLAB}==0.0.3",
                "--no-binary",
                GITLAB,
                "--dry-run",
                "--index-url",
                url,
                "--python",
                str(venv),
                "--allow-unverified",
                "flit-core",
                "--publisher",
                f"{GITLAB}={GITLAB_PIN}",
            ]
        )
    assert code == 0, capsys.readouterr().err
    assert attempts == []


def test_a_local_wheel_signed_on_staging_is_refused_with_the_reason(
    tmp_path: Path, venv: Path, home: Path
) -> None:
    wheel = tmp_path / RFC_WHEEL.name
    wheel.write_bytes(RFC_WHEEL.read_bytes())
    Path(f"{wheel}.provenance").write_text(json.dumps(attestation(RFC_WHEEL)))
    done = intoto_pip(
        home,
        "install",
        str(wheel),
        "--python",
        str(venv),
        "--dry-run",
        "--publisher",
        "rfc8785=github:trailofbits/rfc8785.py",
    )
    assert done.returncode == 1
    assert "signed on a Sigstore instance" in done.stderr and "rekor.sigstage.dev" in done.stderr
    assert "Traceback" not in done.stderr
