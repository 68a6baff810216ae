"""Fuzzing metadata loading: whatever the bytes, a MetadataError or a valid object, never a crash.

Three kinds of input: arbitrary bytes; valid envelope files with byte-level edits; and valid
layout and link trees with one node replaced, removed or added (reaching the schema code that
byte edits rarely get past the JSON reader). Trees the owner then signs also go through the
whole engine, which may only refuse with a VerificationError.
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fixtures.generate import ROOT as FIXTURES
from intoto_pip.errors import MetadataError, VerificationError
from intoto_pip.models.envelope import parse_envelope, verified_keys
from intoto_pip.models.layout import Layout
from intoto_pip.models.link import Link
from intoto_pip.verify.engine import verify_layout
from tests.fuzz.budget import FUZZ
from tests.fuzz.chain import NOW, base_payloads, base_source, keys, sign
from tests.fuzz.mutate import mutated_bytes, mutated_tree

CHAIN = FIXTURES / "metadata" / "chain"
SAMPLES = [
    (CHAIN / "root.layout").read_bytes(),
    (CHAIN / "build.e643b1b6.link").read_bytes(),  # DSSE
    (CHAIN / "write-code.ae22c632.link").read_bytes(),
]


def load_metadata(data: bytes) -> None:
    """What intoto-pip does with a metadata file it is handed; MetadataError or success."""
    envelope = parse_envelope(data, what="fuzz")
    verified_keys(envelope, [keys().pub(name) for name in ("owner", "alice", "bob")])
    kind = envelope.payload.get("_type")
    if kind == "layout":
        Layout.from_dict(envelope.payload)
    else:
        Link.from_dict(envelope.payload)


def _survives(data: bytes) -> None:
    with contextlib.suppress(MetadataError):
        load_metadata(data)


@FUZZ
@given(st.binary(max_size=512))
def test_arbitrary_bytes(data: bytes) -> None:
    _survives(data)


@FUZZ
@given(st.sampled_from(SAMPLES).flatmap(mutated_bytes))
def test_mutated_envelope_files(data: bytes) -> None:
    _survives(data)


LAYOUT, CODE, BUILD = base_payloads()


def _engine(layout: dict[str, Any], code: dict[str, Any], build: dict[str, Any]) -> None:
    try:
        envelope = sign(layout, "owner")
        source = base_source(code, build)
    except MetadataError:
        return  # not canonically encodable: no signer could have signed it
    with contextlib.suppress(VerificationError):
        verify_layout(
            envelope,
            layout_keys=[keys().pub("owner")],
            links=source,
            params={"NAME": "demo"},
            run_inspection=None,
            now=NOW,
        )


@FUZZ
@given(mutated_tree(LAYOUT))
def test_mutated_layout_trees(layout: dict[str, Any]) -> None:
    with contextlib.suppress(MetadataError):
        Layout.from_dict(layout)
    _engine(layout, CODE, BUILD)


@FUZZ
@given(st.sampled_from([CODE, BUILD]).flatmap(mutated_tree), st.booleans())
def test_mutated_link_trees(link: dict[str, Any], as_build: bool) -> None:
    with contextlib.suppress(MetadataError):
        Link.from_dict(link)
    _engine(LAYOUT, CODE if as_build else link, link if as_build else BUILD)
