"""Fuzz the OpenPGP parser and GPG key dicts: any input gives a result or a MetadataError."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from intoto_pip.crypto.gpg_keyring import key_from_export, signature_entry
from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.crypto.gpg_packets import parse_hashed_part
from intoto_pip.errors import MetadataError
from intoto_pip.models.envelope import parse_envelope, verified_keys
from tests.fuzz.budget import FUZZ
from tests.support.gpg import NAMES, NOW, export_bytes, keydict, link_document, reference_key

SEEDS = [export_bytes(name) for name in NAMES]


@st.composite
def mutated_exports(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[position : position + draw(st.integers(1, 16))]
        if not data:
            break
    return bytes(data)


@FUZZ
@given(data=st.one_of(mutated_exports(), st.binary(max_size=512)))
def test_export_data_parses_or_is_a_metadata_error(data: bytes) -> None:
    try:
        key_from_export(data, "", where="export")
    except MetadataError as exc:
        assert str(exc).startswith("export")


@FUZZ
@given(data=st.one_of(mutated_exports(), st.binary(max_size=256)))
def test_signature_data_parses_or_is_a_metadata_error(data: bytes) -> None:
    for parse in (
        lambda: signature_entry(data, where="sig"),
        lambda: parse_hashed_part(data, where="sig"),
    ):
        with contextlib.suppress(MetadataError):
            parse()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key in value for leaf in _leaves(value[key], (*path, key))] or [path]
    return [path]


@FUZZ
@given(data=st.data())
def test_mutated_key_dicts_parse_or_are_refused(data: st.DataObject) -> None:
    document: dict[str, Any] = copy.deepcopy(keydict(data.draw(st.sampled_from(NAMES))))
    path = data.draw(st.sampled_from(_leaves(document)))
    target = document
    for part in path[:-1]:
        target = target[part]
    replacement = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.booleans())
    target[path[-1]] = data.draw(replacement)
    with contextlib.suppress(MetadataError):
        GpgKey.from_keydict(document, where="k")


@FUZZ
@given(name=st.sampled_from(["rsa", "dsa", "ed25519", "rsa-subkey"]), data=st.data())
def test_a_changed_signature_entry_never_verifies(name: str, data: st.DataObject) -> None:
    document = link_document(name)
    entry = document["signatures"][0]
    field = data.draw(st.sampled_from(["other_headers", "signature"]))
    raw = bytearray.fromhex(entry[field])
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    entry[field] = raw.hex()
    try:
        envelope = parse_envelope(json.dumps(document).encode(), what="link")
    except MetadataError:
        return
    assert verified_keys(envelope, [reference_key(name)], now=NOW) == []
