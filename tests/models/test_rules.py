"""Artifact rules: every accepted form and every refusal, with the location in the message."""

from __future__ import annotations

import pytest

from intoto_pip.errors import MetadataError
from intoto_pip.models.rules import (
    AllowRule,
    CreateRule,
    DeleteRule,
    DisallowRule,
    MatchRule,
    ModifyRule,
    RequireRule,
    Rule,
    parse_rule,
    parse_rules,
    rule_to_list,
    rule_to_str,
)

ACCEPTED: list[tuple[list[str], Rule]] = [
    (["CREATE", "foo"], CreateRule("foo")),
    (["create", "foo"], CreateRule("foo")),
    (["DELETE", "*.c"], DeleteRule("*.c")),
    (["Modify", "a/b"], ModifyRule("a/b")),
    (["ALLOW", "*"], AllowRule("*")),
    (["DISALLOW", "*"], DisallowRule("*")),
    (["REQUIRE", "setup.py"], RequireRule("setup.py")),
    (
        ["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"],
        MatchRule(
            pattern="*", source_prefix="", dest_type="products", dest_prefix="", dest_name="build"
        ),
    ),
    (
        ["match", "*", "in", "Src", "with", "materials", "from", "Fetch"],
        MatchRule(
            pattern="*",
            source_prefix="Src",
            dest_type="materials",
            dest_prefix="",
            dest_name="Fetch",
        ),
    ),
    (
        ["MATCH", "*.py", "WITH", "PRODUCTS", "IN", "dist", "FROM", "build"],
        MatchRule(
            pattern="*.py",
            source_prefix="",
            dest_type="products",
            dest_prefix="dist",
            dest_name="build",
        ),
    ),
    (
        ["MATCH", "x", "IN", "a", "WITH", "PRODUCTS", "IN", "b", "FROM", "s"],
        MatchRule(
            pattern="x", source_prefix="a", dest_type="products", dest_prefix="b", dest_name="s"
        ),
    ),
]


@pytest.mark.parametrize(("words", "expected"), ACCEPTED)
def test_parses(words: list[str], expected: Rule) -> None:
    assert parse_rule(words, where="r") == expected


@pytest.mark.parametrize(("words", "expected"), ACCEPTED)
def test_round_trips_through_list_form(words: list[str], expected: Rule) -> None:
    assert parse_rule(rule_to_list(expected), where="r") == expected
    assert rule_to_list(expected)[0].isupper()


REFUSED: list[tuple[object, str]] = [
    ("CREATE foo", "a rule must be a list of strings"),
    (["CREATE", 1], "a rule must be a list of strings"),
    (["CREATE"], "needs a keyword and a pattern"),
    ([], "needs a keyword and a pattern"),
    (["CREATE", "a", "b"], "CREATE takes exactly one pattern"),
    (["REQUIRE", "a", "b"], "REQUIRE takes exactly one pattern"),
    (["COPY", "a"], "unknown rule keyword 'COPY'"),
    (["CREATE", ""], "empty pattern"),
    (["CREATE", "a\x00b"], "NUL in pattern"),
    (["MATCH", "*", "WITH", "PRODUCTS"], "MATCH must read"),
    (["MATCH", "*", "WITH", "ARTIFACTS", "FROM", "x"], "MATERIALS or PRODUCTS"),
    (["MATCH", "*", "WITH", "PRODUCTS", "FROM"], "MATCH must read"),
    (["MATCH", "*", "WITH", "PRODUCTS", "FROM", ""], "needs a step name"),
    (["MATCH", "*", "IN", "WITH", "PRODUCTS", "FROM", "x"], "MATCH must read"),
    (["MATCH", "*", "WITH", "PRODUCTS", "IN", "FROM", "x"], "MATCH must read"),
    (["MATCH", "*", "WITH", "PRODUCTS", "FROM", "x", "extra"], "MATCH must read"),
]


@pytest.mark.parametrize(("words", "reason"), REFUSED)
def test_refuses_with_location(words: object, reason: str) -> None:
    with pytest.raises(MetadataError) as info:
        parse_rule(words, where="steps[1].expected_products[2]")
    message = str(info.value)
    assert message.startswith("steps[1].expected_products[2]: ")
    assert reason in message


def test_parse_rules_locates_the_failing_rule() -> None:
    with pytest.raises(MetadataError, match=r"^steps\[0\]\.expected_materials\[1\]: unknown"):
        parse_rules([["ALLOW", "*"], ["NOPE", "x"]], where="steps[0].expected_materials")


def test_rule_to_str_reads_like_the_spec() -> None:
    rule = parse_rule(["match", "*", "with", "products", "from", "build"], where="r")
    assert rule_to_str(rule) == "MATCH * WITH PRODUCTS FROM build"
