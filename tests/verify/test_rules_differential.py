"""Differential tests: our rule parser, engine and substitution against the reference 3.x.

Random small artifact sets, random rule lists drawn from the awkward corners (prefixes with
and without a trailing slash, hidden files, case, ``?`` and ``[...]``, MATCH against a missing
link, against the item itself, against another inspection), and the queue after every rule
must be the same set in both. The reference is imported here only: it is a test dependency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intoto_pip.errors import MetadataError, VerificationError
from intoto_pip.models.link import Link
from intoto_pip.models.rules import parse_rule, parse_rules, rule_to_list
from intoto_pip.verify.params import substitute
from intoto_pip.verify.result import ArtifactRuleError
from intoto_pip.verify.rules import RuleSubject, verify_item_rules

reference_verifylib = pytest.importorskip("in_toto.verifylib")
reference_rulelib = pytest.importorskip("in_toto.rulelib")
reference_link = pytest.importorskip("in_toto.models.link")
reference_exceptions = pytest.importorskip("in_toto.exceptions")
FormatError = pytest.importorskip("securesystemslib.exceptions").FormatError

DIFFERENTIAL = settings(max_examples=300, deadline=None)

SEGMENTS = ["a", "b", "A", ".h", "a.py", "[x]", "x?", "sub"]
PATTERNS = [
    "*", "a", "A", "*.py", "a/*", "*/a", "?", "??", "[ab]", "[!a]*", ".*", "*h", "A*", "[x]",
    "x?", "*a*", "sub/*", "*/*", "b/", "a/b", "[A-Z]*", "[", "*[", "]",
]  # fmt: skip
PREFIXES = ["", "a", "a/", "sub", "sub/", "b", "A", ".h", "a/b", "*", "s"]
NAMES = ["subject", "other", "missing", "probe"]
DIGESTS = [{"sha256": hashlib.sha256(text.encode()).hexdigest()} for text in "xy"]

names = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map("/".join)
artifacts = st.dictionaries(names, st.sampled_from(DIGESTS), max_size=6)
subject_artifacts = st.dictionaries(names, st.sampled_from(DIGESTS), min_size=1, max_size=6)


@st.composite
def rule_words(draw: st.DrawFn) -> list[str]:
    verb = draw(st.sampled_from(["CREATE", "DELETE", "MODIFY", "ALLOW", "DISALLOW", "REQUIRE",
                                 "MATCH", "MATCH", "MATCH"]))  # fmt: skip
    pattern = draw(st.one_of(st.just("*"), st.sampled_from(PATTERNS), names))
    if verb != "MATCH":
        if verb == "REQUIRE" and draw(st.booleans()):
            pattern = draw(names)  # a name that may be in the queue
        return [verb, pattern]
    words = ["MATCH", draw(st.one_of(st.just("*"), st.just(pattern)))]
    # Prefix pairs that line up with how ``chains`` copies artifacts, then any pair at all.
    source, dest = draw(
        st.one_of(
            st.sampled_from([("", ""), ("", "a"), ("", "a/"), ("a", ""), ("sub/", ""), ("a", "a")]),
            st.tuples(st.sampled_from(PREFIXES), st.sampled_from(PREFIXES)),
        )
    )
    if source:
        words += ["IN", source]
    words += ["WITH", draw(st.sampled_from(["MATERIALS", "PRODUCTS"]))]
    if dest:
        words += ["IN", dest]
    return [*words, "FROM", draw(st.sampled_from([*NAMES, "other"]))]


@st.composite
def chains(draw: st.DrawFn) -> tuple[dict[str, Link], str, list[list[str]]]:
    links = {
        name: Link(name=name, materials=draw(artifacts), products=draw(artifacts))
        for name in NAMES
        if name not in ("missing", "subject")
    }
    links["subject"] = Link(
        name="subject", materials=draw(subject_artifacts), products=draw(subject_artifacts)
    )
    # Make MATCH find something now and then: the other links copy some of the subject's
    # artifacts, as they are or moved into or out of a folder (for MATCH ... IN).
    subject = links["subject"]
    for name in ("other", "probe"):
        source = draw(st.sampled_from([subject.materials, subject.products]))
        move = draw(st.sampled_from([_same, _into_a, _out_of_first]))
        shared = {move(path): hashes for path, hashes in source.items()}
        links[name] = Link(
            name=name,
            materials={**links[name].materials, **shared},
            products={**shared, **links[name].products},
        )
    field = draw(st.sampled_from(["materials", "products"]))
    return links, field, draw(st.lists(rule_words(), max_size=6))


def _same(path: str) -> str:
    return path


def _into_a(path: str) -> str:
    return f"a/{path}"


def _out_of_first(path: str) -> str:
    return path.partition("/")[2] or path


def _reference_queues(
    links: Mapping[str, Link], field: str, rules: list[list[str]]
) -> tuple[list[set[str]], int | None]:
    """The reference's queue after each rule, and the index of the rule that refused."""
    theirs = {
        name: reference_link.Link(
            name=name, materials=dict(link.materials), products=dict(link.products)
        )
        for name, link in links.items()
    }
    failed: int | None = None
    try:
        reference_verifylib.verify_item_rules("subject", field, rules, theirs)
    except reference_exceptions.RuleVerificationError:
        failed = len(reference_verifylib.RULE_TRACE["trace"])
    queues = [set(entry["queue"]) for entry in reference_verifylib.RULE_TRACE["trace"]]
    return queues, failed


