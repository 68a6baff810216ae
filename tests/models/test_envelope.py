"""Envelopes: strict parsing, what the signatures cover, and how keys are counted."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from intoto_pip.crypto.canonical import encode_canonical
from intoto_pip.crypto.keys import PublicKey, Signer, signer_from_private_key
from intoto_pip.errors import MetadataError
from intoto_pip.models.envelope import (
    PAYLOAD_TYPE,
    Envelope,
    Signature,
    add_signatures,
    dump_envelope,
    pae,
    parse_envelope,
    sign_payload,
    signature_problems,
    verified_keys,
)

LINK: dict[str, Any] = {
    "_type": "link",
    "name": "build",
    "materials": {"src/é.py": {"sha256": "ab" * 32}},
    "products": {},
    "byproducts": {"stdout": "ok\n", "return-value": 0},
    "command": ["python", "-c", 'print("x")'],
    "environment": {},
}


@pytest.fixture(scope="module")
def signers() -> list[Signer]:
    return [signer_from_private_key(ed25519.Ed25519PrivateKey.generate()) for _ in range(3)]


def roundtrip(envelope: Envelope) -> Envelope:
    return parse_envelope(dump_envelope(envelope), what="f.link")


def document(envelope: Envelope) -> dict[str, Any]:
    value = json.loads(dump_envelope(envelope))
    assert isinstance(value, dict)
    return value


def parse_dict(value: object) -> Envelope:
    return parse_envelope(json.dumps(value).encode(), what="f.link")


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("dsse", [False, True])
def test_signed_envelope_roundtrips_and_verifies(signers: list[Signer], dsse: bool) -> None:
    envelope = roundtrip(sign_payload(LINK, signers[:2], dsse=dsse))
    assert envelope.kind == ("dsse" if dsse else "metablock")
    assert envelope.payload == LINK
    assert [s.keyid for s in envelope.signatures] == [s.public_key.keyid for s in signers[:2]]
    keys = [s.public_key for s in signers]
    assert verified_keys(envelope, keys) == keys[:2]


def test_classic_signs_the_canonical_json_of_signed(signers: list[Signer]) -> None:
    envelope = roundtrip(sign_payload(LINK, signers[:1], dsse=False))
    assert envelope.signed_bytes == encode_canonical(LINK)
    assert envelope.raw_payload is None
    text = dump_envelope(envelope).decode()
    assert text.startswith('{\n "signatures": [\n  {\n   "keyid": ')
    assert '"sig": "' + envelope.signatures[0].sig.hex() + '"' in text


def test_dsse_signs_the_pae_of_the_raw_payload(signers: list[Signer]) -> None:
    envelope = sign_payload(LINK, signers[:1], dsse=True)
    raw = json.dumps(LINK, sort_keys=True).encode()
    assert envelope.raw_payload == raw
    assert envelope.signed_bytes == pae(PAYLOAD_TYPE, raw)
    value = document(envelope)
    assert sorted(value) == ["payload", "payloadType", "signatures"]
    assert base64.b64decode(value["payload"]) == raw
    assert base64.b64decode(value["signatures"][0]["sig"]) == envelope.signatures[0].sig


def test_dsse_dump_keeps_the_payload_bytes_as_received(signers: list[Signer]) -> None:
    raw = b'{ "name": "build",\n  "_type": "link" }'
    signature = signers[0].sign(pae(PAYLOAD_TYPE, raw))
    value = {
        "payload": base64.b64encode(raw).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [
            {"keyid": signers[0].public_key.keyid, "sig": base64.b64encode(signature).decode()}
        ],
    }
    envelope = roundtrip(parse_dict(value))
    assert envelope.raw_payload == raw
    assert envelope.payload == {"name": "build", "_type": "link"}
    assert verified_keys(envelope, [signers[0].public_key]) == [signers[0].public_key]


def test_pae_known_answer_and_byte_lengths() -> None:
    # The example in the DSSE specification.
    expected = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    assert pae("http://example.com/HelloWorld", b"hello world") == expected
    assert pae("t\u00e9", "\u00e9".encode()) == "DSSEv1 3 t\u00e9 2 \u00e9".encode()


# --- what the signature covers ------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["signed"].__setitem__("extra", "added after signing"),
        lambda d: d["signed"]["materials"].__setitem__("evil.py", {"sha256": "00" * 32}),
        lambda d: d["signed"].__setitem__("name", "other"),
    ],
)
def test_a_change_to_signed_fails_verification(signers: list[Signer], change: Any) -> None:
    value = document(sign_payload(LINK, signers[:1], dsse=False))
    change(value)
    envelope = parse_dict(value)
    assert envelope.signed_bytes == encode_canonical(value["signed"])
    assert verified_keys(envelope, [signers[0].public_key]) == []


def test_a_changed_dsse_payload_fails_verification(signers: list[Signer]) -> None:
    value = document(sign_payload(LINK, signers[:1], dsse=True))
    raw = base64.b64decode(value["payload"]).replace(b'"products": {}', b'"products": {"x": {}}')
    value["payload"] = base64.b64encode(raw).decode()
    assert verified_keys(parse_dict(value), [signers[0].public_key]) == []


# --- counting keys ------------------------------------------------------------------------


def _with_signatures(envelope: Envelope, signatures: list[Signature]) -> Envelope:
    return Envelope(
        kind=envelope.kind,
        payload=envelope.payload,
        signed_bytes=envelope.signed_bytes,
        signatures=tuple(signatures),
        raw_payload=envelope.raw_payload,
    )


@pytest.mark.parametrize("dsse", [False, True])
def test_every_matching_signature_is_tried(signers: list[Signer], dsse: bool) -> None:
    envelope = sign_payload(LINK, signers[:1], dsse=dsse)
    good = envelope.signatures[0]
    bogus = Signature(keyid=good.keyid, sig=b"\x01" * len(good.sig))
    envelope = roundtrip(_with_signatures(envelope, [bogus, good]))
    assert verified_keys(envelope, [signers[0].public_key]) == [signers[0].public_key]
    assert verified_keys(_with_signatures(envelope, [bogus]), [signers[0].public_key]) == []


def test_repeated_entries_and_keys_count_once(signers: list[Signer]) -> None:
    envelope = sign_payload(LINK, signers[:1], dsse=False)
    good = envelope.signatures[0]
    envelope = roundtrip(_with_signatures(envelope, [good, good, good]))
    key = signers[0].public_key
    assert verified_keys(envelope, [key, key, signers[1].public_key, key]) == [key]


def test_a_signature_under_the_legacy_keyid_verifies(signers: list[Signer]) -> None:
    envelope = sign_payload(LINK, signers[:1], dsse=False)
    key = signers[0].public_key
    legacy = Signature(keyid=key.legacy_keyid, sig=envelope.signatures[0].sig)
    envelope = roundtrip(_with_signatures(envelope, [legacy]))
    assert verified_keys(envelope, [key]) == [key]


def test_a_signature_under_another_keyid_does_not_count(signers: list[Signer]) -> None:
    envelope = sign_payload(LINK, signers[:1], dsse=False)
    moved = Signature(keyid=signers[1].public_key.keyid, sig=envelope.signatures[0].sig)
    envelope = _with_signatures(envelope, [moved])
    assert verified_keys(envelope, [s.public_key for s in signers]) == []


def test_add_signatures_appends_and_replaces_same_key(signers: list[Signer]) -> None:
    envelope = sign_payload(LINK, signers[:1], dsse=True)
    stale = Signature(keyid=signers[1].public_key.keyid, sig=b"stale")
    envelope = _with_signatures(envelope, [*envelope.signatures, stale])
    updated = add_signatures(envelope, signers[1:])
    keyids = [s.keyid for s in updated.signatures]
    assert keyids == [s.public_key.keyid for s in signers]
    assert verified_keys(roundtrip(updated), [s.public_key for s in signers]) == [
        s.public_key for s in signers
    ]


def test_sign_payload_refuses_what_has_no_canonical_form(signers: list[Signer]) -> None:
    with pytest.raises(MetadataError, match="canonical JSON"):
        sign_payload({"value": 1.5}, signers[:1], dsse=True)


def test_the_signed_copy_is_independent_of_the_caller(signers: list[Signer]) -> None:
    payload = json.loads(json.dumps(LINK))
    envelope = sign_payload(payload, signers[:1], dsse=False)
    payload["materials"]["src/é.py"]["sha256"] = "00" * 32
    payload["command"].append("changed")
    assert envelope.payload == LINK
    assert verified_keys(roundtrip(envelope), [signers[0].public_key]) == [signers[0].public_key]


@pytest.mark.parametrize("dsse", [False, True])
def test_control_characters_and_quotes_survive_signing(signers: list[Signer], dsse: bool) -> None:
    # Canonical JSON writes control characters raw; the signed copy is read back from it.
    payload = {
        **LINK,
        "byproducts": {"stdout": 'tab\t nul\x00 "q" \\ \u2028 é\n', "return-value": 0},
    }
    envelope = sign_payload(payload, signers[:1], dsse=dsse)
    assert envelope.payload == payload
    again = roundtrip(envelope)
    assert again.payload == payload
    assert verified_keys(again, [signers[0].public_key]) == [signers[0].public_key]


def test_a_large_link_is_written_as_the_reference_writes_it(signers: list[Signer]) -> None:
    products = {f"dist/ü{i:05d}.py": {"sha256": f"{i:064x}"} for i in range(3000)}
    envelope = sign_payload({**LINK, "products": products}, signers[:2], dsse=False)
    document = {
        "signatures": [{"keyid": s.keyid, "sig": s.sig.hex()} for s in envelope.signatures],
        "signed": envelope.payload,
    }
    expected = json.dumps(document, indent=1, separators=(",", ": "), sort_keys=True)
    assert dump_envelope(envelope) == expected.encode("utf-8")


# --- strict parsing -----------------------------------------------------------------------


def _classic(signers: list[Signer]) -> dict[str, Any]:
    return document(sign_payload(LINK, signers[:1], dsse=False))


def _dsse(signers: list[Signer]) -> dict[str, Any]:
    return document(sign_payload(LINK, signers[:1], dsse=True))


def _set(value: dict[str, Any], *path: Any) -> dict[str, Any]:
    *where, name, item = path
    target: Any = value
    for step in where:
        target = target[step]
    target[name] = item
    return value


def _drop(value: dict[str, Any], *path: Any) -> dict[str, Any]:
    *where, name = path
    target: Any = value
    for step in where:
        target = target[step]
    del target[name]
    return value


def _add_signature(value: dict[str, Any], entry: object) -> dict[str, Any]:
    value["signatures"].append(entry)
    return value


REFUSALS: list[tuple[str, Any, str]] = [
    ("array", lambda s: [], "f.link: expected a JSON object, got array"),
    ("neither", lambda s: {"signatures": []}, "f.link: neither a Metablock"),
    ("classic extra", lambda s: _set(_classic(s), "extra", 1), "f.link: unknown member 'extra'"),
    (
        "classic no sigs",
        lambda s: _drop(_classic(s), "signatures"),
        "f.link: missing member 'signatures'",
    ),
    (
        "signed array",
        lambda s: _set(_classic(s), "signed", []),
        "f.link: signed: expected an object, got array",
    ),
    (
        "sigs object",
        lambda s: _set(_classic(s), "signatures", {}),
        "f.link: signatures: expected an array, got object",
    ),
    ("dsse extra", lambda s: _set(_dsse(s), "signed", {}), "f.link: unknown member 'payload"),
    (
        "dsse no type",
        lambda s: _drop(_dsse(s), "payloadType"),
        "f.link: missing member 'payloadType'",
    ),
    (
        "dsse type",
        lambda s: _set(_dsse(s), "payloadType", "application/json"),
        "f.link: payloadType: 'application/json' is not",
    ),
    (
        "dsse payload b64",
        lambda s: _set(_dsse(s), "payload", "e30=!"),
        "f.link: payload: not base64",
    ),
    ("dsse payload int", lambda s: _set(_dsse(s), "payload", 5), "f.link: payload: not base64"),
    (
        "dsse payload unpadded",
        lambda s: _set(_dsse(s), "payload", "e30"),
        "f.link: payload: not base64",
    ),
    (
        "dsse payload newline",
        lambda s: _set(_dsse(s), "payload", "e3\n0="),
        "f.link: payload: not base64",
    ),
    (
        "dsse payload odd bits",
        lambda s: _set(_dsse(s), "payload", "e31="),
        "f.link: payload: not base64",
    ),
    (
        "dsse payload mixed",
        lambda s: _set(_dsse(s), "payload", "+-=="),
        "f.link: payload: not base64",
    ),
    (
        "dsse payload array",
        lambda s: _set(_dsse(s), "payload", "W10="),
        "f.link: payload: expected a JSON object, got array",
    ),
    (
        "dsse payload dup",
        lambda s: _set(_dsse(s), "payload", base64.b64encode(b'{"a":1,"a":2}').decode()),
        "f.link: payload: duplicate key 'a'",
    ),
    (
        "sig entry string",
        lambda s: _add_signature(_classic(s), "ab"),
        "f.link: signatures[1]: expected an object, got string",
    ),
    (
        "sig no keyid",
        lambda s: _drop(_classic(s), "signatures", 0, "keyid"),
        "f.link: signatures[0]: missing member 'keyid'",
    ),
    (
        "keyid int",
        lambda s: _set(_classic(s), "signatures", 0, "keyid", 5),
        "f.link: signatures[0].keyid: expected a string, got integer",
    ),
    (
        "sig null",
        lambda s: _set(_classic(s), "signatures", 0, "sig", None),
        "f.link: signatures[0].sig: expected a string, got null",
    ),
    (
        "cert not a string",
        lambda s: _set(_classic(s), "signatures", 0, "cert", None),
        "f.link: signatures[0].cert: expected a string, got null",
    ),
    (
        "cert",
        lambda s: _set(_classic(s), "signatures", 0, "cert", "-----BEGIN CERTIFICATE-----"),
        "f.link: signatures[0].cert: certificate-based functionaries are not supported",
    ),
    (
        "dsse cert",
        lambda s: _set(_dsse(s), "signatures", 0, "cert", "MII"),
        "f.link: signatures[0].cert: certificate-based functionaries are not supported",
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_parse_refuses_with_location(signers: list[Signer], build: Any, expected: str) -> None:
    with pytest.raises(MetadataError) as info:
        parse_dict(build(signers))
    assert str(info.value).startswith(expected), str(info.value)


def test_parse_refuses_non_json_with_the_file_name() -> None:
    with pytest.raises(MetadataError, match=r"^f\.link: "):
        parse_envelope(b'{"signed": {}, "signatures": [], }', what="f.link")


def test_dsse_accepts_url_safe_base64_and_classic_uppercase_hex(signers: list[Signer]) -> None:
    key = signers[0].public_key
    dsse = _dsse(signers)
    sig = base64.b64decode(dsse["signatures"][0]["sig"])
    dsse["signatures"][0]["sig"] = base64.urlsafe_b64encode(sig).decode()
    assert verified_keys(parse_dict(dsse), [key]) == [key]
    classic = _classic(signers)
    classic["signatures"][0]["sig"] = classic["signatures"][0]["sig"].upper()
    assert verified_keys(parse_dict(classic), [key]) == [key]


def test_keys_for_verification_come_from_key_dicts(signers: list[Signer]) -> None:
    key = PublicKey.from_keydict(signers[0].public_key.to_keydict(), where="keys")
    envelope = roundtrip(sign_payload(LINK, signers[:1], dsse=True))
    assert verified_keys(envelope, [key]) == [key]


SET_ASIDE: list[tuple[str, Any, str]] = [
    (
        "sig extra",
        lambda s: _set(_classic(s), "signatures", 0, "other_headers", "ab"),
        "signatures[0]: unknown member 'other_headers'",
    ),
    (
        "keyid text",
        lambda s: _set(_classic(s), "signatures", 0, "keyid", "not hex"),
        "signatures[0].keyid: expected a hex string",
    ),
    (
        "sig not hex",
        lambda s: _add_signature(_classic(s), {"keyid": s[0].public_key.keyid, "sig": "xyz0"}),
        "signatures[1].sig: not hex",
    ),
    (
        "sig odd hex",
        lambda s: _set(_classic(s), "signatures", 0, "sig", "abc"),
        "signatures[0].sig: not hex",
    ),
    (
        "sig spaced hex",
        lambda s: _set(_classic(s), "signatures", 0, "sig", "ab cd"),
        "signatures[0].sig: not hex",
    ),
    (
        "sig empty",
        lambda s: _set(_classic(s), "signatures", 0, "sig", ""),
        "signatures[0].sig: not hex",
    ),
    (
        "dsse sig unpadded",
        lambda s: _set(_dsse(s), "signatures", 0, "sig", "abc"),
        "signatures[0].sig: not base64",
    ),
    (
        "dsse sig extra",
        lambda s: _set(_dsse(s), "signatures", 0, "other", ""),
        "signatures[0]: unknown member 'other'",
    ),
    (
        "dsse sig empty",
        lambda s: _set(_dsse(s), "signatures", 0, "sig", ""),
        "signatures[0].sig: empty signature",
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"), [c[1:] for c in SET_ASIDE], ids=[c[0] for c in SET_ASIDE]
)
def test_a_malformed_signature_entry_is_kept_but_never_verifies(
    signers: list[Signer], build: Any, expected: str
) -> None:
    # Not fatal: the link it sits on is set aside, as in the reference and in-toto-golang.
    document = build(signers)
    envelope = parse_dict(document)
    bad = [sig for sig in envelope.signatures if sig.problem is not None]
    assert len(bad) == 1
    assert bad[0].problem is not None
    assert bad[0].problem.startswith(expected)
    key = signers[0].public_key
    good_left = len(envelope.signatures) > 1
    assert verified_keys(envelope, [key]) == ([key] if good_left else [])
    assert signature_problems(envelope, key) == [bad[0].problem]
    assert json.loads(dump_envelope(envelope))["signatures"] == document["signatures"]


@pytest.mark.parametrize("dsse", [False, True])
def test_an_empty_cert_as_in_toto_golang_writes_it_is_accepted(
    signers: list[Signer], dsse: bool
) -> None:
    document = _dsse(signers) if dsse else _classic(signers)
    document["signatures"][0]["cert"] = ""
    envelope = parse_dict(document)
    key = signers[0].public_key
    assert verified_keys(envelope, [key]) == [key]
    assert signature_problems(envelope, key) == []
