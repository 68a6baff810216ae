"""GPG key dicts and signatures as the reference writes them, verified without gpg."""

from __future__ import annotations

import copy
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

from intoto_pip.crypto.gpg_keys import GpgExpiredError, GpgKey
from intoto_pip.errors import MetadataError
from intoto_pip.models.envelope import Envelope, Signature, verified_keys
from tests.support.gpg import NAMES, NOW, SoftKey, keydict, link, reference_key, subpacket

DATA = b'{"_type":"link"}'
GOOD = ("rsa", "dsa", "ed25519", "rsa-subkey", "encrypt-subkey", "revoked-subkey")


@pytest.mark.parametrize("name", NAMES)
def test_reference_key_dicts_parse_and_round_trip_exactly(name: str) -> None:
    assert reference_key(name).to_keydict() == keydict(name)


@pytest.mark.parametrize("name", GOOD)
def test_links_the_reference_signed_verify(name: str) -> None:
    key = reference_key(name)
    assert verified_keys(link(name), [key], now=NOW) == [key]


def test_a_subkey_signature_counts_for_its_primary() -> None:
    envelope = link("rsa-subkey")
    key = reference_key("rsa-subkey")
    assert envelope.signatures[0].keyid != key.keyid
    assert key.accepts(envelope.signatures[0].keyid)
    assert verified_keys(envelope, [key], now=NOW) == [key]


def test_an_expired_subkey_is_refused_with_its_date() -> None:
    envelope, key = link("expired-subkey"), reference_key("expired-subkey")
    # Made 2020-01-01 with a one-year lifetime: it verifies then, and not in 2026.
    assert verified_keys(envelope, [key], now=datetime(2020, 7, 1, tzinfo=UTC)) == [key]
    assert verified_keys(envelope, [key], now=NOW) == []
    with pytest.raises(
        GpgExpiredError, match=r"GPG subkey [0-9a-f]{40} expired on 2020-12-31T00:00:00Z"
    ):
        verified_keys(envelope, [key], now=NOW, strict_expiry=True)


def test_an_expired_primary_key_is_refused_with_its_date() -> None:
    soft = SoftKey(created=1_600_000_000, validity=86_400)
    header = soft.header()
    envelope = _envelope(soft.key.keyid, soft.sign(DATA, header), header)
    assert verified_keys(envelope, [soft.key], now=datetime(2020, 9, 13, 13, tzinfo=UTC))
    with pytest.raises(GpgExpiredError, match=r"GPG key .* expired on 2020-09-14T12:26:40Z"):
        verified_keys(envelope, [soft.key], now=NOW, strict_expiry=True)


def test_an_expired_signature_is_refused() -> None:
    soft = SoftKey()
    header = soft.header(subpacket(3, (3600).to_bytes(4, "big")), created=1_700_000_000)
    envelope = _envelope(soft.key.keyid, soft.sign(DATA, header), header)
    with pytest.raises(GpgExpiredError, match=r"signature by .* expired on 2023-11-14T23:13:20Z"):
        verified_keys(envelope, [soft.key], now=NOW, strict_expiry=True)


def test_a_zero_validity_period_never_expires() -> None:
    soft = SoftKey(validity=0)
    header = soft.header()
    envelope = _envelope(soft.key.keyid, soft.sign(DATA, header), header)
    assert verified_keys(envelope, [soft.key], now=datetime(2099, 1, 1, tzinfo=UTC))


def _envelope(keyid: str, sig: bytes, other_headers: bytes | None) -> Envelope:
    signature = Signature(keyid=keyid, sig=sig, other_headers=other_headers)
    return Envelope(kind="metablock", payload={}, signed_bytes=DATA, signatures=(signature,))


def test_an_rsa_signature_shorter_than_the_modulus_is_zero_padded_as_the_reference() -> None:
    soft = SoftKey()
    for created in range(1_700_000_000, 1_700_010_000):  # about 1 in 256 starts with 0x00
        header = soft.header(created=created)
        signature = soft.sign(DATA, header)
        if signature[0] == 0:
            break
    short = signature.lstrip(b"\x00")
    assert len(short) < 256
    assert soft.key.verify_entry(soft.key.keyid, short, header, DATA, NOW)
    assert _reference_verifies(soft.key, short, header)
    assert not soft.key.verify_entry(soft.key.keyid, b"\x01" + signature, header, DATA, NOW)


def _reference_verifies(key: GpgKey, signature: bytes, header: bytes) -> bool:
    from securesystemslib._gpg.functions import verify_signature

    entry = {"keyid": key.keyid, "other_headers": header.hex(), "signature": signature.hex()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return bool(verify_signature(entry, key.to_keydict(), DATA))  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("label", "header_args"),
    [
        ("SHA-512 named in the header", {"hash_id": 10}),
        ("an unknown critical subpacket", {"extra": subpacket(20, b"\x00" * 8, critical=True)}),
        ("another issuer fingerprint", {"extra": subpacket(33, b"\x04" + b"\x11" * 20)}),
    ],
)
def test_headers_the_reference_never_writes_do_not_verify(
    label: str, header_args: dict[str, Any]
) -> None:
    soft = SoftKey()
    extra = header_args.pop("extra", b"")
    header = soft.header(extra, **header_args) if extra else soft.header(**header_args)
    assert not soft.key.verify_entry(soft.key.keyid, soft.sign(DATA, header), header, DATA, NOW)


