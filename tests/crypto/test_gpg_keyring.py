"""Keys read out of ``gpg --export`` data and detached signatures, against the reference."""

from __future__ import annotations

import pytest

from intoto_pip.crypto.gpg_keyring import key_from_export, signature_entry
from intoto_pip.errors import MetadataError
from intoto_pip.models.envelope import verified_keys
from tests.support.gpg import NOW, export_bytes, keydict, link, reference_key

SAME_AS_REFERENCE = ("rsa", "dsa", "ed25519", "rsa-subkey", "expired-subkey")


@pytest.mark.parametrize("name", SAME_AS_REFERENCE)
def test_exports_read_into_the_key_dict_the_reference_makes(name: str) -> None:
    key = key_from_export(export_bytes(name), keydict(name)["keyid"], where=name)
    assert key.to_keydict() == keydict(name)


def test_a_short_ed25519_subkey_is_kept_where_the_reference_drops_it() -> None:
    # The reference rebuilds the signed key data from a two-byte length header, which gpg
    # does not use for short packets, so its export loses ed25519 subkeys; ours keeps them.
    assert "subkeys" not in keydict("ed25519-subkey")
    key = key_from_export(export_bytes("ed25519-subkey"), "", where="export")
    assert len(key.subkeys) == 1
    assert verified_keys(link("ed25519-subkey"), [key], now=NOW) == [key]
    assert verified_keys(link("ed25519-subkey"), [reference_key("ed25519-subkey")], now=NOW) == []


def test_an_ed25519_primary_key_keeps_its_expiry() -> None:
    # The same header slip makes the reference miss the expiry of an ed25519 primary key.
    assert "validity_period" not in keydict("expired-key")
    key = key_from_export(export_bytes("expired-key"), "", where="export")
    assert key.validity_period in (365 * 86400, 366 * 86400)
    assert verified_keys(link("expired-key"), [key], now=NOW) == []


def test_an_encryption_subkey_is_left_out() -> None:
    assert len(keydict("encrypt-subkey")["subkeys"]) == 1  # the reference keeps it
    key = key_from_export(export_bytes("encrypt-subkey"), "", where="export")
    assert key.subkeys == ()


def test_a_revoked_subkey_is_left_out_and_its_signature_no_longer_counts() -> None:
    reference = reference_key("revoked-subkey")
    assert len(reference.subkeys) == 2
    assert verified_keys(link("revoked-subkey"), [reference], now=NOW) == [reference]
    key = key_from_export(export_bytes("revoked-subkey"), "", where="export")
    assert len(key.subkeys) == 1
    assert link("revoked-subkey").signatures[0].keyid not in {sub.keyid for sub in key.subkeys}
    assert verified_keys(link("revoked-subkey"), [key], now=NOW) == []


def test_the_keyid_asked_for_must_be_in_the_export() -> None:
    fingerprint = keydict("rsa-subkey")["keyid"]
    (subkeyid,) = keydict("rsa-subkey")["subkeys"]
    assert key_from_export(export_bytes("rsa-subkey"), subkeyid[-16:], where="x").keyid == (
        fingerprint
    )
    assert key_from_export(export_bytes("rsa-subkey"), "0x" + fingerprint.upper(), where="x")
    with pytest.raises(MetadataError, match="no key or signing subkey DEADBEEF"):
        key_from_export(export_bytes("rsa-subkey"), "DEADBEEF", where="x")


def test_two_primary_keys_are_refused() -> None:
    with pytest.raises(MetadataError, match="a second primary key"):
        key_from_export(export_bytes("rsa") + export_bytes("dsa"), "", where="x")


def test_a_signature_entry_splits_as_the_reference_stores_it() -> None:
    document = link("rsa").signatures[0]
    assert document.other_headers is not None
    with pytest.raises(MetadataError, match="expected one packet of tag 2"):
        signature_entry(export_bytes("rsa"), where="x")
