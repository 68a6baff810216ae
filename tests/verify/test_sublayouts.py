"""Sublayouts: a functionary signs a layout instead of a link; verified recursively."""

from __future__ import annotations

from typing import Any

import pytest

from intoto_pip.errors import SignatureError, VerificationError
from intoto_pip.verify.engine import MAX_SUBLAYOUT_DEPTH
from intoto_pip.verify.result import ArtifactRuleError
from tests.verify.builders import (
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
MID = arts(**{"src.py": "1", "mid.o": "2"})
OUT = arts(**{"src.py": "1", "mid.o": "2", "app": "3"})


def KEEP_OR_CREATE(name: str) -> list[str]:
    return [f"MATCH * WITH MATERIALS FROM {name}", "CREATE *", "DISALLOW *"]


def root_layout() -> dict[str, Any]:
    return layout(
        [
            step("build", ["alice"], products=KEEP_OR_CREATE("build")),
            step(
                "release",
                ["bob"],
                materials=["MATCH * WITH PRODUCTS FROM build", "DISALLOW *"],
                products=["MATCH * WITH MATERIALS FROM release", "DISALLOW *"],
            ),
        ],
        functionaries=["alice", "bob"],
    )


def level_two() -> dict[str, Any]:
    """carol's sublayout for 'compile' (signed by dave, its functionary)."""
    return layout(
        [step("cc", ["dave"], products=KEEP_OR_CREATE("cc"))],
        functionaries=["dave"],
    )


def level_one() -> dict[str, Any]:
    """alice's sublayout for 'build': 'compile' (itself a sublayout), then 'link'."""
    return layout(
        [
            step("compile", ["carol"], products=KEEP_OR_CREATE("compile")),
            step(
                "link",
                ["carol"],
                materials=["MATCH * WITH PRODUCTS FROM compile", "DISALLOW *"],
                products=["ALLOW *"],
            ),
        ],
        functionaries=["carol"],
    )


def two_levels(*, cc_products: dict[str, dict[str, str]] | None = None) -> MemorySource:
    root = MemorySource()
    root.add("build", "alice", sign(level_one(), "alice"))
    root.add_link("bob", link("release", materials=OUT, products=OUT))
    one = root.folder("build", "alice")
    one.add("compile", "carol", sign(level_two(), "carol", dsse=True))
    one.add_link("carol", link("link", materials=MID, products=OUT, command=["ld"]))
    two = one.folder("compile", "carol")
    two.add_link("dave", link("cc", materials=SRC, products=cc_products or MID))
    return root


def test_two_levels_deep_pass() -> None:
    result = verify(sign(root_layout(), "owner"), two_levels())
    build = result.steps[0]
    assert [keyid for keyid, _ in build.sublayouts] == [key("alice").keyid]
    inner = build.sublayouts[0][1]
    assert inner.steps[0].sublayouts[0][1].steps[0].name == "cc"
    # The summary link: the first step's materials, the last step's products and command.
    assert inner.summary.name == "build"
    assert inner.summary.materials == SRC
    assert inner.summary.products == OUT
    assert inner.summary.command == ("ld",)
    assert result.to_dict()["steps"][0]["sublayouts"][key("alice").keyid]["verified"] is True


def test_failure_two_levels_down_is_refused() -> None:
    bad = {**MID, **arts(**{"mid.o": "tampered"})}
    with pytest.raises(ArtifactRuleError) as caught:
        verify(sign(root_layout(), "owner"), two_levels(cc_products=bad))
    # 'cc' is fine (CREATE *), but 'link' in level one sees a material not made by 'compile'.
    assert str(caught.value) == (
        "step 'link': expected_materials[1] 'DISALLOW *' disallowed materials: 'mid.o'"
    )


def test_summary_products_feed_the_parent_rules() -> None:
    root = two_levels()
    other = {**OUT, **arts(app="not what build made")}
    root.add_link("bob", link("release", materials=other, products=other))
    with pytest.raises(ArtifactRuleError, match=r"step 'release': expected_materials.*'app'"):
        verify(sign(root_layout(), "owner"), root)


def test_sublayout_links_missing() -> None:
    root = two_levels()
    root.folder("build", "alice").folder("compile", "carol").files.clear()
    with pytest.raises(SignatureError, match="step 'cc' needs 1 link"):
        verify(sign(root_layout(), "owner"), root)


def test_sublayout_signed_by_wrong_key_is_dropped() -> None:
    root = two_levels()
    root.add("build", "alice", sign(level_one(), "mallory"))
    with pytest.raises(SignatureError, match="step 'build' needs 1 link"):
        verify(sign(root_layout(), "owner"), root)


def test_sublayout_with_inspections_is_refused() -> None:
    sub = level_one()
    sub["inspect"] = [inspection("run-me", ["rm", "-rf", "/"])]
    root = two_levels()
    root.add("build", "alice", sign(sub, "alice"))
    with pytest.raises(VerificationError) as caught:
        verify(sign(root_layout(), "owner"), root)
    assert str(caught.value) == (
        "sublayout for step 'build': a sublayout must not have inspections (found 'run-me')"
    )


def test_expired_sublayout_is_refused() -> None:
    sub = level_one()
    sub["expires"] = "2000-01-01T00:00:00Z"
    root = two_levels()
    root.add("build", "alice", sign(sub, "alice"))
    with pytest.raises(VerificationError, match="sublayout for step 'build' expired"):
        verify(sign(root_layout(), "owner"), root)


def test_parameters_do_not_reach_sublayouts() -> None:
    sub = level_one()
    sub["steps"][1]["expected_products"] = [["ALLOW", "{NOT_SUBSTITUTED}"]]
    root = two_levels()
    root.add("build", "alice", sign(sub, "alice"))
    verify(sign(root_layout(), "owner"), root, params={})


def test_sublayout_without_steps_summarises_to_nothing() -> None:
    root = two_levels()
    root.add("build", "alice", sign(layout([]), "alice"))
    root.add_link("bob", link("release"))
    result = verify(sign(root_layout(), "owner"), root)
    assert result.steps[0].sublayouts[0][1].summary.products == {}


def test_nesting_is_capped() -> None:
    root = MemorySource()
    value = layout([step("s", ["alice"])], functionaries=["alice"])
    folder = root
    for _ in range(MAX_SUBLAYOUT_DEPTH + 1):
        folder.add("s", "alice", sign(value, "alice"))
        folder = folder.folder("s", "alice")
    with pytest.raises(VerificationError, match="nested deeper than"):
        verify(sign(value, "owner"), root, owners=["owner"])
