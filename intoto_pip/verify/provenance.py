"""Checking a distribution's PEP 740 attestations with Sigstore, offline (DESIGN §9).

For each attestation of a file, ``sigstore`` (through ``pypi-attestations``' conversion to a
Sigstore bundle) checks the signature over the DSSE envelope, the certificate chain to the
trust root at the time the log recorded, the certificate's SCT, and the transparency-log
inclusion proof and signed checkpoint the bundle carries. Then we check the Statement it signed
(``models.provenance``: subject name = file name, subject sha256 = the bytes to install, a
predicate type PyPI knows) and read the publisher from the *certificate*
(``models.publisher``). All attestations of one file must verify and name one publisher.

The trust root is sigstore's embedded production ``trusted_root.json`` (or the user's
``--sigstore-trusted-root FILE``), read from disk as it is: sigstore's TUF updater is never
created, so nothing is refreshed or written, and no network connection is opened.

``sigstore`` and ``pypi-attestations`` are the ``provenance`` extra, imported only here and
only when a provenance check is asked for.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intoto_pip.errors import InputError, MetadataError, VerificationError
from intoto_pip.models.provenance import (
    PAYLOAD_TYPE,
    ProvenanceDocument,
    check_subject,
    parse_provenance,
    parse_statement,
)
from intoto_pip.models.publisher import PublisherIdentity, identity_from_claims
from intoto_pip.verify.provenance_policy import Outcome

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

INSTALL_HINT = (
    "provenance checks need the sigstore and pypi-attestations packages: "
    "pip install 'intoto-pip[provenance]'"
)
# Where sigstore keeps its embedded production trust root (sigstore/_store/<quoted TUF URL>/).
_EMBEDDED_ROOT = ("_store", "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev", "trusted_root.json")
_FULCIO_PREFIX = "1.3.6.1.4.1.57264.1."


class ProvenanceError(VerificationError):
    """An attestation does not verify; ``problem`` says which check refused it."""

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, kw_only=True)
class ProvenanceSource:
    """One provenance document for one file, and where it was found (a URL or a path)."""

    where: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class VerifiedProvenance:
    """Every attestation verified: who published the file, and what they attested."""

    identity: PublisherIdentity
    predicate_types: tuple[str, ...]
    source: str
    # What the unsigned publisher block claims, when it differs from the certificate.
    false_claims: tuple[str, ...] = ()


class ProvenanceChecker:
    """Sigstore's verifier over one trust root, made once and used for every file."""

    def __init__(self, trusted_root: Path | None = None) -> None:
        root = load_trusted_root(trusted_root)
        from sigstore.verify import Verifier

        self._root = root
        self._verifier: Verifier = Verifier(trusted_root=root)
        embedded = "sigstore's embedded production root"
        self.root_name = str(trusted_root) if trusted_root else embedded

    def check(self, source: ProvenanceSource, *, filename: str, sha256: str) -> VerifiedProvenance:
        """Verify every attestation in ``source`` for the file ``filename`` with ``sha256``;
        raise ``ProvenanceError`` (or ``MetadataError``) naming the first that fails."""
        document = parse_provenance(source.data, where=source.where)
        found = [
            self._one(item, f"{source.where} attestation {i}", filename, sha256)
            for i, item in enumerate(document.attestations)
        ]
        identities = {identity for identity, _ in found}
        if len(identities) != 1:
            names = "; ".join(sorted(identity.describe() for identity in identities))
            raise ProvenanceError(
                f"{filename}: its attestations name different publishers ({names})",
                problem="identity",
            )
        identity = found[0][0]
        return VerifiedProvenance(
            identity=identity,
            predicate_types=tuple(sorted({kind for _, kind in found})),
            source=source.where,
            false_claims=_false_claims(document, identity),
        )

    def _one(
        self, item: Mapping[str, Any], where: str, filename: str, sha256: str
    ) -> tuple[PublisherIdentity, str]:
        bundle = _bundle(item, where)
        payload = self._sigstore(bundle, item, where)
        subject = parse_statement(payload, where=where)
        try:
            check_subject(subject, filename=filename, sha256=sha256, where=where)
        except VerificationError as exc:
            raise ProvenanceError(str(exc), problem="subject") from exc
        return identity_of(bundle.signing_certificate), subject.predicate_type

    def _sigstore(self, bundle: Any, item: Mapping[str, Any], where: str) -> bytes:
        from sigstore.errors import Error as SigstoreError

        try:
            payload_type, payload = self._verifier.verify_dsse(bundle, _IdentityReadAfter())
        except SigstoreError as exc:
            raise self._diagnose(item, where, exc) from exc
        if payload_type != PAYLOAD_TYPE:
            raise ProvenanceError(f"{where}: payload type {payload_type!r}", problem="signature")
        return bytes(payload)

    def _diagnose(self, item: Mapping[str, Any], where: str, exc: Exception) -> ProvenanceError:
        """Name the likely cause: a log this root does not know means another instance."""
        log = _log_of(item)
        if log is not None and log[0] not in self._known_logs():
            origin = f" ({log[1]})" if log[1] else ""
            return ProvenanceError(
                f"{where}: signed on a Sigstore instance that {self.root_name} does not "
                f"vouch for: its transparency log{origin} is not in the trust root (PyPI's "
                "attestations use Sigstore's production instance; if you trust that other "
                "instance, give its trusted_root.json with --sigstore-trusted-root FILE)",
                problem="foreign-instance",
            )
        return ProvenanceError(f"{where}: Sigstore verification failed: {exc}", problem="signature")

    def _known_logs(self) -> set[bytes]:
        return {bytes(tlog.log_id.key_id) for tlog in self._root._inner.tlogs}


