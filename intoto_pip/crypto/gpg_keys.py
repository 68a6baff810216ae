"""GPG keys as in-toto metadata holds them, and GPG signatures checked in Python.

The key dict is the one securesystemslib's gpg code writes: ``keyid`` (the v4 fingerprint),
``type`` (rsa, dsa, eddsa), ``method``, ``hashes``, ``keyval.public`` (the OpenPGP key
parameters as hex), ``creation_time``, optional ``validity_period`` and ``subkeys``. The
fingerprint is recomputed from the parameters and the creation time, so a keyid always names
the key material it sits beside.

A signature entry is ``{keyid, other_headers, signature}``: ``other_headers`` is the signature
packet's start through its hashed subpackets, and the signed digest is SHA-256 over the data,
``other_headers`` and the v4 trailer (RFC 4880 5.2.4), as the reference computes it. A
signature by a subkey counts for its primary key; an expired key or subkey is refused with
its date (``GpgExpiredError``), the reference's ``KeyExpirationError``.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning

from intoto_pip.crypto import gpg_packets as packets
from intoto_pip.crypto import signing
from intoto_pip.errors import MetadataError, SignatureError

METHODS: Final[dict[str, str]] = {
    "rsa": "pgp+rsa-pkcsv1.5",
    "dsa": "pgp+dsa-fips-180-2",
    "eddsa": "pgp+eddsa-ed25519",
}
HASHES: Final = ("pgp+SHA2",)
ALGORITHMS: Final[dict[str, int]] = {name: number for number, name in packets.KEY_TYPES.items()}
PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "rsa": ("n", "e"),
    "dsa": ("p", "q", "g", "y"),
    "eddsa": ("q",),
}
MIN_BITS: Final = 2048  # for RSA moduli and DSA primes, as for PEM RSA keys

_FINGERPRINT = re.compile(r"[0-9a-f]{40}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_REQUIRED: Final = frozenset({"keyid", "type", "method", "hashes", "keyval", "creation_time"})
_PRIMARY_OPTIONAL: Final = frozenset({"validity_period", "subkeys"})
_SUBKEY_OPTIONAL: Final = frozenset({"validity_period"})
# Subpackets a document signature may carry critically and still be understood.
_KNOWN_CRITICAL: Final = frozenset(
    {
        packets.SUB_CREATION_TIME,
        packets.SUB_SIGNATURE_EXPIRATION,
        packets.SUB_ISSUER,
        packets.SUB_ISSUER_FINGERPRINT,
    }
)
_SIGNATURE_TYPE_BINARY: Final = 0x00

# `cryptography` warns on every use of its DSA module; GPG DSA keys are the reference's
# format and still in use, so take the three names once, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    _DSA_PUBLIC_KEY: Final = dsa.DSAPublicKey
    _DSA_PARAMETERS: Final = dsa.DSAParameterNumbers
    _DSA_NUMBERS: Final = dsa.DSAPublicNumbers


class GpgExpiredError(SignatureError):
    """A GPG key, subkey or signature had expired at the time of verification."""

    def __init__(self, what: str, keyid: str, expired: datetime) -> None:
        when = expired.strftime("%Y-%m-%dT%H:%M:%SZ")
        super().__init__(f"GPG {what} {keyid} expired on {when}")
        self.what = what
        self.keyid = keyid
        self.expired = expired


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _mpi(value: bytes) -> bytes:
    bits = (len(value) - 1) * 8 + value[0].bit_length()
    return bits.to_bytes(2, "big") + value


def _key_body(key_type: str, created: int, public: Mapping[str, str]) -> bytes:
    """The v4 key packet body the parameters came from (RFC 4880 5.5.2)."""
    head = b"\x04" + created.to_bytes(4, "big") + bytes([ALGORITHMS[key_type]])
    if key_type == "eddsa":
        oid = packets.ED25519_OID
        point = bytes([packets.ED25519_PREFIX]) + bytes.fromhex(public["q"])
        return head + bytes([len(oid)]) + oid + _mpi(point)
    return head + b"".join(_mpi(bytes.fromhex(public[name])) for name in PARAMS[key_type])


def _build_crypto_key(key_type: str, public: Mapping[str, str]) -> PublicKeyTypes:
    value = {name: int(text, 16) for name, text in public.items()}
    if key_type == "rsa":
        if value["n"].bit_length() < MIN_BITS:
            raise ValueError(f"RSA key of {value['n'].bit_length()} bits is too short")
        return rsa.RSAPublicNumbers(value["e"], value["n"]).public_key()
    if key_type == "dsa":
        if value["p"].bit_length() < MIN_BITS:
            raise ValueError(f"DSA key of {value['p'].bit_length()} bits is too short")
        numbers = _DSA_PARAMETERS(value["p"], value["q"], value["g"])
        return _DSA_NUMBERS(value["y"], numbers).public_key()
    return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public["q"]))


@functools.lru_cache(maxsize=1024)
def _crypto_key(key_type: str, public: tuple[tuple[str, str], ...]) -> PublicKeyTypes:
    """Build (and cache: keys are rebuilt for every envelope) the `cryptography` key."""
    return _build_crypto_key(key_type, dict(public))


def _check_params(key_type: str, public: Mapping[str, str]) -> str | None:
    """Why the parameters are unusable, or None."""
    if set(public) != set(PARAMS[key_type]):
        return f"expected members {sorted(PARAMS[key_type])} for a {key_type} key"
    for name, text in public.items():
        if not isinstance(text, str) or not _HEX.fullmatch(text):
            return f"{name}: not lowercase hex"
        if text.startswith("00"):
            return f"{name}: has leading zero bytes (not as OpenPGP writes it)"
    if key_type == "eddsa" and len(public["q"]) != 64:
        return "q: not a 32-byte ed25519 key"
    try:
        _crypto_key(key_type, tuple(sorted(public.items())))
    except (ValueError, TypeError) as exc:
        return f"not a usable {key_type} key ({exc})"
    return None


@dataclass(frozen=True, kw_only=True)
class GpgKey:
    """A GPG primary key or subkey; ``keyid`` is its v4 fingerprint, lowercase."""

    keyid: str
    type: str
    public: tuple[tuple[str, str], ...]  # sorted (name, hex) pairs
    creation_time: int
    validity_period: int | None = None
    subkeys: tuple[GpgKey, ...] = ()

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ValueError(problem)

    def _problem(self) -> str | None:
        if self.type not in METHODS:
            return f"type: unsupported GPG key type {self.type!r} (rsa, dsa or eddsa)"
        problem = _check_params(self.type, dict(self.public))
        if problem is not None:
            return f"keyval.public.{problem}"
        if not 0 <= self.creation_time < 1 << 32:
            return "creation_time: out of range"
        if self.validity_period is not None and not 0 <= self.validity_period < 1 << 32:
            return "validity_period: out of range"
        if packets.fingerprint_of(self.packet_body) != self.keyid:
            return "keyid: not the fingerprint of this key"
        return None

    @property
    def method(self) -> str:
        return METHODS[self.type]

    @property
    def legacy_keyid(self) -> str:
        """GPG keys have one keyid (uniform with ``PublicKey``)."""
        return self.keyid

    @property
    def packet_body(self) -> bytes:
        return _key_body(self.type, self.creation_time, dict(self.public))

    @cached_property
    def material(self) -> bytes:
        """The primary key's material, comparable with that of PEM keys."""
        return signing.material_of(self.crypto_key())

    @cached_property
    def materials(self) -> frozenset[bytes]:
        """The primary's and every subkey's material: a signature by any is this key's."""
        return frozenset({self.material, *(sub.material for sub in self.subkeys)})

    @property
    def expires(self) -> datetime | None:
        """When the key expires; None if never (no or a zero validity period)."""
        if not self.validity_period:
            return None
        return datetime.fromtimestamp(self.creation_time + self.validity_period, UTC)

    def crypto_key(self) -> PublicKeyTypes:
        return _crypto_key(self.type, self.public)

    def accepts(self, keyid: str) -> bool:
        """Whether a signature entry with ``keyid`` is by this key or one of its subkeys."""
        return keyid == self.keyid or any(sub.keyid == keyid for sub in self.subkeys)

    def to_keydict(self) -> dict[str, Any]:
        """The key dict exactly as securesystemslib writes it."""
        value: dict[str, Any] = {
            "keyid": self.keyid,
            "type": self.type,
            "method": self.method,
            "hashes": list(HASHES),
            "keyval": {"private": "", "public": dict(self.public)},
            "creation_time": self.creation_time,
        }
        if self.validity_period is not None:
            value["validity_period"] = self.validity_period
        if self.subkeys:
            value["subkeys"] = {sub.keyid: sub.to_keydict() for sub in self.subkeys}
        return value

    @classmethod
    def from_keydict(cls, value: object, *, where: str) -> GpgKey:
        """Parse a GPG key dict strictly; ``where`` locates it in error messages."""
        return _parse_keydict(value, where, primary=True)

    def verify_entry(
        self,
        keyid: str,
        signature: bytes,
        other_headers: bytes | None,
        data: bytes,
        now: datetime | None = None,
    ) -> bool:
        """Whether the GPG signature entry is valid over ``data`` by this key or a subkey.

        False for anything malformed or not ours; GpgExpiredError if the signature is
        valid but the key, the signing subkey or the signature has expired at ``now``.
        """
        signer = self if keyid == self.keyid else _subkey(self, keyid)
        if signer is None or other_headers is None:
            return False
        try:
            header = packets.parse_hashed_part(other_headers, where="other_headers")
        except MetadataError:
            return False
        if not _acceptable_header(signer, keyid, header):
            return False
        if not _verify_digest(signer, signature, _digest(data, other_headers)):
            return False
        _check_expiry(self, signer, header[3], now or datetime.now(UTC))
        return True


