"""The rule engine, table-driven: every rule type passes and fails as in the reference."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from intoto_pip.models.link import Link
from intoto_pip.models.rules import MatchRule, parse_rules
from intoto_pip.verify.result import ArtifactRuleError
from intoto_pip.verify.rules import RuleSubject, verify_item_rules
from tests.verify.builders import Hashes, digest, files

SAME = digest("same")
OTHER = digest("other")

# The step under test: 'kept' unchanged, 'changed' modified, 'gone' deleted, 'new' created,
# and 'src/a.py' / 'src/b.py' produced (for MATCH with prefixes).
MATERIALS: dict[str, Hashes] = {"kept": SAME, "changed": SAME, "gone": SAME}
PRODUCTS: dict[str, Hashes] = {
    "kept": SAME,
    "changed": OTHER,
    "new": SAME,
    "src/a.py": SAME,
    "src/b.py": OTHER,
}
# Other steps, for MATCH.
OTHERS: dict[str, Link] = {
    "fetch": Link(name="fetch", products={"kept": SAME, "changed": SAME, "gone": SAME}),
    "build": Link(
        name="build",
        materials={"out/a.py": SAME, "out/b.py": SAME},
        products={"a.py": SAME, "b.py": SAME, "new": OTHER},
    ),
}


def run(field: str, texts: list[str], links: Mapping[str, Link] | None = None) -> list[int]:
    """Apply rules to the step's materials or products; return the queue size after each."""
    subject_link = Link(name="step", materials=MATERIALS, products=PRODUCTS)
    subject = RuleSubject(
        item="step",
        kind="step",
        field="expected_materials" if field == "materials" else "expected_products",
        link=subject_link,
    )
    all_links = {"step": subject_link, **(OTHERS if links is None else links)}
    parsed = parse_rules([text.split() for text in texts], where="test")
    return [outcome.queue_after for outcome in verify_item_rules(subject, parsed, all_links)]


# (field, rules, expected queue sizes) - every case ends accepted.
PASSING = [
    # CREATE consumes what is a product and not a material.
    ("products", ["CREATE new", "DISALLOW new"], [4, 4]),
    ("products", ["CREATE *", "DISALLOW src/*"], [2, 2]),  # 'kept'/'changed' stay queued
    ("materials", ["CREATE *"], [3]),  # nothing among materials is created
    # DELETE consumes what is a material and not a product.
    ("materials", ["DELETE *", "DISALLOW gone"], [2, 2]),
    ("products", ["DELETE *"], [5]),
    # MODIFY consumes what is in both with different hashes.
    ("products", ["MODIFY *", "DISALLOW changed"], [4, 4]),
    ("materials", ["MODIFY kept"], [3]),  # same hash: not modified
    # ALLOW consumes whatever matches.
    ("products", ["ALLOW *.py", "DISALLOW src/*"], [3, 3]),
    ("products", ["ALLOW *", "DISALLOW *"], [0, 0]),
    # DISALLOW only looks at the queue.
    ("products", ["DISALLOW nothing-*"], [5]),
    # REQUIRE wants the literal name still in the queue, and consumes nothing.
    ("products", ["REQUIRE new", "REQUIRE src/a.py"], [5, 5]),
    # MATCH consumes queued artifacts with the same name and hashes in the other link.
    ("materials", ["MATCH * WITH PRODUCTS FROM fetch", "DISALLOW *"], [0, 0]),
    ("products", ["MATCH * WITH PRODUCTS FROM fetch"], [4]),  # 'kept' only: 'changed' differs
    ("products", ["MATCH *.py IN src WITH PRODUCTS FROM build", "DISALLOW src/a.py"], [4, 4]),
    ("products", ["MATCH * IN src/ WITH MATERIALS IN out FROM build", "DISALLOW src/a.py"], [4, 4]),
    ("products", ["MATCH a.py WITH PRODUCTS IN src FROM step"], [5]),  # not in the queue: 'a.py'
    ("products", ["MATCH src/* WITH PRODUCTS IN src FROM build"], [5]),  # src/src/a.py: absent
    ("products", ["MATCH * WITH PRODUCTS FROM no-such-step", "ALLOW *"], [5, 0]),
    ("products", ["MATCH new WITH PRODUCTS FROM build"], [5]),  # same name, other hash
    ("products", ["match * with products from fetch"], [4]),  # keywords in any case
]


