"""Duplicating a signature or a key never raises a threshold count."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fixtures.adversarial_cases.signatures import high_s_twin
from intoto_pip.crypto.keys import PublicKey, VerificationKey
from intoto_pip.errors import VerificationError
from intoto_pip.models.envelope import Envelope, Signature, sign_payload, verified_keys
from intoto_pip.verify.engine import verify_layout
from tests.fuzz.chain import NOW, MemorySource, base_payloads, keys, sign

PROPERTY = settings(max_examples=120, deadline=None)
SIGNERS = ["carol", "dave", "erin", "bob"]


def _twin_key(key: PublicKey) -> PublicKey:
    """The same key material in another spelling (so another keyid): PEM without its newline."""
    if key.keytype == "ed25519":
        return key
    return PublicKey(keytype=key.keytype, scheme=key.scheme, public=key.public.rstrip("\n"))


def _ids(key: PublicKey) -> tuple[str, str]:
    return key.keyid, key.legacy_keyid


def _same_key(one: PublicKey, other: PublicKey) -> bool:
    # Not ``material``: this test must not lean on the code it checks.
    return (one.keytype, one.public.strip()) == (other.keytype, other.public.strip())


def _distinct(found: list[VerificationKey]) -> int:
    return len({key.material for key in found})


@st.composite
def duplicated(draw: st.DrawFn, envelope: Envelope) -> Envelope:
    """``envelope`` with signature entries repeated, re-labelled or (ECDSA) twinned."""
    signatures = list(envelope.signatures)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not signatures:
            break
        original = draw(st.sampled_from(signatures))
        by = next(n for n in SIGNERS if original.keyid in (_ids(keys().pub(n))))
        key = keys().pub(by)
        form = draw(st.sampled_from(["copy", "legacy-keyid", "twin"]))
        sig = original.sig
        if form == "twin" and key.keytype == "ecdsa":
            sig = bytes.fromhex(high_s_twin(sig.hex()))
        keyid = key.legacy_keyid if form == "legacy-keyid" else original.keyid
        signatures.insert(draw(st.integers(0, len(signatures))), Signature(keyid=keyid, sig=sig))
    return Envelope(
        kind=envelope.kind,
        payload=envelope.payload,
        signed_bytes=envelope.signed_bytes,
        signatures=tuple(signatures),
        raw_payload=envelope.raw_payload,
    )


@PROPERTY
@given(
    st.lists(st.sampled_from(SIGNERS), min_size=1, unique=True),
    st.booleans(),
    st.data(),
)
def test_verified_key_material_never_grows(
    signers: list[str], dsse: bool, data: st.DataObject
) -> None:
    envelope = sign_payload({"_type": "link", "name": "x"}, [keys()[n] for n in signers], dsse=dsse)
    candidates = [keys().pub(name) for name in SIGNERS]
    base = _distinct(verified_keys(envelope, candidates))
    assert base == len(signers)
    spoiled = data.draw(duplicated(envelope))
    more_keys = data.draw(st.lists(st.sampled_from(candidates), max_size=4))
    twins = [_twin_key(key) for key in data.draw(st.lists(st.sampled_from(candidates), max_size=2))]
    assert verified_keys(spoiled, candidates) == verified_keys(envelope, candidates)
    assert verified_keys(spoiled, [*candidates, *more_keys]) == verified_keys(envelope, candidates)
    assert _distinct(verified_keys(spoiled, [*candidates, *more_keys, *twins])) == base


def _threshold_layout(threshold: int, listed: list[PublicKey]) -> dict[str, Any]:
    layout, _code, _build = base_payloads()
    layout["keys"] = {key.keyid: key.to_keydict() for key in listed}
    layout["steps"] = [layout["steps"][1]]  # build alone
    build = layout["steps"][0]
    build["pubkeys"], build["threshold"] = [key.keyid for key in listed], threshold
    build["expected_materials"] = []
    return layout


def _step_passes(layout: dict[str, Any], source: MemorySource) -> bool:
    try:
        verify_layout(
            sign(layout, "owner"),
            layout_keys=[keys().pub("owner")],
            links=source,
            params=None,
            run_inspection=None,
            now=NOW,
        )
    except VerificationError:
        return False
    return True


@PROPERTY
@given(
    st.lists(st.sampled_from(SIGNERS), min_size=1, unique=True),
    st.integers(min_value=1, max_value=len(SIGNERS)),
    st.lists(st.sampled_from(SIGNERS), max_size=3),
)
@example(signed_by=["bob"], threshold=2, twinned=["bob"])
def test_listing_a_key_twice_never_meets_a_threshold(
    signed_by: list[str], threshold: int, twinned: list[str]
) -> None:
    """Build needs ``threshold`` of the signers; ``signed_by`` left links. Each ``twinned``
    key is also listed in another spelling (another keyid), and its links are saved under
    every keyid of its key, with a signature entry labelled with each."""
    _layout, _code, build = base_payloads()
    build["products"] = {}
    listed = [keys().pub(name) for name in SIGNERS]
    spelled = [*listed, *(_twin_key(keys().pub(name)) for name in twinned)]
    source = MemorySource()
    for name in signed_by:
        envelope = sign(build, name)
        spellings = [key for key in spelled if _same_key(key, keys().pub(name))]
        labelled = tuple(
            Signature(keyid=key.keyid, sig=envelope.signatures[0].sig) for key in spellings
        )
        envelope = replace(envelope, signatures=envelope.signatures + labelled)
        for key in spellings:
            source.files[f"build.{key.keyid[:8]}.link"] = envelope
    layout = _threshold_layout(threshold, list({key.keyid: key for key in spelled}.values()))
    assert _step_passes(layout, source) == (threshold <= len(signed_by))
