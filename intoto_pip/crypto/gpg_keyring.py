"""What the gpg binary hands us, read in Python: an exported key, a detached signature.

``key_from_export`` turns ``gpg --export KEYID`` output into a ``GpgKey`` as the reference's
``export_pubkey`` does: the primary key, its validity period from its newest valid User ID
self-certification (a primary User ID preferred), and the subkeys bound to it by a valid
binding signature, each with its own validity period. Stricter than the reference: a revoked
primary key is refused, and a revoked subkey or one whose binding says it cannot sign is left
out. ``signature_entry`` splits a detached signature into the entry metadata holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives import hashes

from intoto_pip.crypto import gpg_packets as packets
from intoto_pip.crypto.gpg_keys import ALGORITHMS, GpgKey, verify_digest
from intoto_pip.errors import MetadataError

_HASHES: Final[dict[int, type[hashes.HashAlgorithm]]] = {
    packets.HASH_SHA1: hashes.SHA1,
    packets.HASH_SHA256: hashes.SHA256,
    packets.HASH_SHA512: hashes.SHA512,
}
_CERTIFICATIONS: Final = frozenset({0x10, 0x11, 0x12, 0x13})
_SUBKEY_BINDING: Final = 0x18
_KEY_REVOCATION: Final = 0x20
_SUBKEY_REVOCATION: Final = 0x28
_CAN_SIGN: Final = 0x02


@dataclass
class _Component:
    """A User ID or subkey packet and the signatures that follow it."""

    packet: packets.Packet
    signatures: list[packets.SignaturePacket] = field(default_factory=list)


@dataclass
class _Bundle:
    primary: packets.KeyPacket
    direct: list[packets.SignaturePacket] = field(default_factory=list)
    user_ids: list[_Component] = field(default_factory=list)
    subkeys: list[_Component] = field(default_factory=list)
    last: _Component | None = None


@dataclass(frozen=True, kw_only=True)
class SignatureEntry:
    """A GPG signature as metadata stores it (``keyid``, ``other_headers``, ``signature``)."""

    keyid: str
    other_headers: bytes
    signature: bytes


def _bundle(data: bytes, where: str) -> _Bundle:
    found = packets.read_packets(data, where=where)
    if found[0].tag != packets.TAG_PUBLIC_KEY:
        raise MetadataError(f"{where}: the first packet is tag {found[0].tag}, not a public key")
    bundle = _Bundle(primary=packets.parse_key(found[0], where=where))
    for packet in found[1:]:
        _add(bundle, packet, where)
    return bundle


def _add(bundle: _Bundle, packet: packets.Packet, where: str) -> None:
    if packet.tag == packets.TAG_PUBLIC_KEY:
        raise MetadataError(f"{where} at byte {packet.offset}: a second primary key")
    if packet.tag in (packets.TAG_USER_ID, packets.TAG_USER_ATTRIBUTE, packets.TAG_PUBLIC_SUBKEY):
        bundle.last = _Component(packet)
        if packet.tag == packets.TAG_USER_ID:
            bundle.user_ids.append(bundle.last)
        elif packet.tag == packets.TAG_PUBLIC_SUBKEY:
            bundle.subkeys.append(bundle.last)
    elif packet.tag == packets.TAG_SIGNATURE:
        signature = packets.parse_signature(packet, where=where)
        (bundle.direct if bundle.last is None else bundle.last.signatures).append(signature)
    # Other packets (trust, markers) carry nothing the key dict needs.


def _key_prefix(body: bytes) -> bytes:
    return b"\x99" + len(body).to_bytes(2, "big") + body


def _self_signed(
    primary: packets.KeyPacket, signature: packets.SignaturePacket, content: bytes
) -> bool:
    """Whether ``signature`` is by the primary key over ``content`` (RFC 4880 5.2.4)."""
    fingerprint = signature.issuer_fingerprint
    issuer_ok = fingerprint == primary.fingerprint or (
        fingerprint is None and signature.issuer == primary.fingerprint[-16:]
    )
    algorithm = _HASHES.get(signature.hash_algorithm)
    if not issuer_ok or algorithm is None or signature.algorithm != primary.algorithm:
        return False
    hasher = hashes.Hash(algorithm())
    trailer = b"\x04\xff" + len(signature.hashed_part).to_bytes(4, "big")
    hasher.update(content + signature.hashed_part + trailer)
    key = _as_key(primary, None).crypto_key()
    return verify_digest(key, signature.value, hasher.finalize(), algorithm())


def _as_key(
    packet: packets.KeyPacket, validity: int | None, subkeys: tuple[GpgKey, ...] = ()
) -> GpgKey:
    return GpgKey(
        keyid=packet.fingerprint,
        type=packets.KEY_TYPES[packet.algorithm],
        public=tuple(sorted(packet.params.items())),
        creation_time=packet.created,
        validity_period=validity,
        subkeys=subkeys,
    )


def _expiration(signature: packets.SignaturePacket) -> int | None:
    data = signature.subpacket(packets.SUB_KEY_EXPIRATION)
    return int.from_bytes(data, "big") if data is not None and len(data) == 4 else None


def _newest(signatures: Sequence[packets.SignaturePacket]) -> packets.SignaturePacket | None:
    return max(signatures, key=lambda sig: sig.created or 0, default=None)


def _primary_validity(bundle: _Bundle) -> int | None:
    prefix = _key_prefix(bundle.primary.body)
    valid: list[tuple[bool, packets.SignaturePacket]] = []
    for user_id in bundle.user_ids:
        content = (
            prefix + b"\xb4" + len(user_id.packet.body).to_bytes(4, "big") + user_id.packet.body
        )
        for signature in user_id.signatures:
            if signature.sig_type in _CERTIFICATIONS and _self_signed(
                bundle.primary, signature, content
            ):
                flag = signature.subpacket(packets.SUB_PRIMARY_USER_ID)
                valid.append((bool(flag and flag[0]), signature))
    if not valid:
        return None
    best = max(valid, key=lambda item: (item[0], item[1].created or 0))
    return _expiration(best[1])


def _subkey(bundle: _Bundle, component: _Component) -> GpgKey | None:
    try:
        subkey = packets.parse_key(component.packet, where="subkey")
        content = _key_prefix(bundle.primary.body) + _key_prefix(subkey.body)
    except MetadataError:
        return None  # an algorithm we do not sign with (e.g. an encryption subkey)
    signed = [sig for sig in component.signatures if _self_signed(bundle.primary, sig, content)]
    if any(sig.sig_type == _SUBKEY_REVOCATION for sig in signed):
        return None
    binding = _newest([sig for sig in signed if sig.sig_type == _SUBKEY_BINDING])
    if binding is None:
        return None
    flags = binding.subpacket(packets.SUB_KEY_FLAGS)
    if flags is not None and not (flags[:1] and flags[0] & _CAN_SIGN):
        return None
    try:
        return _as_key(subkey, _expiration(binding))
    except ValueError:
        return None  # too short or otherwise unusable: it cannot sign for us


def key_from_export(data: bytes, keyid: str, *, where: str) -> GpgKey:
    """The key whose fingerprint (or a subkey's) ends with ``keyid``, from export data."""
    bundle = _bundle(data, where)
    prefix = _key_prefix(bundle.primary.body)
    if any(
        sig.sig_type == _KEY_REVOCATION and _self_signed(bundle.primary, sig, prefix)
        for sig in bundle.direct
    ):
        raise MetadataError(f"{where}: key {bundle.primary.fingerprint} is revoked")
    subkeys = tuple(key for key in (_subkey(bundle, item) for item in bundle.subkeys) if key)
    try:
        key = _as_key(bundle.primary, _primary_validity(bundle), subkeys)
    except ValueError as exc:
        raise MetadataError(f"{where}: key {bundle.primary.fingerprint}: {exc}") from exc
    wanted = keyid.lower().removeprefix("0x")
    if not any(item.keyid.endswith(wanted) for item in (key, *subkeys)):
        raise MetadataError(f"{where}: no key or signing subkey {keyid} in the exported data")
    return key


def signature_entry(data: bytes, *, where: str) -> SignatureEntry:
    """Split a detached binary signature made with SHA-256 into its metadata entry."""
    packet = packets.read_one_packet(data, packets.TAG_SIGNATURE, where=where)
    signature = packets.parse_signature(packet, where=where)
    if signature.sig_type != 0x00 or signature.hash_algorithm != packets.HASH_SHA256:
        raise MetadataError(f"{where}: not a binary SHA-256 signature")
    keyid = signature.issuer_fingerprint
    if keyid is None or signature.created is None:
        raise MetadataError(f"{where}: no issuer fingerprint or creation time (gpg >= 2.1 needed)")
    if signature.algorithm not in ALGORITHMS.values():
        raise MetadataError(f"{where}: unsupported signature algorithm {signature.algorithm}")
    return SignatureEntry(
        keyid=keyid, other_headers=signature.hashed_part, signature=signature.value
    )
