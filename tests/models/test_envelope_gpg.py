"""GPG signature entries in Metablocks: parsed strictly, written back byte for byte."""

from __future__ import annotations

import json

import pytest

from fixtures.gpg.generate import DATA
from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.envelope import add_signatures, dump_envelope, parse_envelope
from tests.support.gpg import NAMES, link_document
from tests.verify.builders import signer


@pytest.mark.parametrize("name", [*NAMES, "root"])
def test_reference_gpg_metablocks_are_written_back_byte_for_byte(name: str) -> None:
    path = DATA / (f"{name}.link" if name != "root" else "root.layout")
    data = path.read_bytes()
    assert dump_envelope(parse_envelope(data, what=name)).decode() == data.decode().rstrip("\n")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": "00"}, "unknown member 'extra'"),
        ({"signature": ""}, r"signatures\[0\].signature: not a non-empty hex string"),
        ({"other_headers": "0g"}, r"signatures\[0\].other_headers: not a non-empty hex"),
        ({"keyid": None}, r"signatures\[0\].keyid: expected a hex string"),
    ],
)
def test_malformed_gpg_entries_are_refused(change: dict[str, object], message: str) -> None:
    document = link_document("rsa")
    document["signatures"][0].update(change)
    with pytest.raises(MetadataError, match=message):
        parse_envelope(json.dumps(document).encode(), what="link")


def test_an_entry_mixing_gpg_and_classic_members_is_set_aside() -> None:
    """Unknown members make an entry no signature at all: it never verifies, and the link it
    is on is set aside (not fatal), as for any malformed entry."""
    document = link_document("rsa")
    document["signatures"][0]["sig"] = "00"
    envelope = parse_envelope(json.dumps(document).encode(), what="link")
    assert envelope.signatures[0].problem is not None
    assert "unknown member" in envelope.signatures[0].problem


def test_gpg_entries_are_not_accepted_in_dsse() -> None:
    entry = link_document("rsa")["signatures"][0]
    document = {"payload": "e30=", "payloadType": "application/vnd.in-toto+json"}
    document["signatures"] = [entry]  # type: ignore[assignment]
    with pytest.raises(MetadataError, match="missing member 'sig'"):
        parse_envelope(json.dumps(document).encode(), what="link")


def test_a_pem_signature_added_beside_a_gpg_one_keeps_both() -> None:
    envelope = parse_envelope((DATA / "rsa.link").read_bytes(), what="rsa")
    both = add_signatures(envelope, [signer("alice")])
    assert [s.other_headers is None for s in both.signatures] == [False, True]


def test_a_gpg_signer_cannot_sign_dsse() -> None:
    from tests.support.gpg import reference_key

    class Fake:
        public_key = reference_key("rsa")

        def sign(self, data: bytes) -> bytes:
            raise AssertionError("never reached")

    envelope = parse_envelope(
        json.dumps({"payload": "e30=", "payloadType": "application/vnd.in-toto+json",
                    "signatures": []}).encode(), what="x")  # fmt: skip
    with pytest.raises(InputError, match="Metablock envelopes only"):
        add_signatures(envelope, [Fake()])
