"""The OpenPGP packet parser: strict lengths, every malformed input a located MetadataError."""

from __future__ import annotations

import pytest

from intoto_pip.crypto import gpg_packets as packets
from intoto_pip.crypto.gpg_keyring import key_from_export
from intoto_pip.errors import MetadataError
from tests.support.gpg import NAMES, export_bytes


@pytest.mark.parametrize("name", NAMES)
def test_real_exports_split_into_whole_packets(name: str) -> None:
    data = export_bytes(name)
    found = packets.read_packets(data, where=name)
    assert b"".join(packet.raw for packet in found) == data
    assert found[0].tag == packets.TAG_PUBLIC_KEY


def test_a_truncated_export_is_refused_at_every_length_with_its_location() -> None:
    data = export_bytes("rsa-subkey")
    boundaries = set()
    offset = 0
    for packet in packets.read_packets(data, where="x"):
        offset += len(packet.raw)
        boundaries.add(offset)
    for length in range(1, len(data)):
        if length in boundaries:
            continue  # whole packets: a shorter but well-formed export
        with pytest.raises(MetadataError, match=r"^export at byte \d+: .*truncated"):
            packets.read_packets(data[:length], where="export")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no OpenPGP data"),
        (b"\x00\x01", "not an OpenPGP packet header"),
        (b"\xc6\xe0", "partial body lengths are not supported"),
        (b"\x9b", "indeterminate packet lengths are not supported"),
        (b"\xc6\xff\xff\xff\xff\xff", "truncated"),
        (b"\x99\x00", "packet length is truncated"),
    ],
)
def test_malformed_packet_headers(data: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        packets.read_packets(data, where="x")


def _key_packet(body: bytes) -> packets.Packet:
    return packets.Packet(
        tag=6, raw=b"\x99" + len(body).to_bytes(2, "big") + body, body=body, offset=0
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x03" + b"\x00" * 9, "key version 3 is not supported"),
        (b"\x04\x00\x00\x00\x00\x12", "key algorithm 18 is not supported"),
        (b"\x04\x00\x00\x00\x00\x01\x00\x00", "RSA n: bit count 0 is out of range"),
        (b"\x04\x00\x00\x00\x00\x01\x08\x00\xff", "RSA n is truncated"),
        (b"\x04\x00\x00\x00\x00\x01\x00\x08\xff\x00\x08\x03\x00", "1 bytes after the key"),
        (b"\x04\x00\x00\x00\x00\x16\x03\x2b\x65\x70\x00\x00", "EdDSA curve OID 2b6570 is not"),
    ],
)
def test_malformed_key_packets(body: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        packets.parse_key(_key_packet(body), where="key")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x04\x00\x01\x08\x00\x04\x05\x02\x00\x00", "subpacket is truncated"),
        (b"\x04\x00\x01\x08\x00\x01\x00", "subpacket without a type"),
        (b"\x04\x00\x01\x08\x00\x00\x00", "bytes after the hashed subpackets"),
        (b"\x05\x00\x01\x08\x00\x00", "signature version 5 is not supported"),
        (b"\x04\x00\x01\x08\x00", "hashed length is truncated"),
    ],
)
def test_malformed_stored_other_headers(data: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        packets.parse_hashed_part(data, where="other_headers")


def test_too_many_packets_are_refused() -> None:
    user_id = b"\xcd\x00"  # an empty User ID packet, 2 bytes
    with pytest.raises(MetadataError, match="more than 4096 packets"):
        packets.read_packets(user_id * (packets.MAX_PACKETS + 1), where="x")


def test_key_from_export_refuses_what_is_not_a_key() -> None:
    with pytest.raises(MetadataError, match="the first packet is tag 13, not a public key"):
        key_from_export(b"\xcd\x00", "", where="x")