def _subkey(key: GpgKey, keyid: str) -> GpgKey | None:
    return next((sub for sub in key.subkeys if sub.keyid == keyid), None)


def _acceptable_header(
    signer: GpgKey, keyid: str, header: tuple[int, int, int, tuple[packets.Subpacket, ...]]
) -> bool:
    sig_type, algorithm, hash_algorithm, hashed = header
    if sig_type != _SIGNATURE_TYPE_BINARY or algorithm != ALGORITHMS[signer.type]:
        return False
    # The reference always hashes with SHA-256; a header naming another hash is not its.
    if hash_algorithm != packets.HASH_SHA256:
        return False
    if any(item.critical and item.kind not in _KNOWN_CRITICAL for item in hashed):
        return False
    kinds = {item.kind: item.data for item in hashed}
    fingerprint = kinds.get(packets.SUB_ISSUER_FINGERPRINT)
    if fingerprint is not None and fingerprint != b"\x04" + bytes.fromhex(keyid):
        return False
    return len(kinds.get(packets.SUB_CREATION_TIME, b"")) == 4


def _digest(data: bytes, hashed_part: bytes) -> bytes:
    """SHA-256 over the data, the hashed part and the v4 trailer (RFC 4880 5.2.4)."""
    hasher = hashes.Hash(hashes.SHA256())
    hasher.update(data)
    hasher.update(hashed_part)
    hasher.update(b"\x04\xff" + len(hashed_part).to_bytes(4, "big"))
    return hasher.finalize()


