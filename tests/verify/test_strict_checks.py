"""Regression tests for the order and strictness of DESIGN section 4 not covered elsewhere.

Each test is named after what it guards: the layout signature is checked before the payload
is parsed; the link the rules see is the first *valid* one in ``pubkeys`` order; a repeated
signature entry is not a refusal; the summary link of a sublayout is the reference's; MATCH
from an inspection reaches steps and other inspections.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from intoto_pip.errors import SignatureError
from intoto_pip.models.link import Link
from intoto_pip.store import link_filename
from intoto_pip.verify.result import ArtifactRuleError
from tests.verify.builders import (
    FakeInspections,
    MemorySource,
    arts,
    inspection,
    key,
    layout,
    link,
    sign,
    step,
    verify,
)

SRC = arts(**{"src.py": "1"})
OUT = arts(**{"src.py": "1", "app": "2"})


def two_signers_layout(threshold: int = 1) -> dict[str, Any]:
    return layout(
        [step("build", ["bob", "alice"], threshold=threshold, products=["ALLOW *"])],
        functionaries=["alice", "bob"],
    )


def test_layout_signature_is_checked_before_the_payload_is_parsed() -> None:
    # A malformed payload signed by the wrong key must be refused for its signature: the
    # schema of an unauthenticated document is never looked at.
    bad = two_signers_layout()
    bad["steps"][0]["threshold"] = "many"
    with pytest.raises(SignatureError, match="no valid signature by key"):
        verify(sign(bad, "mallory"), MemorySource())


def test_rules_use_the_first_valid_link_in_pubkeys_order() -> None:
    # bob comes first in pubkeys, but his link file is signed by mallory: it is skipped
    # and alice's link, the first valid one, is the one the rules and the summary see.
    source = MemorySource().add_link("alice", link("build", products=OUT))
    source.files[link_filename("build", key("bob").keyid)] = sign(
        link("build", products=SRC), "mallory"
    )
    result = verify(sign(two_signers_layout(), "owner"), source)
    assert result.steps[0].used == key("alice").keyid
    assert result.summary.products == OUT
    assert [item.keyid for item in result.steps[0].rejected] == [key("bob").keyid]


def test_a_repeated_signature_entry_is_not_a_refusal_and_counts_once() -> None:
    envelope = sign(link("build", products=OUT), "alice")
    doubled = replace(envelope, signatures=envelope.signatures * 2)
    source = MemorySource().add("build", "alice", doubled)
    result = verify(sign(two_signers_layout(), "owner"), source)
    assert result.steps[0].signers == (key("alice").keyid,)
    # ... and the same link twice never meets a threshold of two.
    with pytest.raises(SignatureError, match=r"needs 2 link.*found 1"):
        verify(sign(two_signers_layout(threshold=2), "owner"), source)


def _full_link(name: str, materials: Any, products: Any, command: list[str]) -> dict[str, Any]:
    value = link(name, materials=materials, products=products, command=command)
    value["byproducts"] = {"return-value": 0, "stdout": f"{name} out", "stderr": ""}
    value["environment"] = {"workdir": f"/{name}"}
    return value


def test_summary_link_is_the_references_get_summary_link() -> None:
    reference_verifylib = pytest.importorskip("in_toto.verifylib")
    reference_link = pytest.importorskip("in_toto.models.link")
    reference_layout = pytest.importorskip("in_toto.models.layout")
    names = ["first", "middle", "last"]
    value = layout(
        [step(name, ["alice"], products=["ALLOW *"]) for name in names], functionaries=["alice"]
    )
    source = MemorySource()
    payloads = {
        "first": _full_link("first", SRC, SRC, ["fetch"]),
        "middle": _full_link("middle", SRC, OUT, ["make"]),
        "last": _full_link("last", OUT, arts(app="2"), ["pack", "app"]),
    }
    for payload in payloads.values():
        source.add_link("alice", payload)
    ours = verify(sign(value, "owner"), source).summary

    theirs_layout = reference_layout.Layout()
    theirs_layout.steps = [reference_layout.Step(name=name) for name in names]
    reduced = {name: reference_link.Link.read(payload) for name, payload in payloads.items()}
    theirs = reference_verifylib.get_summary_link(theirs_layout, reduced, "")
    assert ours.to_dict() == {
        "_type": "link",
        "name": theirs.name,
        "command": theirs.command,
        "materials": theirs.materials,
        "products": theirs.products,
        "byproducts": theirs.byproducts,
        "environment": theirs.environment,
    }


def test_inspection_rules_match_steps_and_other_inspections() -> None:
    value = layout(
        [step("build", ["alice"], products=["ALLOW *"])],
        functionaries=["alice"],
        inspect=[
            inspection("unpack", ["unpack"], materials=["MATCH * WITH PRODUCTS FROM build"]),
            inspection(
                "check",
                ["check"],
                # 'app' must equal both the build's product and what 'unpack' saw.
                materials=[
                    "MATCH app WITH MATERIALS FROM unpack",
                    "MATCH src.py WITH PRODUCTS FROM build",
                    "DISALLOW *",
                ],
            ),
        ],
    )
    source = MemorySource().add_link("alice", link("build", products=OUT))
    runner = FakeInspections({"unpack": (OUT, {}, 0), "check": (OUT, {}, 0)})
    result = verify(sign(value, "owner"), source, inspections=runner)
    assert [item.name for item in result.inspections] == ["unpack", "check"]
    # Another inspection that saw a different 'app' makes the MATCH leave it queued.
    runner = FakeInspections({"unpack": (arts(app="other"), {}, 0), "check": (OUT, {}, 0)})
    with pytest.raises(ArtifactRuleError, match=r"inspection 'check'.*'app'"):
        verify(sign(value, "owner"), source, inspections=runner)


def test_summary_of_a_layout_without_steps_is_empty() -> None:
    result = verify(sign(layout([], functionaries=[]), "owner"), MemorySource())
    assert result.summary == Link(name="")
