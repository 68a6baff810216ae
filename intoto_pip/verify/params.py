"""Parameter substitution: plain ``{NAME}`` placeholders only.

The reference runs ``str.format(**params)`` over every rule word, expected command and
inspection command, which also allows indexing, attribute access and format specs. We
replace ``{IDENT}`` and nothing else; ``{{`` and ``}}`` are literal braces, any other brace is
a refusal, and so is a placeholder with no value. Values come from the user or from an
archive's file name (``NAME``, ``VERSION``, ``ARCHIVE``), so one check applies to both: values
that would turn a literal name into a wildcard (``*?[]``), climb out of a folder (``..``), cut a
string short (NUL or another control character), or change the meaning of a shell command an
inspection runs (whitespace and ``;&|`$<>()'"`` and backslash) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from intoto_pip.errors import InputError, MetadataError, VerificationError
from intoto_pip.models.layout import Inspection, Layout, Step
from intoto_pip.models.rules import MatchRule, Rule

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# Set by intoto-pip itself, from nothing the user or the archive chose: PYTHON is the verifying
# interpreter's path, which may hold a space ("Program Files") and is checked by nobody else.
OWN_PARAMS = frozenset({"PYTHON"})
_GLOB = ("*", "?", "[", "]")
_SHELL = (";", "&", "|", "`", "$", "<", ">", "(", ")", "'", '"', "\\")


def value_problem(value: str) -> str | None:
    """Why ``value`` may not be substituted (None when it may): the one check for values."""
    if "\x00" in value:
        return "NUL"
    if ".." in value:
        return "'..'"
    for char in value:
        if char.isspace() or not char.isprintable():
            return f"{char!r} (whitespace or a control character)"
        if char in _GLOB:
            return f"{char!r} (a glob character)"
        if char in _SHELL:
            return f"{char!r} (a shell metacharacter)"
    return None


def check_param(name: str, value: str) -> None:
    """Refuse a parameter the user gave that substitution could misuse (InputError)."""
    if not _IDENT.match(name):
        raise InputError(f"parameter name {name!r} must be a plain identifier (letters, _, digits)")
    problem = value_problem(value)
    if problem:
        raise InputError(f"parameter {name}: value {value!r} must not contain {problem}")


def parse_param_args(items: Iterable[str]) -> dict[str, str]:
    """Turn repeated ``NAME=VALUE`` arguments into a dict; refuse repeats and bad values."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--param {item!r}: expected NAME=VALUE")
        if name in params:
            raise InputError(f"--param {name} is given more than once")
        check_param(name, value)
        params[name] = value
    return params


def substitute(text: str, params: Mapping[str, str], *, where: str) -> str:
    """Replace ``{NAME}`` in ``text``; ``where`` names the field in error messages."""
    if "{" not in text and "}" not in text:
        return text

    def replace_token(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name is None:
            raise MetadataError(f"{where}: unmatched {token!r} in {text!r} (write {token * 2})")
        if not _IDENT.match(name):
            raise MetadataError(
                f"{where}: placeholder {{{name}}} in {text!r} is not a plain {{NAME}}"
            )
        if name not in params:
            raise VerificationError(f"{where}: no value for parameter {{{name}}} (use --param)")
        return params[name]

    return _TOKEN.sub(replace_token, text)


def _rule(rule: Rule, params: Mapping[str, str], where: str) -> Rule:
    if isinstance(rule, MatchRule):
        return replace(
            rule,
            pattern=substitute(rule.pattern, params, where=where),
            source_prefix=substitute(rule.source_prefix, params, where=where),
            dest_prefix=substitute(rule.dest_prefix, params, where=where),
            dest_name=substitute(rule.dest_name, params, where=where),
        )
    return replace(rule, pattern=substitute(rule.pattern, params, where=where))


def _rules(rules: tuple[Rule, ...], params: Mapping[str, str], where: str) -> tuple[Rule, ...]:
    return tuple(_rule(rule, params, f"{where}[{index}]") for index, rule in enumerate(rules))


def _words(words: tuple[str, ...], params: Mapping[str, str], where: str) -> tuple[str, ...]:
    return tuple(substitute(word, params, where=f"{where}[{i}]") for i, word in enumerate(words))


def _step(step: Step, params: Mapping[str, str]) -> Step:
    where = f"step {step.name!r}"
    return replace(
        step,
        expected_materials=_rules(step.expected_materials, params, f"{where} expected_materials"),
        expected_products=_rules(step.expected_products, params, f"{where} expected_products"),
        expected_command=_words(step.expected_command, params, f"{where} expected_command"),
    )


def _inspection(inspection: Inspection, params: Mapping[str, str]) -> Inspection:
    where = f"inspection {inspection.name!r}"
    return replace(
        inspection,
        run=_words(inspection.run, params, f"{where} run"),
        expected_materials=_rules(
            inspection.expected_materials, params, f"{where} expected_materials"
        ),
        expected_products=_rules(
            inspection.expected_products, params, f"{where} expected_products"
        ),
    )


def substitute_layout(layout: Layout, params: Mapping[str, str]) -> Layout:
    """A copy of ``layout`` with parameters substituted where the reference substitutes them."""
    for name, value in params.items():
        if name not in OWN_PARAMS:
            check_param(name, value)
    return replace(
        layout,
        steps=tuple(_step(step, params) for step in layout.steps),
        inspect=tuple(_inspection(inspection, params) for inspection in layout.inspect),
    )
