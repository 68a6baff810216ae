"""Artifact rules, parsed once into typed objects.

A rule arrives as a list of strings (``["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"]``).
Keywords are case-insensitive, as in the reference; patterns, prefixes and step names keep
their case. Parsing happens when metadata is loaded, so a layout that exists is valid and the
rule engine never re-reads strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from intoto_pip.errors import MetadataError

ArtifactType = Literal["materials", "products"]


@dataclass(frozen=True, slots=True)
class CreateRule:
    pattern: str


@dataclass(frozen=True, slots=True)
class DeleteRule:
    pattern: str


@dataclass(frozen=True, slots=True)
class ModifyRule:
    pattern: str


@dataclass(frozen=True, slots=True)
class AllowRule:
    pattern: str


@dataclass(frozen=True, slots=True)
class DisallowRule:
    pattern: str


@dataclass(frozen=True, slots=True)
class RequireRule:
    """REQUIRE takes a single file name, not a pattern (as in the reference)."""

    pattern: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchRule:
    pattern: str
    source_prefix: str  # "" when the rule has no "IN" before "WITH"
    dest_type: ArtifactType
    dest_prefix: str  # "" when the rule has no "IN" after "WITH ..."
    dest_name: str


Rule = CreateRule | DeleteRule | ModifyRule | AllowRule | DisallowRule | RequireRule | MatchRule

_GENERIC: dict[str, type[CreateRule | DeleteRule | ModifyRule | AllowRule | DisallowRule]] = {
    "create": CreateRule,
    "delete": DeleteRule,
    "modify": ModifyRule,
    "allow": AllowRule,
    "disallow": DisallowRule,
}
_KEYWORD: dict[type[object], str] = {
    CreateRule: "CREATE",
    DeleteRule: "DELETE",
    ModifyRule: "MODIFY",
    AllowRule: "ALLOW",
    DisallowRule: "DISALLOW",
    RequireRule: "REQUIRE",
}
_MATCH_FORM = "MATCH <pattern> [IN <prefix>] WITH (MATERIALS|PRODUCTS) [IN <prefix>] FROM <step>"


def parse_rule(value: object, *, where: str) -> Rule:
    """Parse one rule (a list of strings); ``where`` locates it in error messages."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataError(f"{where}: a rule must be a list of strings")
    words: list[str] = value
    if len(words) < 2:
        raise MetadataError(f"{where}: a rule needs a keyword and a pattern, got {words!r}")
    verb = words[0].lower()
    if verb in _GENERIC or verb == "require":
        if len(words) != 2:
            raise MetadataError(f"{where}: {verb.upper()} takes exactly one pattern, got {words!r}")
        _check_pattern(words[1], where)
        if verb == "require":
            return RequireRule(words[1])
        return _GENERIC[verb](words[1])
    if verb == "match":
        return _parse_match(words, where)
    raise MetadataError(f"{where}: unknown rule keyword {words[0]!r}")


def _check_pattern(pattern: str, where: str) -> None:
    if pattern == "" or "\x00" in pattern:
        raise MetadataError(f"{where}: empty pattern or NUL in pattern {pattern!r}")


def _parse_match(words: list[str], where: str) -> MatchRule:
    lower = [word.lower() for word in words]
    source_prefix = ""
    index = 2
    if len(words) > 3 and lower[2] == "in":
        source_prefix = words[3]
        index = 4
    if len(words) < index + 4 or lower[index] != "with":
        raise MetadataError(f"{where}: MATCH must read {_MATCH_FORM}, got {words!r}")
    dest_type = lower[index + 1]
    if dest_type not in ("materials", "products"):
        raise MetadataError(f"{where}: MATCH needs MATERIALS or PRODUCTS after WITH")
    index += 2
    dest_prefix = ""
    if lower[index] == "in":
        dest_prefix = words[index + 1]
        index += 2
    if len(words) != index + 2 or lower[index] != "from":
        raise MetadataError(f"{where}: MATCH must read {_MATCH_FORM}, got {words!r}")
    _check_pattern(words[1], where)
    if not words[index + 1]:
        raise MetadataError(f"{where}: MATCH needs a step name after FROM")
    return MatchRule(
        pattern=words[1],
        source_prefix=source_prefix,
        dest_type="materials" if dest_type == "materials" else "products",
        dest_prefix=dest_prefix,
        dest_name=words[index + 1],
    )


def parse_rules(value: object, *, where: str) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise MetadataError(f"{where}: expected a list of rules")
    return tuple(parse_rule(item, where=f"{where}[{index}]") for index, item in enumerate(value))


def rule_to_list(rule: Rule) -> list[str]:
    """The reference's list form, with upper-case keywords."""
    if isinstance(rule, MatchRule):
        words = ["MATCH", rule.pattern]
        if rule.source_prefix:
            words += ["IN", rule.source_prefix]
        words += ["WITH", rule.dest_type.upper()]
        if rule.dest_prefix:
            words += ["IN", rule.dest_prefix]
        return [*words, "FROM", rule.dest_name]
    return [_KEYWORD[type(rule)], rule.pattern]


def rule_to_str(rule: Rule) -> str:
    return " ".join(rule_to_list(rule))
