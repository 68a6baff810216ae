"""Keys: PEM loading in every form the reference loads, key dicts, keyids, material."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from intoto_pip.crypto.keys import (
    PrivateKeySigner,
    PublicKey,
    generate_private_key_pem,
    load_public_key,
    load_signer,
    public_key_from_pem,
    signer_from_private_key,
)
from intoto_pip.errors import InputError, KeyLoadError, MetadataError

PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL


@dataclass(frozen=True)
class Keys:
    ed25519: ed25519.Ed25519PrivateKey
    rsa: rsa.RSAPrivateKey
    p256: ec.EllipticCurvePrivateKey
    p384: ec.EllipticCurvePrivateKey
    p521: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        ed25519=ed25519.Ed25519PrivateKey.generate(),
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        p256=ec.generate_private_key(ec.SECP256R1()),
        p384=ec.generate_private_key(ec.SECP384R1()),
        p521=ec.generate_private_key(ec.SECP521R1()),
    )


def private_pem(
    key: PrivateKeyTypes, form: serialization.PrivateFormat, password: str | None = None
) -> bytes:
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if password is not None:
        encryption = serialization.BestAvailableEncryption(password.encode())
    return key.private_bytes(serialization.Encoding.PEM, form, encryption)


def spki_pem(key: PublicKeyTypes) -> str:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.PEM, spki).decode()


def raw_hex(key: ed25519.Ed25519PublicKey) -> str:
    raw = serialization.PublicFormat.Raw
    return key.public_bytes(serialization.Encoding.Raw, raw).hex()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- keyids -------------------------------------------------------------------------------


def test_ed25519_keyid_is_sha256_of_the_canonical_key_dict(keys: Keys) -> None:
    public = raw_hex(keys.ed25519.public_key())
    key = PublicKey(keytype="ed25519", scheme="ed25519", public=public)
    text = '{"keytype":"ed25519","keyval":{"public":"' + public + '"},"scheme":"ed25519"}'
    assert key.keyid == hashlib.sha256(text.encode()).hexdigest()
    legacy = (
        '{"keyid_hash_algorithms":["sha256","sha512"],"keytype":"ed25519",'
        '"keyval":{"public":"' + public + '"},"scheme":"ed25519"}'
    )
    assert key.legacy_keyid == hashlib.sha256(legacy.encode()).hexdigest()


def test_rsa_keyid_hashes_the_pem_text_with_raw_newlines(keys: Keys) -> None:
    pem = spki_pem(keys.rsa.public_key())
    key = public_key_from_pem(pem.encode(), source="k.pub")
    assert key.public == pem
    text = '{"keytype":"rsa","keyval":{"public":"' + pem + '"},"scheme":"rsassa-pss-sha256"}'
    assert key.keyid == hashlib.sha256(text.encode()).hexdigest()


def test_keyid_is_stable_across_loads(keys: Keys, tmp_path: Path) -> None:
    path = write(tmp_path, "k.pub", spki_pem(keys.p256.public_key()).encode())
    first, second = load_public_key(path), load_public_key(path)
    assert first == second
    assert first.keyid == second.keyid == first.keyid
    assert first.keyid != first.legacy_keyid


def test_to_keydict_is_the_reference_layout_form_and_parses_back(keys: Keys) -> None:
    key = public_key_from_pem(spki_pem(keys.p384.public_key()).encode(), source="k")
    value = key.to_keydict()
    assert value == {
        "keyid": key.keyid,
        "keytype": "ecdsa",
        "scheme": "ecdsa-sha2-nistp384",
        "keyval": {"public": key.public},
    }
    assert PublicKey.from_keydict(value, where="keys") == key


# --- PEM private keys ---------------------------------------------------------------------

FORMS: list[tuple[str, serialization.PrivateFormat, str | None, str]] = [
    ("ed25519", PKCS8, None, "BEGIN PRIVATE KEY"),
    ("ed25519", PKCS8, "secret", "BEGIN ENCRYPTED PRIVATE KEY"),
    ("rsa", PKCS8, None, "BEGIN PRIVATE KEY"),
    ("rsa", PKCS8, "secret", "BEGIN ENCRYPTED PRIVATE KEY"),
    ("rsa", TRADITIONAL, None, "BEGIN RSA PRIVATE KEY"),
    ("rsa", TRADITIONAL, "secret", "Proc-Type: 4,ENCRYPTED"),
    ("p256", PKCS8, None, "BEGIN PRIVATE KEY"),
    ("p256", TRADITIONAL, None, "BEGIN EC PRIVATE KEY"),
    ("p384", TRADITIONAL, "secret", "BEGIN EC PRIVATE KEY"),
    ("p521", PKCS8, "secret", "BEGIN ENCRYPTED PRIVATE KEY"),
]


@pytest.mark.parametrize(("name", "form", "password", "marker"), FORMS)
def test_load_signer_reads_every_pem_form(
    keys: Keys,
    tmp_path: Path,
    name: str,
    form: serialization.PrivateFormat,
    password: str | None,
    marker: str,
) -> None:
    private: PrivateKeyTypes = getattr(keys, name)
    data = private_pem(private, form, password)
    assert marker.encode() in data
    signer = load_signer(write(tmp_path, "key", data), password)
    public = signer_from_private_key(private).public_key
    assert signer.public_key == public
    assert public.verify(signer.sign(b"data"), b"data")


def _signer_failures(keys: Keys, tmp_path: Path) -> list[tuple[Path, str | None, str]]:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    k1 = ec.generate_private_key(ec.SECP256K1())
    return [
        (tmp_path / "missing", None, "cannot read key"),
        (write(tmp_path, "enc", private_pem(keys.rsa, PKCS8, "pw")), None, "is encrypted: give"),
        (write(tmp_path, "enc2", private_pem(keys.p256, PKCS8, "pw")), "bad", "wrong password"),
        (write(tmp_path, "enc3", private_pem(keys.rsa, TRADITIONAL, "pw")), "x", "wrong password"),
        (write(tmp_path, "plain", private_pem(keys.ed25519, PKCS8)), "pw", "is not encrypted"),
        (write(tmp_path, "short", private_pem(short, PKCS8)), None, "1024 bits is too short"),
        (write(tmp_path, "junk", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"), None, "not a PEM"),
        (write(tmp_path, "empty", b""), None, "not a PEM private key"),
        (write(tmp_path, "pub", spki_pem(keys.rsa.public_key()).encode()), None, "public key"),
        (
            write(tmp_path, "ed448", private_pem(ed448.Ed448PrivateKey.generate(), PKCS8)),
            None,
            "unsupported key type",
        ),
        (write(tmp_path, "k1", private_pem(k1, PKCS8)), None, "unsupported key curve secp256k1"),
    ]


def test_load_signer_failures_are_key_load_errors_naming_the_file(
    keys: Keys, tmp_path: Path
) -> None:
    for path, password, expected in _signer_failures(keys, tmp_path):
        with pytest.raises(KeyLoadError) as info:
            load_signer(path, password)
        assert expected in str(info.value), (path.name, str(info.value))
        assert str(path) in str(info.value)
        assert info.value.exit_code == 2


def test_load_public_key_failures(keys: Keys, tmp_path: Path) -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    cases = [
        (tmp_path / "missing.pub", "cannot read key"),
        (write(tmp_path, "junk.pub", b"not a key"), "not a PEM public key"),
        (write(tmp_path, "priv", private_pem(keys.p256, PKCS8)), "is a private key"),
        (write(tmp_path, "short.pub", spki_pem(short).encode()), "1024 bits is too short"),
        (
            write(
                tmp_path,
                "ed448.pub",
                spki_pem(ed448.Ed448PrivateKey.generate().public_key()).encode(),
            ),
            "unsupported key type",
        ),
    ]
    for path, expected in cases:
        with pytest.raises(KeyLoadError, match=re.escape(expected)) as info:
            load_public_key(path)
        assert str(path) in str(info.value)


def test_public_key_from_pem_describes_keys_as_the_reference(keys: Keys) -> None:
    described = {
        name: public_key_from_pem(spki_pem(getattr(keys, name).public_key()).encode(), source="k")
        for name in ("ed25519", "rsa", "p256", "p384", "p521")
    }
    assert [(k.keytype, k.scheme) for k in described.values()] == [
        ("ed25519", "ed25519"),
        ("rsa", "rsassa-pss-sha256"),
        ("ecdsa", "ecdsa-sha2-nistp256"),
        ("ecdsa", "ecdsa-sha2-nistp384"),
        ("ecdsa", "ecdsa-sha2-nistp521"),
    ]
    assert described["ed25519"].public == raw_hex(keys.ed25519.public_key())


# --- key dicts ----------------------------------------------------------------------------


def _dict(keytype: str, scheme: str, public: str, **extra: Any) -> dict[str, Any]:
    return {"keytype": keytype, "scheme": scheme, "keyval": {"public": public}, **extra}


def _ed(keys: Keys, **extra: Any) -> dict[str, Any]:
    return _dict("ed25519", "ed25519", raw_hex(keys.ed25519.public_key()), **extra)


def _rsa(keys: Keys, **extra: Any) -> dict[str, Any]:
    return _dict("rsa", "rsassa-pss-sha256", spki_pem(keys.rsa.public_key()), **extra)


def _with(value: dict[str, Any], path: tuple[str, ...], item: object) -> dict[str, Any]:
    target = value
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = item
    return value


def _short_rsa_pem() -> str:
    return spki_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())


REJECTIONS: list[tuple[str, Callable[[Keys], object], str]] = [
    ("array", lambda k: [], "keys[0]: expected an object, got array"),
    (
        "no keytype",
        lambda k: {"scheme": "ed25519", "keyval": {"public": "00"}},
        "keys[0].keytype: expected a string, got null",
    ),
    (
        "int keytype",
        lambda k: _with(_ed(k), ("keytype",), 1),
        "keys[0].keytype: expected a string, got integer",
    ),
    (
        "dsa",
        lambda k: _with(_ed(k), ("keytype",), "dsa"),
        "keys[0].keytype: unsupported keytype 'dsa'",
    ),
    (
        "pkcs1v15",
        lambda k: _with(_rsa(k), ("scheme",), "rsa-pkcs1v15-sha256"),
        "keys[0].scheme: unsupported scheme 'rsa-pkcs1v15-sha256'",
    ),
    (
        "mismatch",
        lambda k: _with(_ed(k), ("scheme",), "rsassa-pss-sha256"),
        "keys[0].scheme: scheme 'rsassa-pss-sha256' does not belong to keytype 'ed25519'",
    ),
    (
        "legacy ecdsa mismatch",
        lambda k: _dict(
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", spki_pem(k.p384.public_key())
        ),
        "keys[0].keytype: unsupported keytype",
    ),
    (
        "no keyval",
        lambda k: {"keytype": "ed25519", "scheme": "ed25519"},
        "keys[0].keyval: expected an object, got null",
    ),
    (
        "int public",
        lambda k: _with(_ed(k), ("keyval", "public"), 5),
        "keys[0].keyval.public: expected a string, got integer",
    ),
    (
        "private",
        lambda k: _with(_ed(k), ("keyval", "private"), "00" * 32),
        "keys[0].keyval.private: a private key must not be in metadata",
    ),
    (
        "keyval member",
        lambda k: _with(_ed(k), ("keyval", "secret"), ""),
        "keys[0].keyval: unknown member 'secret'",
    ),
    ("member", lambda k: _ed(k, extra=1), "keys[0]: unknown member 'extra'"),
    (
        "upper hex",
        lambda k: _with(_ed(k), ("keyval", "public"), raw_hex(k.ed25519.public_key()).upper()),
        "keys[0].keyval.public: not 64 lowercase hex",
    ),
    (
        "short hex",
        lambda k: _with(_ed(k), ("keyval", "public"), "ab" * 31),
        "keys[0].keyval.public: not 64 lowercase hex",
    ),
    (
        "ed25519 as pem",
        lambda k: _with(_ed(k), ("keyval", "public"), spki_pem(k.ed25519.public_key())),
        "keys[0].keyval.public: not 64 lowercase hex",
    ),
    (
        "garbage pem",
        lambda k: _with(
            _rsa(k),
            ("keyval", "public"),
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ),
        "keys[0].keyval.public: not a valid SPKI PEM",
    ),
    (
        "hex as rsa",
        lambda k: _with(_rsa(k), ("keyval", "public"), "ab" * 32),
        "keys[0].keyval.public: not a valid SPKI PEM",
    ),
    (
        "pkcs1 public",
        lambda k: _with(
            _rsa(k),
            ("keyval", "public"),
            k.rsa.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
            .decode(),
        ),
        "keys[0].keyval.public: not a valid SPKI PEM",
    ),
    (
        "two blocks",
        lambda k: _with(_rsa(k), ("keyval", "public"), spki_pem(k.rsa.public_key()) * 2),
        "keys[0].keyval.public: not a valid SPKI PEM",
    ),
    (
        "ec as rsa",
        lambda k: _with(_rsa(k), ("keyval", "public"), spki_pem(k.p256.public_key())),
        "keys[0].keyval.public: not a key for scheme 'rsassa-pss-sha256'",
    ),
    (
        "short rsa",
        lambda k: _with(_rsa(k), ("keyval", "public"), _short_rsa_pem()),
        "keys[0].keyval.public: RSA key of 1024 bits is too short",
    ),
    (
        "wrong curve",
        lambda k: _dict("ecdsa", "ecdsa-sha2-nistp384", spki_pem(k.p256.public_key())),
        "keys[0].keyval.public: not a key for scheme 'ecdsa-sha2-nistp384'",
    ),
    (
        "k1 curve",
        lambda k: _dict(
            "ecdsa",
            "ecdsa-sha2-nistp256",
            spki_pem(ec.generate_private_key(ec.SECP256K1()).public_key()),
        ),
        "keys[0].keyval.public: not a key for scheme",
    ),
    (
        "hash algos",
        lambda k: _ed(k, keyid_hash_algorithms="sha256"),
        "keys[0].keyid_hash_algorithms: expected an array of strings",
    ),
    ("wrong keyid", lambda k: _ed(k, keyid="ab" * 32), "keys[0].keyid: 'abab"),
    ("int keyid", lambda k: _ed(k, keyid=7), "keys[0].keyid: expected a string, got integer"),
]


@pytest.mark.parametrize(
    ("builder", "expected"), [c[1:] for c in REJECTIONS], ids=[c[0] for c in REJECTIONS]
)
def test_from_keydict_rejections(
    keys: Keys, builder: Callable[[Keys], object], expected: str
) -> None:
    with pytest.raises(MetadataError) as info:
        PublicKey.from_keydict(builder(keys), where="keys[0]")
    assert str(info.value).startswith(expected), str(info.value)


def test_from_keydict_accepts_the_fields_the_reference_writes(keys: Keys) -> None:
    key = PublicKey.from_keydict(_ed(keys), where="k")
    for value in (
        _ed(keys, keyid=key.keyid),
        _ed(keys, keyid=key.legacy_keyid, keyid_hash_algorithms=["sha256", "sha512"]),
        _with(_ed(keys), ("keyval", "private"), ""),
    ):
        assert PublicKey.from_keydict(value, where="k") == key


def test_deprecated_ecdsa_keytype_keeps_its_own_keyid(keys: Keys) -> None:
    pem = spki_pem(keys.p256.public_key())
    legacy = PublicKey.from_keydict(
        _dict("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", pem), where="k"
    )
    modern = PublicKey.from_keydict(_dict("ecdsa", "ecdsa-sha2-nistp256", pem), where="k")
    assert legacy.keyid != modern.keyid
    assert legacy.material == modern.material
    signature = signer_from_private_key(keys.p256).sign(b"x")
    assert legacy.verify(signature, b"x")


def test_direct_construction_is_validated() -> None:
    with pytest.raises(MetadataError, match=r"keyval\.public"):
        PublicKey(keytype="ed25519", scheme="ed25519", public="zz")
    with pytest.raises(TypeError):
        PublicKey(keytype="ed25519", scheme="ed25519", public=b"00" * 32)  # type: ignore[arg-type]


# --- material -----------------------------------------------------------------------------


def _rewrap(pem: str, width: int, newline: str) -> str:
    lines = pem.strip().splitlines()
    body = "".join(lines[1:-1])
    chunks = [body[i : i + width] for i in range(0, len(body), width)]
    return newline.join([lines[0], *chunks, lines[-1]]) + newline


@pytest.mark.parametrize("name", ["rsa", "p521"])
def test_material_ignores_pem_layout(keys: Keys, name: str) -> None:
    pem = spki_pem(getattr(keys, name).public_key())
    scheme = "rsassa-pss-sha256" if name == "rsa" else "ecdsa-sha2-nistp521"
    keytype = "rsa" if name == "rsa" else "ecdsa"
    standard = PublicKey(keytype=keytype, scheme=scheme, public=pem)
    wrapped = PublicKey(keytype=keytype, scheme=scheme, public=_rewrap(pem, 40, "\r\n"))
    assert standard.keyid != wrapped.keyid
    assert standard.material == wrapped.material


def test_material_differs_between_keys(keys: Keys) -> None:
    materials = {
        signer_from_private_key(getattr(keys, name)).public_key.material
        for name in ("ed25519", "rsa", "p256", "p384", "p521")
    }
    materials.add(signer_from_private_key(ed25519.Ed25519PrivateKey.generate()).public_key.material)
    assert len(materials) == 6


# --- sign and verify ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ed25519", "rsa", "p256", "p384", "p521"])
def test_sign_verify_roundtrip_and_refusals(keys: Keys, name: str) -> None:
    signer = signer_from_private_key(getattr(keys, name))
    key = signer.public_key
    data = b'{"_type":"link"}'
    signature = signer.sign(data)
    assert key.verify(signature, data)
    assert not key.verify(signature, data + b" ")
    assert not key.verify(signature[:-1], data)
    assert not key.verify(signature + b"\x00", data)
    assert not key.verify(b"", data)
    assert not key.verify(b"\x30" * len(signature), data)
    other = signer_from_private_key(ed25519.Ed25519PrivateKey.generate()).public_key
    assert not other.verify(signature, data)


def test_private_key_signer_is_a_signer(keys: Keys) -> None:
    signer = signer_from_private_key(keys.ed25519)
    assert isinstance(signer, PrivateKeySigner)
    assert signer.public_key.keytype == "ed25519"


# --- generation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keytype", "password", "scheme"),
    [
        ("ed25519", None, "ed25519"),
        ("ecdsa", "pw", "ecdsa-sha2-nistp256"),
        ("rsa", "pw", "rsassa-pss-sha256"),
    ],
)
def test_generate_private_key_pem(
    tmp_path: Path, keytype: str, password: str | None, scheme: str
) -> None:
    private, public = generate_private_key_pem(keytype, password)
    header = b"BEGIN ENCRYPTED PRIVATE KEY" if password else b"BEGIN PRIVATE KEY"
    assert header in private
    assert public.startswith(b"-----BEGIN PUBLIC KEY-----")
    signer = load_signer(write(tmp_path, "key", private), password)
    assert signer.public_key == public_key_from_pem(public, source="pub")
    assert signer.public_key.scheme == scheme
    if keytype == "rsa":
        loaded = serialization.load_pem_public_key(public)
        assert isinstance(loaded, rsa.RSAPublicKey)
        assert loaded.key_size == 3072


def test_generate_refuses_unknown_type_and_empty_password() -> None:
    with pytest.raises(InputError, match="unsupported key type 'dsa'"):
        generate_private_key_pem("dsa")
    with pytest.raises(InputError, match="empty password"):
        generate_private_key_pem("ed25519", "")
