"""Writing a lock: PEP 751 through packaging.pylock, identities in PEP 740's words, local
files relative to the lock, and text that reads back as the same lock."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from intoto_pip.errors import InstallError
from intoto_pip.install.candidates import Candidate, InstallOutcome
from intoto_pip.install.fetch import FetchedFile
from intoto_pip.install.lock_toml import render
from intoto_pip.install.lock_write import build_lock, identity_table, lock_text
from intoto_pip.install.pylock import identities
from intoto_pip.install.requirements import WheelMeta
from intoto_pip.install.target import probe_target
from intoto_pip.models.publisher import PublisherIdentity
from intoto_pip.verify.archive import ArchiveVerdict
from intoto_pip.verify.provenance_policy import ProvenanceVerdict

GITLAB = PublisherIdentity(
    kind="GitLab", repository="ns/p", workflow=".gitlab-ci.yml", issuer="https://gitlab.com"
)


def _candidate(filename: str, url: str, provenance: ProvenanceVerdict | None = None) -> Candidate:
    name, version = filename.removesuffix(".tar.gz").split("-")[:2]
    fetched = FetchedFile(path=Path(filename), filename=filename, url=url, sha256="b" * 64, size=7)
    verdict = ArchiveVerdict(
        path=fetched.path, filename=filename, name=name, version=version, verified=True
    )
    meta = WheelMeta(
        name=name, version=version, requires_dist=(), requires_python=None, tags=frozenset()
    )
    return Candidate(
        fetched=fetched,
        meta=meta,
        requested=True,
        direct=False,
        verdict=verdict,
        provenance=provenance,
    )


def _outcome(*candidates: Candidate) -> InstallOutcome:
    return InstallOutcome(target=probe_target(Path(sys.executable)), candidates=candidates)


def test_identities_round_trip_to_the_pin_that_accepts_exactly_them() -> None:
    for identity in (
        GITLAB,
        PublisherIdentity(kind="GitHub", repository="o/r", workflow="release.yml"),
        PublisherIdentity(kind="Google", email="a@b.iam.gserviceaccount.com"),
    ):
        (pin,) = identities([identity_table(identity)], "here")
        assert pin.mismatch(identity) == ""


def test_a_lock_records_urls_local_paths_hashes_and_verified_publishers(tmp_path: Path) -> None:
    verified = ProvenanceVerdict(status="verified", accepted=True, identity=GITLAB)
    absent = ProvenanceVerdict(status="absent", accepted=True)
    local = (tmp_path / "wheels" / "b-2.0-py3-none-any.whl").as_uri()
    outcome = _outcome(
        _candidate("b-2.0-py3-none-any.whl", local, absent),
        _candidate("a-1.0.tar.gz", "http://127.0.0.1:9/files/a-1.0.tar.gz", verified),
    )
    lock = build_lock(
        outcome, lock_path=tmp_path / "pylock.toml", indexes=("http://127.0.0.1:9/simple/",)
    )
    document = tomllib.loads(lock_text(lock))
    a, b = document["packages"]
    assert a["sdist"] == {
        "name": "a-1.0.tar.gz",
        "url": "http://127.0.0.1:9/files/a-1.0.tar.gz",
        "size": 7,
        "hashes": {"sha256": "b" * 64},
    }
    assert a["index"] == "http://127.0.0.1:9/simple/"
    assert a["attestation-identities"] == [
        {"kind": "GitLab", "repository": "ns/p", "workflow_filepath": ".gitlab-ci.yml"}
    ]
    assert b["wheels"][0]["path"] == "wheels/b-2.0-py3-none-any.whl"
    assert "index" not in b and "attestation-identities" not in b
    assert Pylock.from_dict(document) == lock


def test_a_refused_outcome_gives_no_lock(tmp_path: Path) -> None:
    refused = ProvenanceVerdict(status="failed", accepted=False)
    outcome = _outcome(_candidate("a-1.0.tar.gz", "http://h/a-1.0.tar.gz", refused))
    with pytest.raises(InstallError, match="only when every distribution is accepted"):
        build_lock(outcome, lock_path=tmp_path / "pylock.toml")


def test_toml_text_escapes_what_it_must() -> None:
    document = {"k": 'a "quoted"\\ value\n', "odd key": [1, True], "t": [{"x": "é"}]}
    assert tomllib.loads(render(document)) == document
