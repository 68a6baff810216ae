"""Signing and key export through the real gpg binary (skipped where gpg is not installed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.errors import InputError, KeyLoadError
from intoto_pip.models.envelope import dump_envelope, parse_envelope, sign_payload, verified_keys
from intoto_pip.produce.gpg_signer import GpgOptions, export_key, gpg_command, gpg_signer
from tests.support.gpg import add_subkey, keyring, needs_gpg, new_key

PAYLOAD = {"_type": "link", "name": "build"}


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    if gpg_missing():
        pytest.skip("the gpg binary is not installed (apt-get install gnupg)")
    with keyring() as path:
        yield path


def gpg_missing() -> bool:
    import shutil

    return shutil.which("gpg") is None


@needs_gpg
@pytest.mark.parametrize("algorithm", ["rsa3072", "dsa2048", "ed25519"])
def test_gpg_signs_and_python_verifies(home: Path, algorithm: str) -> None:
    fingerprint = new_key(home, f"signer-{algorithm}", algorithm)
    signer = gpg_signer(fingerprint, GpgOptions(home=home))
    assert signer.public_key.keyid == fingerprint.lower()
    envelope = parse_envelope(dump_envelope(sign_payload(PAYLOAD, [signer], dsse=False)), what="x")
    assert envelope.signatures[0].keyid == fingerprint.lower()
    assert verified_keys(envelope, [signer.public_key]) == [signer.public_key]


@needs_gpg
def test_a_signing_subkey_signs_for_its_primary(home: Path) -> None:
    fingerprint = new_key(home, "with-subkey", "rsa2048", usage="cert")
    add_subkey(home, fingerprint, "ed25519")
    signer = gpg_signer(fingerprint, GpgOptions(home=home))
    (subkey,) = signer.public_key.subkeys
    envelope = sign_payload(PAYLOAD, [signer], dsse=False)
    assert envelope.signatures[0].keyid == subkey.keyid
    assert verified_keys(envelope, [signer.public_key]) == [signer.public_key]


@needs_gpg
def test_without_a_keyid_gpg_picks_its_default_key(home: Path) -> None:
    signer = gpg_signer(None, GpgOptions(home=home))
    assert isinstance(signer.public_key, GpgKey)
    assert verified_keys(sign_payload(PAYLOAD, [signer], dsse=False), [signer.public_key])


@needs_gpg
def test_an_unknown_key_is_a_key_load_error(home: Path) -> None:
    with pytest.raises(KeyLoadError, match="no GPG key DEADBEEFDEADBEEF in the keyring"):
        export_key("DEADBEEFDEADBEEF", GpgOptions(home=home))


def test_a_missing_gpg_binary_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("GNUPG", raising=False)
    with pytest.raises(InputError, match=r"needs GnuPG \(Debian/Ubuntu: apt-get install gnupg"):
        gpg_command()