@pytest.mark.parametrize(("field", "texts", "sizes"), PASSING)
def test_rules_accept(field: str, texts: list[str], sizes: list[int]) -> None:
    assert run(field, texts) == sizes


# (field, rules, message fragment) - every case ends refused by the last rule.
FAILING = [
    ("products", ["DISALLOW *"], "disallowed products: 'changed', 'kept', 'new', 'src/a.py'"),
    ("products", ["CREATE *", "DISALLOW *"], "disallowed products: 'changed', 'kept'"),
    ("materials", ["DELETE gone", "DISALLOW *"], "disallowed materials: 'changed', 'kept'"),
    ("products", ["ALLOW *.py", "DISALLOW *"], "disallowed products: 'changed', 'kept', 'new'"),
    ("products", ["REQUIRE missing"], "did not find 'missing' (it is not among the products)"),
    ("products", ["ALLOW new", "REQUIRE new"], "did not find 'new' (an earlier rule consumed it)"),
    ("products", ["REQUIRE *"], "did not find '*'"),  # REQUIRE is literal, never a pattern
    ("products", ["MATCH * WITH PRODUCTS FROM fetch", "DISALLOW changed"], "'changed'"),
    ("products", ["MATCH * WITH PRODUCTS FROM missing-step", "DISALLOW new"], "'new'"),
    ("products", ["MATCH *.py IN src WITH PRODUCTS FROM build", "DISALLOW *.py"], "'src/b.py'"),
]


@pytest.mark.parametrize(("field", "texts", "fragment"), FAILING)
def test_rules_refuse(field: str, texts: list[str], fragment: str) -> None:
    with pytest.raises(ArtifactRuleError) as caught:
        run(field, texts)
    message = str(caught.value)
    assert fragment in message
    index = len(texts) - 1
    assert message.startswith(f"step 'step': expected_{field}[{index}] '{texts[-1]}'")
    assert caught.value.outcome.index == index
    assert not caught.value.outcome.passed


def test_modify_then_disallow_refuses_unmodified() -> None:
    with pytest.raises(ArtifactRuleError, match="disallowed products: 'kept'"):
        run("products", ["MODIFY *", "ALLOW src/*", "ALLOW new", "DISALLOW *"])


def test_rules_after_a_match_against_missing_link_still_see_the_queue() -> None:
    # A MATCH against a step without a link consumes nothing (reference behaviour).
    assert run("materials", ["MATCH * WITH PRODUCTS FROM fetch"], links={}) == [3]


def test_hash_maps_compare_whole() -> None:
    # An extra algorithm on one side makes the hashes differ, as the reference's dict '!='.
    extended = {"kept": {**SAME, "sha512": "00"}, "changed": SAME, "gone": SAME}
    links = {"fetch": Link(name="fetch", products=extended)}
    assert run("materials", ["MATCH * WITH PRODUCTS FROM fetch"], links) == [1]


def test_long_offender_lists_are_cut() -> None:
    many = files({f"f{i:03}": "x" for i in range(25)})
    subject = RuleSubject(
        item="big",
        kind="inspection",
        field="expected_products",
        link=Link(name="big", products=many),
    )
    with pytest.raises(ArtifactRuleError) as caught:
        verify_item_rules(subject, parse_rules([["DISALLOW", "*"]], where="t"), {})
    assert "'f009' and 15 more" in str(caught.value)
    assert str(caught.value).startswith("inspection 'big': expected_products[0] 'DISALLOW *'")
    assert len(caught.value.outcome.offending) == 25


def test_match_prefixes_with_backslashes_mean_what_they_mean_to_the_reference() -> None:
    # The reference turns "\\" in MATCH prefixes into "/" on every platform; so do we.
    digest = {"sha256": "ab" * 32}
    built = Link(name="build", products={"dist/lib/x.py": digest})
    here = Link(name="check", materials={"src/lib/x.py": digest})
    rule = MatchRule(
        pattern="*",
        source_prefix="src\\lib",
        dest_type="products",
        dest_prefix="dist\\lib",
        dest_name="build",
    )
    subject = RuleSubject(item="check", kind="inspection", field="expected_materials", link=here)
    outcomes = verify_item_rules(subject, (rule,), {"build": built, "check": here})
    assert outcomes[0].consumed == 1