def verify_digest(
    key: PublicKeyTypes, signature: bytes, digest: bytes, algorithm: hashes.HashAlgorithm
) -> bool:
    """Check an OpenPGP signature over a precomputed digest; False if it does not hold."""
    try:
        if isinstance(key, rsa.RSAPublicKey):
            size = (key.key_size + 7) // 8
            if len(signature) > size:
                return False
            # OpenPGP strips leading zeros from the MPI; the reference pads them back.
            padded = signature.rjust(size, b"\x00")
            key.verify(padded, digest, padding.PKCS1v15(), utils.Prehashed(algorithm))
        elif isinstance(key, _DSA_PUBLIC_KEY):
            key.verify(signature, digest, utils.Prehashed(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, digest)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_digest(signer: GpgKey, signature: bytes, digest: bytes) -> bool:
    return verify_digest(signer.crypto_key(), signature, digest, hashes.SHA256())


def _check_expiry(
    primary: GpgKey, signer: GpgKey, hashed: tuple[packets.Subpacket, ...], now: datetime
) -> None:
    for what, key in (("key", primary), ("subkey", signer)):
        if key.expires is not None and key.expires <= now:
            raise GpgExpiredError(what, key.keyid, key.expires)
    kinds = {item.kind: item.data for item in hashed}
    lifetime = kinds.get(packets.SUB_SIGNATURE_EXPIRATION)
    created = kinds.get(packets.SUB_CREATION_TIME)
    if lifetime is not None and created is not None and len(lifetime) == 4:
        seconds = int.from_bytes(lifetime, "big")
        if seconds:
            expired = datetime.fromtimestamp(int.from_bytes(created, "big") + seconds, UTC)
            if expired <= now:
                raise GpgExpiredError("signature by", signer.keyid, expired)


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataError(f"{where}: expected an object, got {_json_type(value)}")
    return value


def _check_members(members: dict[str, Any], optional: frozenset[str], where: str) -> None:
    unknown = sorted(set(members) - _REQUIRED - optional)
    if unknown:
        raise MetadataError(f"{where}: unknown member {unknown[0]!r}")
    missing = sorted(_REQUIRED - set(members))
    if missing:
        raise MetadataError(f"{where}: missing member {missing[0]!r}")


def _integer(members: dict[str, Any], name: str, where: str) -> int:
    value = members[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MetadataError(f"{where}.{name}: expected a non-negative integer")
    return value


def _public(members: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    keyval = _mapping(members["keyval"], f"{where}.keyval")
    unknown = sorted(set(keyval) - {"public", "private"})
    if unknown:
        raise MetadataError(f"{where}.keyval: unknown member {unknown[0]!r}")
    if keyval.get("private", "") != "":
        raise MetadataError(f"{where}.keyval.private: a private key must not be in metadata")
    public = _mapping(keyval.get("public"), f"{where}.keyval.public")
    if not all(isinstance(item, str) for item in public.values()):
        raise MetadataError(f"{where}.keyval.public: expected hex strings")
    return tuple(sorted(public.items()))


def _check_labels(members: dict[str, Any], where: str) -> str:
    key_type = members["type"]
    if key_type not in METHODS:
        raise MetadataError(f"{where}.type: unsupported GPG key type {key_type!r}")
    if members["method"] != METHODS[key_type]:
        raise MetadataError(f"{where}.method: expected {METHODS[key_type]!r} for {key_type}")
    if members["hashes"] != list(HASHES):
        raise MetadataError(f"{where}.hashes: expected {list(HASHES)}")
    keyid = members["keyid"]
    if not isinstance(keyid, str) or not _FINGERPRINT.fullmatch(keyid):
        raise MetadataError(f"{where}.keyid: expected a 40-digit lowercase hex fingerprint")
    return str(key_type)


def _parse_subkeys(members: dict[str, Any], where: str) -> tuple[GpgKey, ...]:
    found: list[GpgKey] = []
    for keyid, value in _mapping(members.get("subkeys", {}), f"{where}.subkeys").items():
        at = f"{where}.subkeys[{keyid[:16]!r}]"
        subkey = _parse_keydict(value, at, primary=False)
        if subkey.keyid != keyid:
            raise MetadataError(f"{at}: keyid does not match the key it names")
        if subkey.keyid == members["keyid"]:
            raise MetadataError(f"{at}: a subkey cannot be the primary key")
        found.append(subkey)
    return tuple(found)


def _parse_keydict(value: object, where: str, *, primary: bool) -> GpgKey:
    members = _mapping(value, where)
    _check_members(members, _PRIMARY_OPTIONAL if primary else _SUBKEY_OPTIONAL, where)
    key_type = _check_labels(members, where)
    validity = members.get("validity_period")
    try:
        return GpgKey(
            keyid=members["keyid"],
            type=key_type,
            public=_public(members, where),
            creation_time=_integer(members, "creation_time", where),
            validity_period=None
            if validity is None
            else _integer(members, "validity_period", where),
            subkeys=_parse_subkeys(members, where) if primary else (),
        )
    except ValueError as exc:
        raise MetadataError(f"{where}.{exc}") from exc
