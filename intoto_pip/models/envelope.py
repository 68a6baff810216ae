"""Signed envelopes: the classic Metablock and DSSE, parsed strictly, signed, verified, dumped.

Signatures are checked over exactly what was received, before any schema is applied: for a
Metablock the canonical JSON of the ``signed`` tree as read (so a member added after signing
breaks the signature), for DSSE the pre-authentication encoding of the raw payload bytes.
Files are written byte for byte as in-toto 3.x writes them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from intoto_pip.crypto.canonical import encode_canonical
from intoto_pip.crypto.gpg_keyring import signature_entry
from intoto_pip.crypto.gpg_keys import GpgExpiredError, GpgKey
from intoto_pip.crypto.keys import Signer, VerificationKey
from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models._indented_json import dumps_indented
from intoto_pip.models.strict_json import loads_strict

PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"

_CLASSIC_MEMBERS: Final = frozenset({"signed", "signatures"})
_DSSE_MEMBERS: Final = frozenset({"payload", "payloadType", "signatures"})
_SIGNATURE_MEMBERS: Final = frozenset({"keyid", "sig"})
_GPG_SIGNATURE_MEMBERS: Final = frozenset({"keyid", "other_headers", "signature"})
# in-toto-golang writes ``"cert": ""`` in every signature; a certificate there would make the
# signer a certificate-based functionary, which we cannot check.
_CERT: Final = "cert"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_KEYID = re.compile(r"[0-9a-fA-F]+")
_STANDARD_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")


@dataclass(frozen=True)
class Signature:
    """One signature entry: the signer's keyid and the raw signature bytes.

    A GPG entry (Metablock only) also has ``other_headers``, the OpenPGP hashed part; it is
    written as ``{keyid, other_headers, signature}`` as the reference writes it.

    An entry whose values cannot be a signature (``sig`` not hex or empty, a keyid that is
    not hex, an unknown member) is kept with its ``problem`` and the entry as received
    (``original``, so a dump writes it back): it never verifies, and the link it sits on is
    set aside rather than failing the whole verification, as the reference and in-toto-golang
    do. An entry of the wrong shape (not an object, a member missing or not a string) refuses
    the file, as the reference refuses it.
    """

    keyid: str
    sig: bytes
    other_headers: bytes | None = None
    problem: str | None = None
    original: object = None


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """A signed in-toto statement in either envelope format."""

    kind: Literal["metablock", "dsse"]
    payload: dict[str, Any]
    signed_bytes: bytes
    signatures: tuple[Signature, ...]
    # DSSE only: the payload bytes exactly as signed, so a dump reproduces them.
    raw_payload: bytes | None = field(default=None)

    def __post_init__(self) -> None:
        if (self.kind == "dsse") != (self.raw_payload is not None):
            raise ValueError("raw_payload is required for DSSE envelopes and only for them")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding; lengths count bytes."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _decode_hex(text: str) -> bytes | None:
    return bytes.fromhex(text) if _HEX.fullmatch(text) else None


def _decode_b64(text: str) -> bytes | None:
    """Decode padded base64, standard or URL-safe (DSSE allows both), canonical form only."""
    if _STANDARD_B64.fullmatch(text):
        encode, altchars = base64.standard_b64encode, None
    elif _URLSAFE_B64.fullmatch(text):
        encode, altchars = base64.urlsafe_b64encode, b"-_"
    else:
        return None
    try:
        data = base64.b64decode(text, altchars=altchars, validate=True)
    except binascii.Error:
        return None
    # Non-zero padding bits would let two texts carry one value; refuse the odd one.
    return data if encode(data).decode("ascii") == text else None


def _parse_gpg_signature(value: dict[str, Any], where: str) -> Signature:
    _check_members(value, _GPG_SIGNATURE_MEMBERS, f"{where}: ")
    keyid = value["keyid"]
    if not isinstance(keyid, str) or not _KEYID.fullmatch(keyid):
        raise MetadataError(f"{where}.keyid: expected a hex string, got {_json_type(keyid)}")
    parts = []
    for name in ("other_headers", "signature"):
        text = value[name]
        raw = _decode_hex(text) if isinstance(text, str) else None
        if not raw:
            raise MetadataError(f"{where}.{name}: not a non-empty hex string")
        parts.append(raw)
    return Signature(keyid=keyid, sig=parts[1], other_headers=parts[0])


class _Malformed(Exception):
    """A signature entry whose values cannot be a signature; the entry is set aside."""


def _check_cert(value: dict[str, Any], where: str) -> None:
    cert = value.pop(_CERT)
    if not isinstance(cert, str):
        raise MetadataError(f"{where}.cert: expected a string, got {_json_type(cert)}")
    if cert:
        raise MetadataError(f"{where}.cert: certificate-based functionaries are not supported")


def _check_shape(value: object, where: str) -> dict[str, Any]:
    """The entry's structure; a broken one refuses the file, as the reference refuses it."""
    if not isinstance(value, dict):
        raise MetadataError(f"{where}: expected an object, got {_json_type(value)}")
    entry = dict(value)
    if _CERT in entry:
        _check_cert(entry, where)
    for member in sorted(_SIGNATURE_MEMBERS):
        if member not in entry:
            raise MetadataError(f"{where}: missing member {member!r}")
        if not isinstance(entry[member], str):
            raise MetadataError(
                f"{where}.{member}: expected a string, got {_json_type(entry[member])}"
            )
    return entry


