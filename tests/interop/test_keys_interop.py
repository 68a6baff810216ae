"""Keys and envelopes against the reference in-toto 3.x / securesystemslib 1.x.

Both directions: what the reference signs we verify, what we sign it verifies, and both
derive the same keyid and key dict from the same PEM file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from in_toto.models._signer import load_crypto_signer_from_pkcs8_file, load_public_key_from_file
from in_toto.models.link import Link
from in_toto.models.metadata import Envelope as ReferenceEnvelope
from in_toto.models.metadata import Metablock
from securesystemslib.signer._key import Key

from intoto_pip.crypto.keys import (
    PublicKey,
    generate_private_key_pem,
    load_public_key,
    load_signer,
    public_key_from_pem,
)
from intoto_pip.models.envelope import (
    Envelope,
    dump_envelope,
    parse_envelope,
    sign_payload,
    verified_keys,
)
from tests.interop.conftest import ReferenceCLI

CLI_KEYS = ["ed25519", "rsa", "ecdsa"]
ALL_KEYS = [*CLI_KEYS, "ecdsa-p384", "ecdsa-p521"]


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path


def _write_pair(folder: Path, name: str, key: PrivateKeyTypes) -> KeyFiles:
    files = KeyFiles(folder / name, folder / f"{name}.pub")
    files.private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return files


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyFiles]:
    folder = tmp_path_factory.mktemp("keys")
    keys: dict[str, PrivateKeyTypes] = {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ecdsa": ec.generate_private_key(ec.SECP256R1()),
        "ecdsa-p384": ec.generate_private_key(ec.SECP384R1()),
        "ecdsa-p521": ec.generate_private_key(ec.SECP521R1()),
    }
    return {name: _write_pair(folder, name, key) for name, key in keys.items()}


def _link(name: str, products: dict[str, Any]) -> dict[str, Any]:
    return {
        "_type": "link",
        "name": name,
        "materials": {},
        "products": products,
        "byproducts": {"stdout": "", "stderr": "", "return-value": 0},
        "command": ["true"],
        "environment": {},
    }


# --- (a) same key, same keyid and key dict ------------------------------------------------


@pytest.mark.parametrize("name", ALL_KEYS)
def test_keyid_and_key_dict_match_the_reference(key_files: dict[str, KeyFiles], name: str) -> None:
    files = key_files[name]
    ours = load_public_key(files.public)
    theirs = load_public_key_from_file(str(files.public))
    assert ours.keyid == theirs["keyid"]
    assert ours.to_keydict() == theirs
    assert PublicKey.from_keydict(theirs, where="keys") == ours
    reference_signer = load_crypto_signer_from_pkcs8_file(str(files.private))
    assert load_signer(files.private).public_key.keyid == reference_signer.public_key.keyid
    # The reference must accept our key dict as a layout key.
    key = Key.from_dict(ours.keyid, ours.to_keydict())
    assert key.keyid == ours.keyid


@pytest.mark.parametrize(
    ("key", "form"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "EC"),
    ],
)
def test_traditional_and_encrypted_pem_give_the_reference_keyid(
    tmp_path: Path, key: Any, form: str
) -> None:
    private: PrivateKeyTypes = key()
    path = tmp_path / "key"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    assert f"BEGIN {form} PRIVATE KEY".encode() in path.read_bytes()
    reference_signer = load_crypto_signer_from_pkcs8_file(str(path), b"pw")
    assert load_signer(path, "pw").public_key.keyid == reference_signer.public_key.keyid


# --- (b) the reference signs, we verify ---------------------------------------------------


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
@pytest.mark.parametrize("name", CLI_KEYS)
def test_links_signed_by_in_toto_run_verify_with_ours(
    reference_cli: ReferenceCLI,
    key_files: dict[str, KeyFiles],
    tmp_path: Path,
    name: str,
    dsse: bool,
) -> None:
    files = key_files[name]
    (tmp_path / "a.txt").write_bytes(b"product\n")
    args: list[str | Path] = ["-n", "step", "--signing-key", files.private, "-x", "-p", "a.txt"]
    result = reference_cli.run(
        "in-toto-run", *args, *(["--use-dsse"] if dsse else []), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    key = load_public_key(files.public)
    envelope = parse_envelope((tmp_path / f"step.{key.keyid[:8]}.link").read_bytes(), what="link")
    assert envelope.kind == ("dsse" if dsse else "metablock")
    assert envelope.payload["name"] == "step"
    digest = hashlib.sha256(b"product\n").hexdigest()
    assert envelope.payload["products"] == {"a.txt": {"sha256": digest}}
    assert verified_keys(envelope, [key]) == [key]


def test_in_toto_run_loads_our_encrypted_key(reference_cli: ReferenceCLI, tmp_path: Path) -> None:
    private, public = generate_private_key_pem("ecdsa", "s3cret")
    key = public_key_from_pem(public, source="key.pub")
    (tmp_path / "key").write_bytes(private)
    args = ["-n", "s", "--signing-key", "key", "-P", "s3cret", "-x", "--use-dsse"]
    result = reference_cli.run("in-toto-run", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load_signer(tmp_path / "key", "s3cret").public_key == key
    envelope = parse_envelope((tmp_path / f"s.{key.keyid[:8]}.link").read_bytes(), what="link")
    assert verified_keys(envelope, [key]) == [key]


# --- (c) we sign, the reference verifies --------------------------------------------------


def _verify_with_reference(
    reference_cli: ReferenceCLI, path: Path, public: Path
) -> tuple[int, str]:
    args: list[str | Path] = ["-f", path, "-k", public, "--verify"]
    result = reference_cli.run("in-toto-sign", *args, cwd=path.parent)
    return result.returncode, result.stderr


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
@pytest.mark.parametrize("name", CLI_KEYS)
def test_links_signed_by_us_verify_with_in_toto_sign(
    reference_cli: ReferenceCLI,
    key_files: dict[str, KeyFiles],
    tmp_path: Path,
    name: str,
    dsse: bool,
) -> None:
    files = key_files[name]
    signer = load_signer(files.private)
    envelope = sign_payload(_link("step", {"é.txt": {"sha256": "ab" * 32}}), [signer], dsse=dsse)
    path = tmp_path / f"step.{signer.public_key.keyid[:8]}.link"
    path.write_bytes(dump_envelope(envelope))
    code, stderr = _verify_with_reference(reference_cli, path, files.public)
    assert code == 0, stderr


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
def test_the_reference_refuses_a_link_we_changed_after_signing(
    reference_cli: ReferenceCLI, key_files: dict[str, KeyFiles], tmp_path: Path, dsse: bool
) -> None:
    # The control for the test above: the reference really checks what we wrote.
    files = key_files["rsa"]
    envelope = sign_payload(_link("step", {}), [load_signer(files.private)], dsse=dsse)
    changed = _link("step", {"evil": {"sha256": "00" * 32}})
    tampered = Envelope(
        kind=envelope.kind,
        payload=changed,
        signed_bytes=envelope.signed_bytes,
        signatures=envelope.signatures,
        raw_payload=json.dumps(changed, sort_keys=True).encode() if dsse else None,
    )
    path = tmp_path / "step.link"
    path.write_bytes(dump_envelope(tampered))
    code, stderr = _verify_with_reference(reference_cli, path, files.public)
    assert code == 1, stderr


# --- byte-for-byte files ------------------------------------------------------------------


def test_files_are_byte_identical_to_the_reference(key_files: dict[str, KeyFiles]) -> None:
    # ed25519 signatures are deterministic, so whole files can be compared.
    files = key_files["ed25519"]
    payload = _link("step", {"dir/ü.txt": {"sha256": "cd" * 32}})
    reference_signer = load_crypto_signer_from_pkcs8_file(str(files.private))
    signer = load_signer(files.private)

    metablock = Metablock(signed=Link.read(dict(payload)))
    metablock.create_signature(reference_signer)
    ours = dump_envelope(sign_payload(payload, [signer], dsse=False))
    assert ours == f"{metablock}".encode()

    reference_dsse = ReferenceEnvelope.from_signable(Link.read(dict(payload)))
    reference_dsse.create_signature(reference_signer)
    ours_dsse = dump_envelope(sign_payload(payload, [signer], dsse=True))
    assert parse_envelope(ours_dsse, what="ours").signed_bytes == reference_dsse.pae()
    reference_path = files.private.parent / "reference.link"
    reference_dsse.dump(str(reference_path))
    assert ours_dsse == reference_path.read_bytes()
