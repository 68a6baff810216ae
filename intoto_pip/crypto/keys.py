"""Keys: PEM files on disk, in-toto key dicts in metadata, keyids, and signers.

A ``PublicKey`` holds exactly the three fields its keyid covers, as text, so the keyid of a
key read from metadata is computed over what was received. Keys loaded from PEM files are
re-serialized the way securesystemslib 1.x does (``SSlibKey.from_crypto``), so both sides
derive the same keyid from the same file.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from intoto_pip.crypto import signing
from intoto_pip.crypto.canonical import encode_canonical
from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.errors import InputError, KeyLoadError, MetadataError

# securesystemslib before 0.2x put this list into the hashed key dict; old keyids need it.
LEGACY_KEYID_HASH_ALGORITHMS: Final = ("sha256", "sha512")
KEYTYPES: Final = (signing.ED25519, signing.RSA, signing.ECDSA)
GENERATED_RSA_BITS: Final = 3072

_ED25519_HEX = re.compile(r"[0-9a-f]{64}")
_PEM_BEGIN = "-----BEGIN PUBLIC KEY-----"
_PEM_END = "-----END PUBLIC KEY-----"
_KEYDICT_MEMBERS: Final = frozenset(
    {"keytype", "scheme", "keyval", "keyid", "keyid_hash_algorithms"}
)
_KEYVAL_MEMBERS: Final = frozenset({"public", "private"})


class _InvalidKey(MetadataError):
    """A key's fields do not describe a usable key; ``field`` is the member at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"key {field}: {reason}")
        self.field = field
        self.reason = reason


def _check_keytype_and_scheme(keytype: str, scheme: str) -> None:
    # The deprecated ecdsa form names the scheme as keytype; the reference still accepts it.
    legacy_ecdsa = signing.SCHEME_KEYTYPE.get(keytype) == signing.ECDSA and keytype == scheme
    if keytype not in KEYTYPES and not legacy_ecdsa:
        raise _InvalidKey("keytype", f"unsupported keytype {keytype!r} (ed25519, rsa or ecdsa)")
    if scheme not in signing.SCHEME_KEYTYPE:
        raise _InvalidKey("scheme", f"unsupported scheme {scheme!r}")
    if not legacy_ecdsa and signing.SCHEME_KEYTYPE[scheme] != keytype:
        raise _InvalidKey("scheme", f"scheme {scheme!r} does not belong to keytype {keytype!r}")


def _load_spki_pem(public: str) -> PublicKeyTypes:
    text = public.strip()
    single_block = text.count("-----BEGIN") == 1 and text.count("-----END") == 1
    if not (single_block and text.startswith(_PEM_BEGIN) and text.endswith(_PEM_END)):
        raise _InvalidKey("keyval.public", "not a valid SPKI PEM")
    try:
        return serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise _InvalidKey("keyval.public", "not a valid SPKI PEM") from exc


def _check_material(key: PublicKeyTypes, scheme: str) -> None:
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < signing.MIN_RSA_BITS:
        reason = f"RSA key of {key.key_size} bits is too short (at least 2048)"
        raise _InvalidKey("keyval.public", reason)
    if signing.default_scheme(key) != scheme:
        raise _InvalidKey("keyval.public", f"not a key for scheme {scheme!r}")


@functools.lru_cache(maxsize=1024)
def _crypto_public_key(keytype: str, scheme: str, public: str) -> PublicKeyTypes:
    """Parse and check a key's fields; cached because keys are rebuilt for every envelope."""
    _check_keytype_and_scheme(keytype, scheme)
    if scheme == signing.ED25519:
        if not _ED25519_HEX.fullmatch(public):
            raise _InvalidKey("keyval.public", "not 64 lowercase hex digits (a raw ed25519 key)")
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    key = _load_spki_pem(public)
    _check_material(key, scheme)
    return key


def _keyid_of(value: Mapping[str, Any]) -> str:
    return hashlib.sha256(encode_canonical(value)).hexdigest()