def test_a_signature_over_other_headers_does_not_verify() -> None:
    envelope, key = link("rsa"), reference_key("rsa")
    good = envelope.signatures[0]
    assert good.other_headers is not None
    changed = bytearray(good.other_headers)
    changed[-1] ^= 1  # the creation time's last byte
    other = Signature(keyid=good.keyid, sig=good.sig, other_headers=bytes(changed))
    assert not key.verify_entry(other.keyid, other.sig, other.other_headers, DATA, NOW)
    assert not key.verify_entry(good.keyid, good.sig, None, envelope.signed_bytes, NOW)
    assert not key.verify_entry(good.keyid, good.sig, good.other_headers[:-1], DATA, NOW)
    assert key.verify_entry(good.keyid, good.sig, good.other_headers, envelope.signed_bytes, NOW)


def test_a_pem_style_entry_never_verifies_with_a_gpg_key() -> None:
    envelope, key = link("ed25519"), reference_key("ed25519")
    sig = envelope.signatures[0]
    assert not key.verify_entry(sig.keyid, sig.sig, None, envelope.signed_bytes, NOW)


def _mutated(name: str, path: tuple[str, ...], value: object) -> dict[str, Any]:
    document = copy.deepcopy(keydict(name))
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("extra",), 1, "unknown member 'extra'"),
        (("keyval", "extra"), "", "keyval: unknown member 'extra'"),
        (("keyval", "private"), "00", "a private key must not be in metadata"),
        (("method",), "pgp+dsa-fips-180-2", "expected 'pgp\\+rsa-pkcsv1.5' for rsa"),
        (("type",), "ecdsa", "unsupported GPG key type 'ecdsa'"),
        (("hashes",), ["pgp+SHA1"], "hashes: expected"),
        (("creation_time",), 1, "keyid: not the fingerprint of this key"),
        (("creation_time",), True, "creation_time: expected a non-negative integer"),
        (("validity_period",), -1, "validity_period: expected a non-negative integer"),
        (("keyid",), "D0C5" + "0" * 36, "40-digit lowercase hex"),
        (("keyval", "public", "e"), "010003", "keyid: not the fingerprint"),
        (("keyval", "public", "e"), "0x10001", "e: not lowercase hex"),
        (("keyval", "public", "e"), "00010001", "leading zero bytes"),
        (("keyval", "public", "x"), "01", "expected members \\['e', 'n'\\]"),
    ],
)
def test_malformed_rsa_key_dicts_are_refused_with_their_location(
    path: tuple[str, ...], value: object, message: str
) -> None:
    with pytest.raises(MetadataError, match=message):
        GpgKey.from_keydict(_mutated("rsa", path, value), where="layout.keys['d0c5']")


def test_subkey_dicts_are_checked_as_strictly() -> None:
    document = keydict("rsa-subkey")
    (subkeyid,) = document["subkeys"]
    nested = _mutated("rsa-subkey", ("subkeys", subkeyid, "subkeys"), {})
    with pytest.raises(MetadataError, match=r"subkeys\['.*'\]: unknown member 'subkeys'"):
        GpgKey.from_keydict(nested, where="k")
    renamed = copy.deepcopy(document)
    renamed["subkeys"] = {"ab" * 20: document["subkeys"][subkeyid]}
    with pytest.raises(MetadataError, match="keyid does not match the key it names"):
        GpgKey.from_keydict(renamed, where="k")


def test_a_short_rsa_key_is_refused() -> None:
    document = keydict("rsa")
    document["keyval"]["public"]["n"] = "c3" * 128  # 1024 bits
    with pytest.raises(MetadataError, match="RSA key of 1024 bits is too short"):
        GpgKey.from_keydict(document, where="k")


def test_key_material_matches_for_pem_and_gpg_forms_of_one_key() -> None:
    from cryptography.hazmat.primitives import serialization

    from intoto_pip.crypto.keys import count_distinct, public_key_from_pem

    gpg_key = reference_key("rsa")
    pem = gpg_key.crypto_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem_key = public_key_from_pem(pem, source="pem")
    assert pem_key.material == gpg_key.material
    assert count_distinct([gpg_key, pem_key]) == 1
    subkeyed = reference_key("rsa-subkey")
    (sub,) = subkeyed.subkeys
    assert count_distinct([subkeyed, sub]) == 1
    assert count_distinct([subkeyed, gpg_key]) == 2
