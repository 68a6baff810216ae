"""PEP 740 attestations checked with Sigstore, offline: the real files, and mutations of them.

Each mutation names the attack it stands for. Every test runs under ``no_network``: a
connection that leaves loopback fails the test.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.provenance import PUBLISH_V1, SLSA_PROVENANCE_V1
from intoto_pip.verify.provenance import (
    ProvenanceChecker,
    ProvenanceError,
    ProvenanceSource,
    VerifiedProvenance,
    outcome_of,
)
from tests.support.pep740 import (
    GITLAB_SDIST,
    PYPI_SDIST,
    RFC_WHEEL,
    ROOT,
    attestation,
    edit_statement,
    no_network,
    provenance_object,
    sha256,
    staging_root,
)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    with no_network(monkeypatch) as attempts:
        yield attempts
    assert attempts == []


@pytest.fixture(scope="module")
def checker() -> ProvenanceChecker:
    return ProvenanceChecker()


def check(
    checker: ProvenanceChecker, document: object, archive: Path, *, filename: str | None = None
) -> VerifiedProvenance:
    source = ProvenanceSource(where="test", data=json.dumps(document).encode())
    return checker.check(source, filename=filename or archive.name, sha256=sha256(archive))


def failure(checker: ProvenanceChecker, document: object, archive: Path, **kw: Any) -> str:
    with pytest.raises(ProvenanceError) as caught:
        check(checker, document, archive, **kw)
    return caught.value.problem


# --- the real files ---------------------------------------------------------------------


def test_the_real_provenance_object_names_the_github_publisher(checker: ProvenanceChecker) -> None:
    result = check(checker, provenance_object(PYPI_SDIST), PYPI_SDIST)
    assert result.identity.kind == "GitHub"
    assert result.identity.repository == "trailofbits/pypi-attestations"
    assert result.identity.workflow == "release.yml"
    assert result.predicate_types == (PUBLISH_V1,)
    assert result.false_claims == ()


def test_publish_and_slsa_attestations_together(checker: ProvenanceChecker) -> None:
    both = [attestation(PYPI_SDIST, "publish"), attestation(PYPI_SDIST, "slsa")]
    result = check(checker, both, PYPI_SDIST)
    assert result.predicate_types == (PUBLISH_V1, SLSA_PROVENANCE_V1)


def test_the_gitlab_attestation_names_the_gitlab_publisher(checker: ProvenanceChecker) -> None:
    result = check(checker, attestation(GITLAB_SDIST), GITLAB_SDIST)
    assert (result.identity.kind, result.identity.repository, result.identity.workflow) == (
        "GitLab",
        "facutuesca/gitlab-oidc-project",
        ".gitlab-ci.yml",
    )


def test_rfc8785_was_signed_on_another_instance_and_says_so(checker: ProvenanceChecker) -> None:
    with pytest.raises(ProvenanceError) as caught:
        check(checker, attestation(RFC_WHEEL), RFC_WHEEL)
    assert caught.value.problem == "foreign-instance"
    assert "rekor.sigstage.dev" in str(caught.value)
    assert "--sigstore-trusted-root" in str(caught.value)


def test_rfc8785_verifies_against_the_staging_root_as_a_person_not_a_publisher() -> None:
    result = check(ProvenanceChecker(staging_root()), attestation(RFC_WHEEL), RFC_WHEEL)
    assert result.identity.kind == "Other"
    assert result.identity.email == "william@yossarian.net"
    assert result.identity.issuer == "https://github.com/login/oauth"


def test_a_staging_root_does_not_vouch_for_production_files() -> None:
    staging = ProvenanceChecker(staging_root())
    assert failure(staging, attestation(PYPI_SDIST), PYPI_SDIST) == "foreign-instance"


# --- mutations ----------------------------------------------------------------------------


def test_one_byte_of_the_distribution_changed(checker: ProvenanceChecker, tmp_path: Path) -> None:
    changed = tmp_path / PYPI_SDIST.name
    data = bytearray(PYPI_SDIST.read_bytes())
    data[len(data) // 2] ^= 1
    changed.write_bytes(bytes(data))
    assert failure(checker, provenance_object(PYPI_SDIST), changed) == "subject"


def test_the_attestation_of_another_file_name(checker: ProvenanceChecker, tmp_path: Path) -> None:
    renamed = tmp_path / "pypi_attestations-0.0.20.tar.gz"
    shutil.copyfile(PYPI_SDIST, renamed)
    assert failure(checker, provenance_object(PYPI_SDIST), renamed) == "subject"


def test_an_attestation_of_another_distribution(checker: ProvenanceChecker) -> None:
    # A valid attestation, by a valid publisher, of another project's file.
    assert failure(checker, attestation(GITLAB_SDIST), PYPI_SDIST) == "subject"


def test_a_stripped_tlog_entry_is_malformed(checker: ProvenanceChecker) -> None:
    item = attestation(PYPI_SDIST)
    item["verification_material"]["transparency_entries"] = []
    with pytest.raises(MetadataError, match="not a PEP 740 attestation"):
        check(checker, item, PYPI_SDIST)


def test_a_tlog_entry_without_its_inclusion_proof(checker: ProvenanceChecker) -> None:
    item = attestation(PYPI_SDIST)
    del item["verification_material"]["transparency_entries"][0]["inclusionProof"]
    with pytest.raises((ProvenanceError, MetadataError)):
        check(checker, item, PYPI_SDIST)


def test_a_tlog_entry_of_another_attestation(checker: ProvenanceChecker) -> None:
    item = attestation(PYPI_SDIST)
    other = attestation(GITLAB_SDIST)["verification_material"]["transparency_entries"]
    item["verification_material"]["transparency_entries"] = other
    assert failure(checker, item, PYPI_SDIST) == "signature"


def test_a_dsse_payload_edited_after_signing(checker: ProvenanceChecker, tmp_path: Path) -> None:
    # The attacker's file, and the real statement rewritten to name it: the signature breaks.
    evil = tmp_path / PYPI_SDIST.name
    evil.write_bytes(b"evil")
    subject = [{"name": PYPI_SDIST.name, "digest": {"sha256": sha256(evil)}}]
    item = edit_statement(attestation(PYPI_SDIST), subject=subject)
    assert failure(checker, item, evil) == "signature"


def test_a_certificate_of_another_publisher(checker: ProvenanceChecker) -> None:
    item = attestation(PYPI_SDIST)
    gitlab = attestation(GITLAB_SDIST)["verification_material"]["certificate"]
    item["verification_material"]["certificate"] = gitlab
    assert failure(checker, item, PYPI_SDIST) == "signature"


def test_a_publisher_block_that_lies_is_ignored(checker: ProvenanceChecker) -> None:
    document = provenance_object(PYPI_SDIST)
    document["attestation_bundles"][0]["publisher"] = {
        "kind": "GitHub",
        "repository": "attacker/evil",
        "workflow": "steal.yml",
    }
    result = check(checker, document, PYPI_SDIST)
    assert result.identity.repository == "trailofbits/pypi-attestations"  # the certificate's
    assert result.false_claims == ("GitHub attacker/evil steal.yml",)


def test_attestations_of_two_publishers_for_one_file_are_refused(
    checker: ProvenanceChecker, tmp_path: Path
) -> None:
    # Both for the same bytes cannot happen with real files; two names for one check can.
    both = [attestation(PYPI_SDIST), attestation(RFC_WHEEL)]
    with pytest.raises(ProvenanceError):
        check(checker, both, PYPI_SDIST)


@pytest.mark.parametrize(
    "document",
    [b"", b"[]", b'{"version": 2, "attestation_bundles": []}', b'"text"', b"[1]"],
    ids=["empty", "no-attestation", "version-2", "a-string", "a-number"],
)
def test_malformed_documents_are_refused(checker: ProvenanceChecker, document: bytes) -> None:
    source = ProvenanceSource(where="test", data=document)
    with pytest.raises(MetadataError):
        checker.check(source, filename=PYPI_SDIST.name, sha256=sha256(PYPI_SDIST))


def test_outcome_of_carries_the_failed_check(checker: ProvenanceChecker) -> None:
    data = json.dumps(attestation(RFC_WHEEL)).encode()
    source = ProvenanceSource(where="x", data=data)
    outcome = outcome_of(checker, source, filename=RFC_WHEEL.name, sha256=sha256(RFC_WHEEL))
    assert (outcome.identity, outcome.problem) == (None, "foreign-instance")
    nothing = outcome_of(checker, None, filename="f", sha256="0", looked_in="here")
    assert (nothing.identity, nothing.failure, nothing.looked_in) == (None, "", "here")


def test_a_trusted_root_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "root.json"
    bad.write_text('{"mediaType": "nonsense"}')
    with pytest.raises(InputError, match="not a Sigstore trusted root"):
        ProvenanceChecker(bad)


def test_the_tuf_updater_is_never_created(monkeypatch: pytest.MonkeyPatch) -> None:
    import sigstore._internal.tuf as tuf

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("TUF updater created")

    monkeypatch.setattr(tuf.TrustUpdater, "__init__", refuse)
    checker = ProvenanceChecker()
    assert check(checker, attestation(GITLAB_SDIST), GITLAB_SDIST).identity.kind == "GitLab"


def test_fixture_notice_travels_with_the_files() -> None:
    notice = (ROOT / "NOTICE").read_text()
    assert "Apache License 2.0" in notice and (ROOT / "LICENSE").is_file()


def test_the_network_guard_itself_refuses_a_connection_off_loopback(
    offline: list[object],
) -> None:
    import socket

    with pytest.raises(OSError, match="refused"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert offline == [("192.0.2.1", 443)]
    offline.clear()
