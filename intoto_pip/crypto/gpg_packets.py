"""OpenPGP (RFC 4880) packets: the few that GPG keys and signatures are made of.

This reads untrusted bytes, so it is strict: every length is checked against what is left,
partial and indeterminate lengths are refused, only version 4 keys and signatures are read,
and there is no recursion (a packet stream is flat; compressed or nested data is not read).
Every malformed input is a ``MetadataError`` that names where it is, as ``where`` plus a
byte offset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from intoto_pip.errors import MetadataError

TAG_SIGNATURE: Final = 2
TAG_PUBLIC_KEY: Final = 6
TAG_USER_ID: Final = 13
TAG_PUBLIC_SUBKEY: Final = 14
TAG_USER_ATTRIBUTE: Final = 17

# Public-key algorithms (RFC 4880 9.1, RFC 9580): the three the reference supports.
ALGORITHM_RSA: Final = 1
ALGORITHM_DSA: Final = 17
ALGORITHM_EDDSA: Final = 22
KEY_TYPES: Final[dict[int, str]] = {
    ALGORITHM_RSA: "rsa",
    ALGORITHM_DSA: "dsa",
    ALGORITHM_EDDSA: "eddsa",
}

HASH_SHA1: Final = 2
HASH_SHA256: Final = 8
HASH_SHA512: Final = 10

# Signature subpackets (RFC 4880 5.2.3.1).
SUB_CREATION_TIME: Final = 2
SUB_SIGNATURE_EXPIRATION: Final = 3
SUB_KEY_EXPIRATION: Final = 9
SUB_ISSUER: Final = 16
SUB_PRIMARY_USER_ID: Final = 25
SUB_KEY_FLAGS: Final = 27
SUB_ISSUER_FINGERPRINT: Final = 33

# The ed25519 curve OID as OpenPGP writes it (RFC 4880bis 9.2), and the native point prefix.
ED25519_OID: Final = bytes.fromhex("2b06010401da470f01")
ED25519_PREFIX: Final = 0x40

# A keyring export of one key with many signatures stays far below these.
MAX_PACKETS: Final = 4096
MAX_INPUT_BYTES: Final = 1 << 24
MAX_MPI_BITS: Final = 16384


@dataclass(frozen=True, kw_only=True)
class Packet:
    """One packet: its tag, the bytes of its whole packet and of its body, and its offset."""

    tag: int
    raw: bytes
    body: bytes
    offset: int


@dataclass(frozen=True, kw_only=True)
class Subpacket:
    kind: int
    critical: bool
    data: bytes


@dataclass(frozen=True, kw_only=True)
class KeyPacket:
    """A version 4 public key or subkey: algorithm, parameters (hex) and fingerprint."""

    created: int
    algorithm: int
    params: dict[str, str]
    fingerprint: str
    body: bytes


@dataclass(frozen=True, kw_only=True)
class SignaturePacket:
    """A version 4 signature, split the way the reference stores it.

    ``hashed_part`` is the body up to the end of the hashed subpackets (the reference's
    ``other_headers``); ``value`` is the signature as ``cryptography`` takes it (RSA: the
    integer's bytes; DSA: DER; EdDSA: r || s).
    """

    sig_type: int
    algorithm: int
    hash_algorithm: int
    hashed_part: bytes
    hashed: tuple[Subpacket, ...]
    unhashed: tuple[Subpacket, ...]
    value: bytes

    def subpacket(self, kind: int, *, hashed_only: bool = True) -> bytes | None:
        """The data of the first subpacket of ``kind`` (hashed ones first), or None."""
        pool = self.hashed if hashed_only else self.hashed + self.unhashed
        return next((item.data for item in pool if item.kind == kind), None)

    @property
    def created(self) -> int | None:
        data = self.subpacket(SUB_CREATION_TIME)
        return int.from_bytes(data, "big") if data is not None and len(data) == 4 else None

    @property
    def issuer_fingerprint(self) -> str | None:
        """The v4 issuer fingerprint (hashed or not), lowercase hex, or None."""
        data = self.subpacket(SUB_ISSUER_FINGERPRINT, hashed_only=False)
        if data is None or len(data) != 21 or data[0] != 4:
            return None
        return data[1:].hex()

    @property
    def issuer(self) -> str | None:
        """The 64-bit issuer keyid, lowercase hex, or None."""
        data = self.subpacket(SUB_ISSUER, hashed_only=False)
        return data.hex() if data is not None and len(data) == 8 else None


class _Reader:
    """A cursor over bytes that refuses to read past the end."""

    def __init__(self, data: bytes, where: str, base: int = 0) -> None:
        self.data = data
        self.pos = 0
        self.where = where
        self.base = base

    def fail(self, reason: str) -> MetadataError:
        return MetadataError(f"{self.where} at byte {self.base + self.pos}: {reason}")

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, count: int, what: str) -> bytes:
        if count < 0 or count > self.left():
            raise self.fail(f"{what} is truncated ({count} bytes needed, {self.left()} left)")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")

    def mpi(self, what: str) -> bytes:
        """A multiprecision integer: 2-byte bit count, then its bytes (RFC 4880 3.2)."""
        bits = self.uint(2, f"{what} length")
        if bits == 0 or bits > MAX_MPI_BITS:
            raise self.fail(f"{what}: bit count {bits} is out of range")
        return self.take((bits + 7) // 8, what)


def _new_format_length(reader: _Reader) -> int:
    first = reader.byte("packet length")
    if first < 192:
        return first
    if first < 224:
        return ((first - 192) << 8) + reader.byte("packet length") + 192
    if first == 255:
        return reader.uint(4, "packet length")
    raise reader.fail("partial body lengths are not supported")


def _old_format_length(reader: _Reader, length_type: int) -> int:
    if length_type == 3:
        raise reader.fail("indeterminate packet lengths are not supported")
    return reader.uint((1, 2, 4)[length_type], "packet length")


def _read_packet(reader: _Reader) -> Packet:
    start = reader.pos
    header = reader.byte("packet header")
    if not header & 0x80:
        raise reader.fail(f"not an OpenPGP packet header (0x{header:02x})")
    if header & 0x40:
        tag, length = header & 0x3F, _new_format_length(reader)
    else:
        tag, length = (header >> 2) & 0x0F, _old_format_length(reader, header & 0x03)
    body = reader.take(length, f"packet of tag {tag}")
    return Packet(tag=tag, raw=reader.data[start : reader.pos], body=body, offset=start)


def read_packets(data: bytes, *, where: str) -> tuple[Packet, ...]:
    """Split ``data`` into packets; MetadataError if any is malformed or truncated."""
    if len(data) > MAX_INPUT_BYTES:
        raise MetadataError(f"{where}: {len(data)} bytes of OpenPGP data is too much")
    if not data:
        raise MetadataError(f"{where}: no OpenPGP data")
    reader = _Reader(data, where)
    packets: list[Packet] = []
    while reader.left():
        if len(packets) >= MAX_PACKETS:
            raise reader.fail(f"more than {MAX_PACKETS} packets")
        packets.append(_read_packet(reader))
    return tuple(packets)


def read_one_packet(data: bytes, tag: int, *, where: str) -> Packet:
    """``data`` must be exactly one packet of ``tag``."""
    packets = read_packets(data, where=where)
    if len(packets) != 1 or packets[0].tag != tag:
        tags = [packet.tag for packet in packets]
        raise MetadataError(f"{where}: expected one packet of tag {tag}, got tags {tags}")
    return packets[0]


def _subpacket_length(reader: _Reader) -> int:
    first = reader.byte("subpacket length")
    if first < 192:
        return first
    if first < 255:
        return ((first - 192) << 8) + reader.byte("subpacket length") + 192
    return reader.uint(4, "subpacket length")


def parse_subpackets(data: bytes, *, where: str, base: int = 0) -> tuple[Subpacket, ...]:
    """The subpackets of a hashed or unhashed area; each must fit and have a type."""
    reader = _Reader(data, where, base)
    found: list[Subpacket] = []
    while reader.left():
        length = _subpacket_length(reader)
        if length == 0:
            raise reader.fail("subpacket without a type")
        chunk = reader.take(length, "subpacket")
        found.append(
            Subpacket(kind=chunk[0] & 0x7F, critical=bool(chunk[0] & 0x80), data=chunk[1:])
        )
    return tuple(found)


def _key_params(reader: _Reader, algorithm: int) -> dict[str, str]:
    if algorithm == ALGORITHM_RSA:
        return {"n": reader.mpi("RSA n").hex(), "e": reader.mpi("RSA e").hex()}
    if algorithm == ALGORITHM_DSA:
        names = ("p", "q", "g", "y")
        return {name: reader.mpi(f"DSA {name}").hex() for name in names}
    oid = reader.take(reader.byte("curve OID length"), "curve OID")
    if oid != ED25519_OID:
        raise reader.fail(f"EdDSA curve OID {oid.hex()} is not ed25519")
    point = reader.mpi("EdDSA point")
    if len(point) != 33 or point[0] != ED25519_PREFIX:
        raise reader.fail("EdDSA point is not a native 32-byte ed25519 key")
    return {"q": point[1:].hex()}


def fingerprint_of(body: bytes) -> str:
    """The v4 fingerprint of a key packet body: SHA-1 over 0x99, its length and itself."""
    # SHA-1 is what OpenPGP v4 defines the fingerprint as; it is an identifier here.
    digest = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body, usedforsecurity=False)
    return digest.hexdigest()


def parse_key(packet: Packet, *, where: str) -> KeyPacket:
    """A version 4 RSA, DSA or EdDSA (ed25519) public key or subkey packet body."""
    reader = _Reader(packet.body, where, packet.offset + len(packet.raw) - len(packet.body))
    version = reader.byte("key version")
    if version != 4:
        raise reader.fail(f"key version {version} is not supported (only 4)")
    created = reader.uint(4, "key creation time")
    algorithm = reader.byte("key algorithm")
    if algorithm not in KEY_TYPES:
        raise reader.fail(f"key algorithm {algorithm} is not supported (RSA, DSA or EdDSA)")
    params = _key_params(reader, algorithm)
    if reader.left():
        raise reader.fail(f"{reader.left()} bytes after the key")
    return KeyPacket(
        created=created,
        algorithm=algorithm,
        params=params,
        fingerprint=fingerprint_of(packet.body),
        body=packet.body,
    )


def _signature_value(reader: _Reader, algorithm: int) -> bytes:
    if algorithm == ALGORITHM_RSA:
        return reader.mpi("RSA signature")
    first = int.from_bytes(reader.mpi("signature r"), "big")
    second = int.from_bytes(reader.mpi("signature s"), "big")
    if algorithm == ALGORITHM_DSA:
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        return encode_dss_signature(first, second)
    if first.bit_length() > 256 or second.bit_length() > 256:
        raise reader.fail("EdDSA signature values are longer than 32 bytes")
    return first.to_bytes(32, "big") + second.to_bytes(32, "big")


def parse_signature(packet: Packet, *, where: str) -> SignaturePacket:
    """A version 4 signature packet body (RFC 4880 5.2.3)."""
    base = packet.offset + len(packet.raw) - len(packet.body)
    reader = _Reader(packet.body, where, base)
    version = reader.byte("signature version")
    if version != 4:
        raise reader.fail(f"signature version {version} is not supported (only 4)")
    sig_type = reader.byte("signature type")
    algorithm = reader.byte("signature algorithm")
    if algorithm not in KEY_TYPES:
        raise reader.fail(f"signature algorithm {algorithm} is not supported (RSA, DSA or EdDSA)")
    hash_algorithm = reader.byte("hash algorithm")
    hashed_start = reader.pos + 2
    hashed = parse_subpackets(
        reader.take(reader.uint(2, "hashed length"), "hashed subpackets"),
        where=where,
        base=base + hashed_start,
    )
    hashed_part = packet.body[: reader.pos]
    unhashed_start = reader.pos + 2
    unhashed = parse_subpackets(
        reader.take(reader.uint(2, "unhashed length"), "unhashed subpackets"),
        where=where,
        base=base + unhashed_start,
    )
    reader.take(2, "hash prefix")
    value = _signature_value(reader, algorithm)
    if reader.left():
        raise reader.fail(f"{reader.left()} bytes after the signature")
    return SignaturePacket(
        sig_type=sig_type,
        algorithm=algorithm,
        hash_algorithm=hash_algorithm,
        hashed_part=hashed_part,
        hashed=hashed,
        unhashed=unhashed,
        value=value,
    )


def parse_hashed_part(data: bytes, *, where: str) -> tuple[int, int, int, tuple[Subpacket, ...]]:
    """Split a stored ``other_headers``: (signature type, algorithm, hash, hashed subpackets).

    It must be exactly a v4 signature's start through its hashed subpackets, nothing more.
    """
    reader = _Reader(data, where)
    version = reader.byte("signature version")
    if version != 4:
        raise reader.fail(f"signature version {version} is not supported (only 4)")
    sig_type = reader.byte("signature type")
    algorithm = reader.byte("signature algorithm")
    hash_algorithm = reader.byte("hash algorithm")
    length = reader.uint(2, "hashed length")
    hashed = parse_subpackets(reader.take(length, "hashed subpackets"), where=where, base=6)
    if reader.left():
        raise reader.fail(f"{reader.left()} bytes after the hashed subpackets")
    return sig_type, algorithm, hash_algorithm, hashed