def _signature_fields(entry: dict[str, Any], where: str, dsse: bool) -> tuple[str, bytes]:
    unknown = sorted(set(entry) - _SIGNATURE_MEMBERS)
    if unknown:
        raise _Malformed(f"{where}: unknown member {unknown[0]!r}")
    keyid, sig = entry["keyid"], entry["sig"]
    if not _KEYID.fullmatch(keyid):
        raise _Malformed(f"{where}.keyid: expected a hex string, got {keyid[:80]!r}")
    raw = _decode_b64(sig) if dsse else _decode_hex(sig)
    if raw is None:
        raise _Malformed(f"{where}.sig: not {'base64' if dsse else 'hex'}")
    if not raw:
        raise _Malformed(f"{where}.sig: empty signature")
    return keyid, raw


def _parse_signature(value: object, where: str, dsse: bool) -> Signature:
    if not dsse and isinstance(value, dict) and "sig" not in value and "other_headers" in value:
        return _parse_gpg_signature(value, where)  # as the reference writes GPG signatures
    entry = _check_shape(value, where)
    try:
        keyid, raw = _signature_fields(entry, where, dsse)
    except _Malformed as exc:
        return Signature(keyid=entry["keyid"], sig=b"", problem=str(exc), original=value)
    return Signature(keyid=keyid, sig=raw)


def _parse_signatures(value: object, dsse: bool) -> tuple[Signature, ...]:
    if not isinstance(value, list):
        raise MetadataError(f"signatures: expected an array, got {_json_type(value)}")
    return tuple(
        _parse_signature(item, f"signatures[{index}]", dsse) for index, item in enumerate(value)
    )


def _check_members(document: dict[str, Any], expected: frozenset[str], where: str = "") -> None:
    unknown = sorted(set(document) - expected)
    if unknown:
        raise MetadataError(f"{where}unknown member {unknown[0]!r}")
    missing = sorted(expected - set(document))
    if missing:
        raise MetadataError(f"{where}missing member {missing[0]!r}")


def _parse_classic(document: dict[str, Any]) -> Envelope:
    _check_members(document, _CLASSIC_MEMBERS)
    signed = document["signed"]
    if not isinstance(signed, dict):
        raise MetadataError(f"signed: expected an object, got {_json_type(signed)}")
    return Envelope(
        kind="metablock",
        payload=signed,
        signed_bytes=encode_canonical(signed, parsed=True),  # from parse_envelope's loads
        signatures=_parse_signatures(document["signatures"], dsse=False),
    )


def _parse_dsse(document: dict[str, Any]) -> Envelope:
    _check_members(document, _DSSE_MEMBERS)
    payload_type = document["payloadType"]
    if payload_type != PAYLOAD_TYPE:
        raise MetadataError(f"payloadType: {payload_type!r} is not {PAYLOAD_TYPE!r}")
    text = document["payload"]
    raw = _decode_b64(text) if isinstance(text, str) else None
    if raw is None:
        raise MetadataError("payload: not base64")
    signatures = _parse_signatures(document["signatures"], dsse=True)
    payload = loads_strict(raw, what="payload")
    if not isinstance(payload, dict):
        raise MetadataError(f"payload: expected a JSON object, got {_json_type(payload)}")
    return Envelope(
        kind="dsse",
        payload=payload,
        signed_bytes=pae(PAYLOAD_TYPE, raw),
        signatures=signatures,
        raw_payload=raw,
    )


def parse_envelope(data: bytes, *, what: str) -> Envelope:
    """Parse a metadata file's bytes as a classic or DSSE envelope; ``what`` names it."""
    document = loads_strict(data, what=what)
    try:
        if not isinstance(document, dict):
            raise MetadataError(f"expected a JSON object, got {_json_type(document)}")
        if "signed" in document:
            return _parse_classic(document)
        if "payload" in document:
            return _parse_dsse(document)
        raise MetadataError("neither a Metablock ('signed') nor a DSSE envelope ('payload')")
    except MetadataError as exc:
        raise MetadataError(f"{what}: {exc}") from exc


def _signed_by(
    envelope: Envelope, key: VerificationKey, now: datetime | None
) -> bool | GpgExpiredError:
    """Whether an entry of ``key`` verifies; the expiry if one did but the key had expired."""
    expired: GpgExpiredError | None = None
    for sig in envelope.signatures:
        if sig.problem is not None or not key.accepts(sig.keyid):
            continue
        try:
            if key.verify_entry(sig.keyid, sig.sig, sig.other_headers, envelope.signed_bytes, now):
                return True
        except GpgExpiredError as exc:
            expired = expired or exc
    return expired or False