@dataclass(frozen=True, kw_only=True)
class PublicKey:
    """A public key as in-toto metadata names it: keytype, scheme and public value."""

    keytype: str
    scheme: str
    public: str

    def __post_init__(self) -> None:
        for name in ("keytype", "scheme", "public"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"PublicKey.{name} must be a str")
        _crypto_public_key(self.keytype, self.scheme, self.public)

    @cached_property
    def keyid(self) -> str:
        """sha256 of the canonical key dict, as securesystemslib 1.x computes it."""
        return _keyid_of(self._hashed_dict())

    @cached_property
    def legacy_keyid(self) -> str:
        """The keyid older securesystemslib computed, with ``keyid_hash_algorithms``."""
        value = self._hashed_dict()
        value["keyid_hash_algorithms"] = list(LEGACY_KEYID_HASH_ALGORITHMS)
        return _keyid_of(value)

    @cached_property
    def material(self) -> bytes:
        """The key material alone, independent of PEM layout, scheme and keyid."""
        return signing.material_of(self._crypto_key())

    @property
    def materials(self) -> frozenset[bytes]:
        """Every key material that signs as this key (one; a GPG key adds its subkeys')."""
        return frozenset({self.material})

    def to_keydict(self) -> dict[str, Any]:
        """The key dict in-toto 3.x writes into a layout's ``keys`` (inner keyid included)."""
        value = self._hashed_dict()
        value["keyid"] = self.keyid
        return value

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is valid over ``data``; never raises for a bad signature."""
        return signing.verify_raw(self._crypto_key(), self.scheme, signature, data)

    def accepts(self, keyid: str) -> bool:
        """Whether a signature entry naming ``keyid`` is meant for this key."""
        return keyid in (self.keyid, self.legacy_keyid)

    def verify_entry(
        self,
        keyid: str,
        signature: bytes,
        other_headers: bytes | None,
        data: bytes,
        now: datetime | None = None,
    ) -> bool:
        """Whether a signature entry is valid by this key (a GPG entry never is)."""
        del now  # these keys do not expire
        if other_headers is not None or not self.accepts(keyid):
            return False
        return self.verify(signature, data)

    @classmethod
    def from_keydict(cls, value: object, *, where: str) -> PublicKey:
        """Parse an in-toto key dict strictly; ``where`` locates it in error messages."""
        members = _mapping(value, where)
        _no_unknown(members, _KEYDICT_MEMBERS, where)
        keyval = _mapping(members.get("keyval"), f"{where}.keyval")
        _no_unknown(keyval, _KEYVAL_MEMBERS, f"{where}.keyval")
        if keyval.get("private", "") != "":
            raise MetadataError(f"{where}.keyval.private: a private key must not be in metadata")
        _check_hash_algorithms(members, where)
        try:
            key = cls(
                keytype=_string(members, "keytype", where),
                scheme=_string(members, "scheme", where),
                public=_string(keyval, "public", f"{where}.keyval"),
            )
        except _InvalidKey as exc:
            raise MetadataError(f"{where}.{exc.field}: {exc.reason}") from exc
        _check_inner_keyid(members, key, where)
        return key

    def _hashed_dict(self) -> dict[str, Any]:
        return {"keytype": self.keytype, "scheme": self.scheme, "keyval": {"public": self.public}}

    def _crypto_key(self) -> PublicKeyTypes:
        return _crypto_public_key(self.keytype, self.scheme, self.public)


# Any key that may sign in-toto metadata: a PEM-born key or a GPG key.
VerificationKey = PublicKey | GpgKey


def count_distinct(keys: Iterable[VerificationKey]) -> int:
    """How many distinct signers ``keys`` are: keys sharing any key material are one.

    So a key listed under two keyids, a PEM key that is also a GPG (sub)key, or a GPG
    subkey listed on its own beside its primary, counts once toward a threshold.
    """
    groups: list[set[bytes]] = []
    for key in keys:
        merged = set(key.materials)
        for group in [group for group in groups if group & merged]:
            merged |= group
            groups.remove(group)
        groups.append(merged)
    return len(groups)


def key_from_keydict(value: object, *, where: str) -> VerificationKey:
    """Parse a key dict of either kind: GPG dicts have ``type``, the others ``keytype``."""
    if isinstance(value, dict) and "keytype" not in value and "method" in value:
        return GpgKey.from_keydict(value, where=where)
    return PublicKey.from_keydict(value, where=where)


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataError(f"{where}: expected an object, got {_json_type(value)}")
    return value


def _no_unknown(members: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(members) - known)
    if unknown:
        raise MetadataError(f"{where}: unknown member {unknown[0]!r}")


def _string(members: dict[str, Any], name: str, where: str) -> str:
    value = members.get(name)
    if not isinstance(value, str):
        raise MetadataError(f"{where}.{name}: expected a string, got {_json_type(value)}")
    return value


def _check_hash_algorithms(members: dict[str, Any], where: str) -> None:
    if "keyid_hash_algorithms" not in members:
        return
    value = members["keyid_hash_algorithms"]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataError(f"{where}.keyid_hash_algorithms: expected an array of strings")


def _check_inner_keyid(members: dict[str, Any], key: PublicKey, where: str) -> None:
    if "keyid" not in members:
        return
    keyid = _string(members, "keyid", where)
    if keyid not in (key.keyid, key.legacy_keyid):
        raise MetadataError(f"{where}.keyid: {keyid!r} is not this key's keyid ({key.keyid})")


def _public_key_of(key: PublicKeyTypes, source: str) -> PublicKey:
    """Describe a `cryptography` public key as the reference does (``SSlibKey.from_crypto``)."""
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < signing.MIN_RSA_BITS:
        bits = key.key_size
        raise KeyLoadError(f"key {source}: RSA key of {bits} bits is too short (at least 2048)")
    scheme = signing.default_scheme(key)
    if scheme is None:
        kind = f"curve {key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey) else "type"
        raise KeyLoadError(
            f"key {source}: unsupported key {kind}; use ed25519, rsa or ecdsa (P-256/384/521)"
        )
    if isinstance(key, ed25519.Ed25519PublicKey):
        public = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    else:
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        public = key.public_bytes(serialization.Encoding.PEM, spki).decode("ascii")
    return PublicKey(keytype=signing.SCHEME_KEYTYPE[scheme], scheme=scheme, public=public)


def public_key_from_pem(data: bytes, *, source: str) -> PublicKey:
    """Parse a PEM public key (SubjectPublicKeyInfo); ``source`` names it in errors."""
    if b"PRIVATE KEY-----" in data:
        raise KeyLoadError(f"key {source} is a private key: give the public key (e.g. KEY.pub)")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError(f"key {source}: not a PEM public key (SubjectPublicKeyInfo)") from exc
    return _public_key_of(key, source)


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read key {path}: {exc.strerror or exc}") from exc


def load_public_key(path: Path) -> PublicKey:
    """Read a PEM public key file."""
    return public_key_from_pem(_read_key_file(path), source=str(path))


class Signer(Protocol):
    """Anything that signs bytes with one key and tells which public key checks it."""

    @property
    def public_key(self) -> VerificationKey: ...

    def sign(self, data: bytes) -> bytes:
        """The raw signature; for a GPG key, the detached OpenPGP signature packet."""
        ...


@dataclass(frozen=True, kw_only=True)
class PrivateKeySigner:
    """A ``Signer`` over an in-memory `cryptography` private key."""

    private_key: PrivateKeyTypes
    public_key: PublicKey

    def sign(self, data: bytes) -> bytes:
        return signing.sign_raw(self.private_key, self.public_key.scheme, data)


def signer_from_private_key(key: PrivateKeyTypes, *, source: str = "in memory") -> PrivateKeySigner:
    """Wrap a `cryptography` private key; KeyLoadError if its type is not supported."""
    return PrivateKeySigner(private_key=key, public_key=_public_key_of(key.public_key(), source))


def _looks_encrypted(data: bytes) -> bool:
    return b"BEGIN ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data


def _load_private_key(data: bytes, password: str | None, source: str) -> PrivateKeyTypes:
    secret = None if password is None else password.encode("utf-8")
    try:
        return serialization.load_pem_private_key(data, secret)
    except TypeError as exc:
        if secret is None:
            msg = f"key {source} is encrypted: give its password with -P/--password"
        else:
            msg = f"key {source} is not encrypted, but a password was given"
        raise KeyLoadError(msg) from exc
    except ValueError as exc:
        if secret is not None and _looks_encrypted(data):
            raise KeyLoadError(f"key {source}: wrong password") from exc
        msg = f"key {source}: not a PEM private key (PKCS#8, RSA or EC)"
        raise KeyLoadError(msg) from exc
    except UnsupportedAlgorithm as exc:
        raise KeyLoadError(f"key {source}: unsupported key type ({exc})") from exc


def load_signer(path: Path, password: str | None = None) -> PrivateKeySigner:
    """Load a PEM private key file (PKCS#8, traditional RSA or SEC1 EC) as a ``Signer``."""
    data = _read_key_file(path)
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise KeyLoadError(f"key {path} is a public key: signing needs the private key")
    return signer_from_private_key(_load_private_key(data, password, str(path)), source=str(path))


def _generate(keytype: str) -> PrivateKeyTypes:
    if keytype == signing.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if keytype == signing.RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_RSA_BITS)
    if keytype == signing.ECDSA:
        return ec.generate_private_key(ec.SECP256R1())
    raise InputError(f"unsupported key type {keytype!r}: use ed25519, rsa or ecdsa")


def generate_private_key_pem(keytype: str, password: str | None = None) -> tuple[bytes, bytes]:
    """Generate a key pair: (PKCS#8 PEM private key, SPKI PEM public key)."""
    if password == "":
        raise InputError("an empty password cannot protect a key: give none or a real one")
    key = _generate(keytype)
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if password is not None:
        encryption = serialization.BestAvailableEncryption(password.encode("utf-8"))
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem
