"""``verify ARCHIVE --publisher``, ``provenance show`` and ``trust list|forget`` on real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from tests.support.pep740 import (
    GITLAB_PIN,
    GITLAB_SDIST,
    PYPI_PIN,
    PYPI_SDIST,
    RFC_WHEEL,
    ROOT,
    attestation,
    no_network,
    staging_root,
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def beside(tmp_path: Path, archive: Path, document: object | None = None) -> Path:
    """The archive in a folder of its own, with ``<archive>.provenance`` beside it."""
    copy = tmp_path / archive.name
    shutil.copyfile(archive, copy)
    if document is None:
        shutil.copyfile(ROOT / f"{archive.name}.publish.attestation", f"{copy}.provenance")
    else:
        Path(f"{copy}.provenance").write_text(json.dumps(document))
    return copy


def test_verify_archive_with_the_right_pin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = beside(tmp_path, PYPI_SDIST)
    with no_network(monkeypatch) as attempts:
        assert main(["verify", str(archive), "--publisher", PYPI_PIN]) == 0
    assert attempts == []
    out = capsys.readouterr().out
    assert "verified (published by GitHub trailofbits/pypi-attestations" in out


@pytest.mark.parametrize(
    "pin",
    [
        "github:trailofbits/other-repo@release.yml",  # another repository
        "github:trailofbits/pypi-attestations@evil.yml",  # another workflow
        GITLAB_PIN,  # another kind of publisher
    ],
)
def test_verify_archive_with_a_wrong_pin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pin: str
) -> None:
    archive = beside(tmp_path, PYPI_SDIST)
    assert main(["verify", str(archive), "--publisher", pin]) == 1
    assert "NOT verified: published by GitHub" in capsys.readouterr().err


def test_verify_archive_json_names_the_publisher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = beside(tmp_path, GITLAB_SDIST)
    assert main(["verify", str(archive), "--publisher", GITLAB_PIN, "--json"]) == 0
    [verdict] = json.loads(capsys.readouterr().out)
    assert verdict["verified"] is True
    assert verdict["provenance"]["publisher"]["kind"] == "GitLab"


def test_a_pinned_archive_without_provenance_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / PYPI_SDIST.name
    shutil.copyfile(PYPI_SDIST, archive)
    assert main(["verify", str(archive), "--publisher", PYPI_PIN]) == 1
    assert "no provenance from GitHub" in capsys.readouterr().err


def test_provenance_dir_is_searched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "prov"
    folder.mkdir()
    shutil.copyfile(
        ROOT / f"{PYPI_SDIST.name}.provenance", folder / f"{PYPI_SDIST.name}.provenance"
    )
    code = main(
        ["verify", str(PYPI_SDIST), "--publisher", PYPI_PIN, "--provenance-dir", str(folder)]
    )
    assert code == 0, capsys.readouterr().err


def test_show_prints_who_published_and_how_to_pin_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = beside(tmp_path, GITLAB_SDIST)
    assert main(["provenance", "show", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "published by GitLab facutuesca/gitlab-oidc-project, workflow .gitlab-ci.yml" in out
    assert f"--publisher {GITLAB_PIN}" in out


def test_show_explains_the_rfc8785_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = beside(tmp_path, RFC_WHEEL)
    assert main(["provenance", "show", str(archive)]) == 1
    assert "rekor.sigstage.dev" in capsys.readouterr().err
    code = main(
        ["provenance", "show", str(archive), "--sigstore-trusted-root", str(staging_root())]
    )
    assert code == 0
    assert (
        "william@yossarian.net (issuer https://github.com/login/oauth)" in capsys.readouterr().out
    )


def test_show_warns_about_a_lying_publisher_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads((ROOT / f"{PYPI_SDIST.name}.provenance").read_text())
    document["attestation_bundles"][0]["publisher"]["repository"] = "attacker/evil"
    archive = beside(tmp_path, PYPI_SDIST, document)
    assert main(["provenance", "show", str(archive)]) == 0
    captured = capsys.readouterr()
    assert "trailofbits/pypi-attestations" in captured.out
    assert "claims GitHub attacker/evil" in captured.err


@pytest.mark.parametrize(
    "args",
    [
        ["provenance", "show", "nothing-here"],
        ["verify", str(PYPI_SDIST), "--publisher", "github:only-owner"],
        ["verify", str(PYPI_SDIST), "--publisher", PYPI_PIN, "--provenance-dir", "/nonexistent"],
        ["verify", str(PYPI_SDIST), "--publisher", PYPI_PIN, "--sigstore-trusted-root", "/nope"],
        ["trust", "forget"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("intoto-pip: error:") and "Traceback" not in err


def test_trust_list_and_forget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from intoto_pip.models.publisher import PublisherIdentity
    from intoto_pip.verify.publishers import default_store_path, record_first

    identity = PublisherIdentity(kind="GitHub", repository="o/r", workflow="w.yml")
    record_first(default_store_path(), [("proj", identity, "proj-1.0.tar.gz")])
    assert main(["trust", "list"]) == 0
    assert (
        "proj: GitHub o/r, workflow w.yml (first seen with proj-1.0.tar.gz"
        in capsys.readouterr().out
    )
    assert main(["trust", "forget", "Proj"]) == 0
    assert main(["trust", "forget", "proj"]) == 1
    assert main(["trust", "list", "--json"]) == 0
    assert "{}" in capsys.readouterr().out


def test_a_pin_decides_over_the_recorded_publisher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The user's explicit pin is the stronger statement than what tofu saw first.
    from intoto_pip.models.publisher import PublisherIdentity
    from intoto_pip.verify.publishers import default_store_path, record_first

    other = PublisherIdentity(
        kind="GitHub",
        repository="attacker/evil",
        workflow="release.yml",
        issuer="https://token.actions.githubusercontent.com",
    )
    record_first(default_store_path(), [("pypi-attestations", other, "x.tar.gz")])
    archive = beside(tmp_path, PYPI_SDIST, attestation(PYPI_SDIST))
    assert main(["verify", str(archive), "--provenance", "tofu", "--publisher", PYPI_PIN]) == 0