def verified_keys(
    envelope: Envelope,
    keys: Sequence[VerificationKey],
    *,
    now: datetime | None = None,
    strict_expiry: bool = False,
) -> list[VerificationKey]:
    """The keys, in the given order and each once, with a valid signature in ``envelope``.

    Every entry whose keyid names the key (or, for GPG, one of its subkeys) is tried, so a
    bogus entry listed first cannot hide a good one; repeated entries cannot make a key count
    twice. A GPG key that had expired at ``now`` (default: the current time) does not count;
    with ``strict_expiry`` its ``GpgExpiredError`` is raised instead, naming the date.
    """
    found: list[VerificationKey] = []
    for key in keys:
        if key in found:
            continue
        result = _signed_by(envelope, key, now)
        if isinstance(result, GpgExpiredError):
            if strict_expiry:
                raise result
        elif result:
            found.append(key)
    return found


def signature_problems(envelope: Envelope, key: VerificationKey) -> list[str]:
    """Why entries that could be ``key``'s signature are not signatures at all.

    Entries naming another keyid are not ``key``'s concern; entries whose keyid could not be
    read might have been, so they are named too.
    """
    return [
        sig.problem
        for sig in envelope.signatures
        if sig.problem is not None and (key.accepts(sig.keyid) or not _KEYID.fullmatch(sig.keyid))
    ]


def _plain_copy(canonical: bytes) -> dict[str, Any]:
    # A deep copy in JSON's own types, so later changes by the caller cannot reach us; read
    # back from the canonical bytes, which hold control characters raw (hence strict=False).
    value = json.loads(canonical, strict=False)
    if not isinstance(value, dict):
        raise TypeError("payload must be a JSON object")
    return value


def _replace_signatures(
    existing: Sequence[Signature], signers: Sequence[Signer], signed_bytes: bytes
) -> tuple[Signature, ...]:
    result = list(existing)
    for signer in signers:
        key = signer.public_key
        result = [sig for sig in result if not key.accepts(sig.keyid)]
        result.append(_new_signature(signer, signed_bytes))
    return tuple(result)


def _new_signature(signer: Signer, signed_bytes: bytes) -> Signature:
    raw = signer.sign(signed_bytes)
    if not isinstance(signer.public_key, GpgKey):
        return Signature(keyid=signer.public_key.keyid, sig=raw)
    # A GPG signer hands back an OpenPGP signature packet; its issuer may be a subkey.
    entry = signature_entry(raw, where="gpg signature")
    return Signature(keyid=entry.keyid, sig=entry.signature, other_headers=entry.other_headers)


def sign_payload(payload: Mapping[str, Any], signers: Sequence[Signer], *, dsse: bool) -> Envelope:
    """Sign ``payload`` with every signer, in a DSSE envelope or a classic Metablock."""
    # Canonical encoding refuses what we could not read back (floats, non-string keys).
    canonical = encode_canonical(payload)
    plain = _plain_copy(canonical)
    if dsse:
        raw = json.dumps(plain, sort_keys=True).encode("utf-8")
        envelope = Envelope(
            kind="dsse",
            payload=plain,
            signed_bytes=pae(PAYLOAD_TYPE, raw),
            signatures=(),
            raw_payload=raw,
        )
    else:
        envelope = Envelope(kind="metablock", payload=plain, signed_bytes=canonical, signatures=())
    return add_signatures(envelope, signers)


def add_signatures(envelope: Envelope, signers: Sequence[Signer]) -> Envelope:
    """Add each signer's signature, replacing any earlier one by the same key."""
    if envelope.kind == "dsse" and any(isinstance(s.public_key, GpgKey) for s in signers):
        raise InputError("GPG signatures go into Metablock envelopes only: leave out --use-dsse")
    signatures = _replace_signatures(envelope.signatures, signers, envelope.signed_bytes)
    return Envelope(
        kind=envelope.kind,
        payload=envelope.payload,
        signed_bytes=envelope.signed_bytes,
        signatures=signatures,
        raw_payload=envelope.raw_payload,
    )


def _classic_entry(signature: Signature) -> object:
    if signature.problem is not None:
        return signature.original
    if signature.other_headers is None:
        return {"keyid": signature.keyid, "sig": signature.sig.hex()}
    return {
        "keyid": signature.keyid,
        "other_headers": signature.other_headers.hex(),
        "signature": signature.sig.hex(),
    }


def _dsse_entry(signature: Signature) -> object:
    if signature.problem is not None:
        return signature.original
    return {
        "keyid": signature.keyid,
        "sig": base64.standard_b64encode(signature.sig).decode("ascii"),
    }


def dump_envelope(envelope: Envelope) -> bytes:
    """The file bytes in-toto 3.x writes for this envelope."""
    if envelope.raw_payload is not None:
        document: dict[str, Any] = {
            "payload": base64.standard_b64encode(envelope.raw_payload).decode("ascii"),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [_dsse_entry(s) for s in envelope.signatures],
        }
        return json.dumps(document, sort_keys=True).encode("utf-8")
    document = {
        "signatures": [_classic_entry(s) for s in envelope.signatures],
        "signed": envelope.payload,
    }
    return dumps_indented(document).encode("utf-8")
