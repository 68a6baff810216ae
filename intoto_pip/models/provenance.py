"""PEP 740 provenance, parsed strictly: the documents an index serves and the Statement signed.

Three shapes arrive: a provenance object (``{"version": 1, "attestation_bundles": [{"publisher":
..., "attestations": [...]}]}``, what the index serves), one attestation object
(``{"version": 1, "verification_material": ..., "envelope": ...}``), or a JSON list of them.
Each attestation stays a plain JSON object here; the Sigstore checks happen in
``verify.provenance``. The ``publisher`` blocks are kept only to show what a file *claims*:
they are not signed and are never trusted.

The Statement inside a verified envelope is then checked here: in-toto Statement v1, exactly
one subject, its name equal to the distribution's file name, its sha256 equal to the bytes to
install, and a predicate type PyPI knows. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intoto_pip.errors import MetadataError, RuleError
from intoto_pip.models.fields import expect_object
from intoto_pip.models.strict_json import loads_strict

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
PREDICATE_TYPES = (PUBLISH_V1, SLSA_PROVENANCE_V1)
PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_ATTESTATIONS = 16  # PyPI accepts at most one of each predicate type per file
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, kw_only=True)
class ProvenanceDocument:
    """The attestations one provenance file holds, and the publishers it (unsigned) claims."""

    attestations: tuple[Mapping[str, Any], ...]
    claimed_publishers: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, kw_only=True)
class AttestedSubject:
    """What a verified Statement says: one file, its sha256, and the kind of claim."""

    name: str
    sha256: str
    predicate_type: str


def parse_provenance(data: bytes, *, where: str) -> ProvenanceDocument:
    """Any of the three shapes; ``MetadataError`` naming ``where`` when it is none of them."""
    document = loads_strict(data, what=where)
    if isinstance(document, list):
        listed = [expect_object(item, f"{where}[{i}]") for i, item in enumerate(document)]
        return _document(tuple(listed), (), where)
    document = expect_object(document, where)
    if "attestation_bundles" not in document:
        return _document((document,), (), where)
    bundles = document["attestation_bundles"]
    if document.get("version") != 1 or not isinstance(bundles, list):
        raise MetadataError(f"{where}: not a PEP 740 provenance object (version 1)")
    attestations: list[Mapping[str, Any]] = []
    claimed: list[Mapping[str, Any]] = []
    for i, value in enumerate(bundles):
        at = f"{where}.attestation_bundles[{i}]"
        bundle = expect_object(value, at)
        items = bundle.get("attestations")
        if not isinstance(items, list):
            raise MetadataError(f"{at}.attestations: expected a list")
        attestations += [
            expect_object(item, f"{at}.attestations[{j}]") for j, item in enumerate(items)
        ]
        claimed.append(expect_object(bundle.get("publisher", {}), f"{at}.publisher"))
    return _document(tuple(attestations), tuple(claimed), where)


def _document(
    attestations: tuple[Mapping[str, Any], ...],
    claimed: tuple[Mapping[str, Any], ...],
    where: str,
) -> ProvenanceDocument:
    if not attestations:
        raise MetadataError(f"{where}: holds no attestation")
    if len(attestations) > MAX_ATTESTATIONS:
        raise MetadataError(f"{where}: more than {MAX_ATTESTATIONS} attestations")
    return ProvenanceDocument(attestations=attestations, claimed_publishers=claimed)


def parse_statement(payload: bytes, *, where: str) -> AttestedSubject:
    """The signed Statement: in-toto v1 with exactly one subject that has a sha256."""
    statement = expect_object(loads_strict(payload, what=f"{where}: statement"), where)
    if statement.get("_type") != STATEMENT_V1:
        raise MetadataError(f"{where}: not an in-toto Statement v1 ({statement.get('_type')!r})")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise MetadataError(f"{where}: the statement must have exactly one subject")
    subject = expect_object(subjects[0], f"{where}.subject[0]")
    name, digest = subject.get("name"), subject.get("digest")
    sha256 = digest.get("sha256") if isinstance(digest, dict) else None
    predicate_type = statement.get("predicateType")
    if not isinstance(name, str) or not isinstance(sha256, str):
        raise MetadataError(f"{where}.subject[0]: needs a name and a sha256 digest")
    if not isinstance(predicate_type, str):
        raise MetadataError(f"{where}.predicateType: expected a string")
    return AttestedSubject(name=name, sha256=sha256, predicate_type=predicate_type)


def check_subject(subject: AttestedSubject, *, filename: str, sha256: str, where: str) -> None:
    """The Statement is about these bytes under this name, and says something PyPI knows."""
    if subject.name != filename:
        raise RuleError(f"{where}: attests {subject.name!r}, not {filename!r}")
    if len(subject.sha256) != 64 or not set(subject.sha256) <= _HEX:
        raise RuleError(f"{where}: the subject's sha256 is not 64 lowercase hex digits")
    if subject.sha256 != sha256:
        raise RuleError(
            f"{where}: attests sha256 {subject.sha256}, but the file to install has {sha256}"
        )
    if subject.predicate_type not in PREDICATE_TYPES:
        raise RuleError(f"{where}: unknown predicate type {subject.predicate_type!r}")
