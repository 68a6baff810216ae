"""write_key_pair: PKCS#8 (0600) and SPKI files, usable for signing and verifying."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from intoto_pip.crypto.keys import load_public_key, load_signer
from intoto_pip.errors import InputError, KeyLoadError
from intoto_pip.produce.keygen import write_key_pair


@pytest.mark.parametrize(
    ("keytype", "scheme"),
    [("ed25519", "ed25519"), ("ecdsa", "ecdsa-sha2-nistp256"), ("rsa", "rsassa-pss-sha256")],
)
def test_key_pair_files(tmp_path: Path, keytype: str, scheme: str) -> None:
    path = tmp_path / "k"
    key = write_key_pair(path, keytype)
    assert key.scheme == scheme
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "k.pub").read_bytes()
    assert load_public_key(tmp_path / "k.pub") == key
    signer = load_signer(path)
    assert signer.public_key == key
    assert key.verify(signer.sign(b"data"), b"data")


def test_encrypted_key_needs_its_password(tmp_path: Path) -> None:
    path = tmp_path / "k"
    key = write_key_pair(path, password="secret")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert load_signer(path, "secret").public_key == key
    with pytest.raises(KeyLoadError, match="wrong password"):
        load_signer(path, "nope")


def test_existing_files_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "k"
    (tmp_path / "k.pub").write_text("mine")
    with pytest.raises(InputError, match="already exists"):
        write_key_pair(path)
    assert not path.exists() and (tmp_path / "k.pub").read_text() == "mine"
    write_key_pair(path, overwrite=True)
    assert (tmp_path / "k.pub").read_text() != "mine"


def test_bad_type_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown key type"):
        write_key_pair(tmp_path / "k", "dsa")
    with pytest.raises(InputError, match="does not exist"):
        write_key_pair(tmp_path / "no" / "k")