def outcome_of(
    checker: ProvenanceChecker,
    source: ProvenanceSource | None,
    *,
    filename: str,
    sha256: str,
    looked_in: str = "",
) -> Outcome:
    """The check's outcome for policy to judge: verified, failed (and why), or none found."""
    if source is None:
        return Outcome(looked_in=looked_in)
    try:
        verified = checker.check(source, filename=filename, sha256=sha256)
    except ProvenanceError as exc:
        return Outcome(failure=str(exc), problem=exc.problem, source=source.where)
    except VerificationError as exc:
        return Outcome(failure=str(exc), problem="malformed", source=source.where)
    notes = tuple(
        f"the unsigned publisher block claims {claim}; ignored: the certificate names "
        f"{verified.identity.describe()}"
        for claim in verified.false_claims
    )
    return Outcome(
        identity=verified.identity,
        predicate_types=verified.predicate_types,
        source=source.where,
        notes=notes,
    )


class _IdentityReadAfter:
    """A sigstore verification policy that accepts any identity here: the identity is read
    from the same verified certificate right after, and compared with pins and records."""

    def verify(self, cert: Certificate) -> None:
        return None


def load_trusted_root(path: Path | None) -> TrustedRoot:
    """The trust root from ``path``, or sigstore's embedded production root; never TUF."""
    try:
        from importlib.resources import files

        import pypi_attestations  # noqa: F401  (needed by every check: fail here, plainly)
        from sigstore.models import TrustedRoot
        from sigstore_models.trustroot.v1 import TrustedRoot as RootMessage
    except ImportError as exc:
        raise InputError(INSTALL_HINT) from exc
    if path is None:
        where = "sigstore's embedded trust root"
        data = files("sigstore").joinpath(*_EMBEDDED_ROOT).read_bytes()
    else:
        from intoto_pip.store import read_user_file

        where, data = f"--sigstore-trusted-root {path}", read_user_file(path)
    try:
        return TrustedRoot(RootMessage.from_json(data))
    except Exception as exc:  # pydantic and sigstore raise several kinds for one bad file
        raise InputError(f"{where}: not a Sigstore trusted root ({exc})") from exc


def _bundle(item: Mapping[str, Any], where: str) -> Any:
    """The Sigstore bundle of one PEP 740 attestation object (pypi-attestations' conversion)."""
    from pydantic import ValidationError
    from pypi_attestations import Attestation, ConversionError

    try:
        return Attestation.model_validate(item).to_bundle()
    except (ValidationError, ConversionError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise MetadataError(f"{where}: not a PEP 740 attestation ({first})") from exc


def identity_of(certificate: Certificate) -> PublisherIdentity:
    """The publisher the certificate's Fulcio claims and subject name."""
    from cryptography import x509

    claims = {}
    for extension in certificate.extensions:
        oid = extension.oid.dotted_string
        if oid.startswith(_FULCIO_PREFIX) and isinstance(
            extension.value, x509.UnrecognizedExtension
        ):
            claims[oid] = _claim_text(oid, extension.value.value)
    return identity_from_claims(claims, _subject(certificate))


def _claim_text(oid: str, value: bytes) -> str:
    """Claims .8 and later are DER UTF8Strings; the older .1 to .6 are raw bytes."""
    if oid.rsplit(".", 1)[-1] in {"1", "2", "3", "4", "5", "6"}:
        return value.decode("utf-8", "replace")
    if len(value) < 2 or value[0] != 0x0C:
        return ""
    length, start = value[1], 2
    if length & 0x80:  # long form: the next (length & 0x7f) bytes hold the length
        count = length & 0x7F
        length, start = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    return value[start : start + length].decode("utf-8", "replace")


def _subject(certificate: Certificate) -> str:
    from cryptography import x509

    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ""
    for kind in (x509.UniformResourceIdentifier, x509.RFC822Name):
        values = names.value.get_values_for_type(kind)
        if values:
            return str(values[0])
    return ""


def _log_of(item: Mapping[str, Any]) -> tuple[bytes, str] | None:
    """The log id of the attestation's first log entry, and the origin its checkpoint names
    (unsigned text, used only to say where the entry came from)."""
    try:
        entry = item["verification_material"]["transparency_entries"][0]
        key_id = base64.b64decode(entry["logId"]["keyId"], validate=True)
    except (KeyError, IndexError, TypeError, ValueError, binascii.Error):
        return None
    checkpoint = entry.get("inclusionProof", {}).get("checkpoint", {}).get("envelope", "")
    origin = checkpoint.split(" ", 1)[0] if isinstance(checkpoint, str) else ""
    return key_id, origin.strip()[:100]


def _false_claims(document: ProvenanceDocument, identity: PublisherIdentity) -> tuple[str, ...]:
    """The unsigned publisher blocks that name someone else than the certificate does."""
    found = []
    for claimed in document.claimed_publishers:
        kind = str(claimed.get("kind", ""))
        repository = str(claimed.get("repository", ""))
        workflow = str(claimed.get("workflow") or claimed.get("workflow_filepath") or "")
        email = str(claimed.get("email", ""))
        matches = kind == identity.kind and (
            (repository.lower(), workflow) == (identity.repository.lower(), identity.workflow)
            if kind in ("GitHub", "GitLab")
            else email.lower() == identity.email.lower()
        )
        if not matches:
            found.append(f"{kind} {repository or email} {workflow}".strip())
    return tuple(found)
