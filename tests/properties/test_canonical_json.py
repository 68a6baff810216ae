"""Canonical JSON: deterministic, identical to the reference's, and it survives the file format."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical as reference_encode

from intoto_pip.crypto.canonical import encode_canonical
from intoto_pip.models.envelope import dump_envelope, parse_envelope, sign_payload, verified_keys
from tests.fuzz.chain import keys

PROPERTY = settings(max_examples=200, deadline=None)
# Text without lone surrogates (they have no UTF-8 form; canonical encoding refuses them).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=20,
)
OBJECTS = st.dictionaries(TEXT, VALUES, max_size=6)


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same value with every object's members in another insertion order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


@PROPERTY
@given(VALUES, st.integers())
def test_deterministic_whatever_the_member_order(value: Any, seed: int) -> None:
    assert encode_canonical(_shuffled(value, random.Random(seed))) == encode_canonical(value)


@PROPERTY
@given(VALUES)
def test_same_bytes_as_the_reference(value: Any) -> None:
    reference = reference_encode(value)
    assert isinstance(reference, str)
    assert encode_canonical(value) == reference.encode("utf-8")


@PROPERTY
@given(VALUES)
def test_round_trips(value: Any) -> None:
    encoded = encode_canonical(value)
    # Canonical JSON writes control characters raw (as the reference does), which strict JSON
    # readers refuse; a lenient read gets the value back, and re-encoding is a fixed point.
    decoded = json.loads(encoded.decode("utf-8"), strict=False)
    assert decoded == value
    assert encode_canonical(decoded) == encoded


@PROPERTY
@given(OBJECTS, st.booleans())
def test_signed_files_round_trip_through_the_strict_reader(payload: Any, dsse: bool) -> None:
    signer = keys()["owner"]
    envelope = sign_payload(payload, [signer], dsse=dsse)
    again = parse_envelope(dump_envelope(envelope), what="property")
    assert again.payload == payload
    assert again.signed_bytes == envelope.signed_bytes
    assert verified_keys(again, [signer.public_key]) == [signer.public_key]