def _our_queue(links: Mapping[str, Link], field: str, rules: list[list[str]]) -> set[str]:
    """Our queue after ``rules``: what a trailing ``DISALLOW *`` finds."""
    subject = RuleSubject(
        item="subject",
        kind="step",
        field="expected_materials" if field == "materials" else "expected_products",
        link=links["subject"],
    )
    parsed = parse_rules([*rules, ["DISALLOW", "*"]], where="differential")
    try:
        verify_item_rules(subject, parsed, links)
    except ArtifactRuleError as caught:
        assert caught.outcome.index == len(rules), caught
        return set(caught.outcome.offending)
    return set()


def _our_failure(links: Mapping[str, Link], field: str, rules: list[list[str]]) -> int | None:
    subject = RuleSubject(
        item="subject",
        kind="step",
        field="expected_materials" if field == "materials" else "expected_products",
        link=links["subject"],
    )
    try:
        verify_item_rules(subject, parse_rules(rules, where="differential"), links)
    except ArtifactRuleError as caught:
        return caught.outcome.index
    return None


@DIFFERENTIAL
@given(chains())
def test_item_rules_agree_with_the_reference(
    chain: tuple[dict[str, Link], str, list[list[str]]],
) -> None:
    links, field, rules = chain
    queues, failed = _reference_queues(links, field, rules)
    assert _our_failure(links, field, rules) == failed
    for index, queue in enumerate(queues):
        # The reference records the queue after a refusing rule too; ours stops there.
        if failed is not None and index == failed:
            break
        assert _our_queue(links, field, rules[: index + 1]) == queue, rules[: index + 1]


def test_the_generator_reaches_matches_refusals_and_passes() -> None:
    # Guards the differential test against a generator that never consumes through MATCH.
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(chains())
    def sample(chain: tuple[dict[str, Link], str, list[list[str]]]) -> None:
        links, field, rules = chain
        queues, failed = _reference_queues(links, field, rules)
        seen.add("refused" if failed is not None else "passed")
        before = set(getattr(links["subject"], field))
        for rule, queue in zip(rules, queues, strict=False):
            if rule[0] == "MATCH" and queue != before:
                seen.add("IN match" if "IN" in rule else "match")
            before = queue

    sample()
    assert {"refused", "passed", "match", "IN match"} <= seen, seen


WORDS = [
    "MATCH", "match", "Match", "IN", "in", "WITH", "with", "PRODUCTS", "products", "MATERIALS",
    "Materials", "FROM", "from", "CREATE", "create", "DELETE", "MODIFY", "ALLOW", "DISALLOW",
    "REQUIRE", "require", "*", "src", "build", "x", "PRODUCT",
]  # fmt: skip


def _reference_form(words: list[str]) -> dict[str, str] | None:
    try:
        data = reference_rulelib.unpack_rule(words)
    except FormatError:
        return None
    return dict(data)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=11))
def test_rule_parsing_agrees_with_the_reference(words: list[str]) -> None:
    theirs = _reference_form(words)
    try:
        ours = parse_rule(words, where="differential")
    except MetadataError:
        assert theirs is None, words
        return
    assert theirs is not None, words
    # Our canonical list form must mean the same to the reference.
    assert _reference_form(rule_to_list(ours)) == theirs


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="{}NAME_x0 ", max_size=14))
def test_substitution_agrees_with_str_format_on_plain_placeholders(text: str) -> None:
    # The reference runs str.format(**params); with no ':', '!', '.' or '[' in the text we
    # must succeed exactly when it does, with the same result.
    params = {"NAME": "demo", "x": "{NAME}"}
    try:
        expected: str | None = text.format(**params)
    except (ValueError, KeyError, IndexError):
        expected = None
    try:
        ours: str | None = substitute(text, params, where="differential")
    except VerificationError:
        ours = None
    assert ours == expected, text
