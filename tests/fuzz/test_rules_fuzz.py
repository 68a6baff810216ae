"""Fuzzing the small languages inside a layout: artifact rules and ``{NAME}`` placeholders."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from intoto_pip.errors import MetadataError, VerificationError
from intoto_pip.models.rules import parse_rule, rule_to_list
from intoto_pip.verify.params import substitute
from tests.fuzz.budget import FUZZ

WORDS = st.sampled_from(
    [
        "MATCH",
        "match",
        "IN",
        "in",
        "WITH",
        "FROM",
        "PRODUCTS",
        "materials",
        "CREATE",
        "REQUIRE",
        "DISALLOW",
        "*",
        "src",
        "build",
        "",
        "\x00",
        "{NAME}",
    ]
)


@FUZZ
@given(st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=10))
def test_rules_parse_or_refuse_and_round_trip(words: list[str]) -> None:
    try:
        rule = parse_rule(words, where="fuzz")
    except MetadataError:
        return
    assert parse_rule(rule_to_list(rule), where="again") == rule


@FUZZ
@given(st.text(alphabet="{}NAME_x0.!:[]", max_size=16))
def test_placeholders_substitute_or_refuse(text: str) -> None:
    try:
        result = substitute(text, {"NAME": "demo"}, where="fuzz")
    except VerificationError:  # MetadataError for bad syntax, VerificationError for no value
        return
    assert "{NAME}" not in result or "{{NAME}}" in text
