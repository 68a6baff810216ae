"""The command line keeps DESIGN §6's contract, and docs/reference.md documents all of it.

The reference is generated from the real parsers; this test fails when a command or flag is
added, renamed or left without help text or an example, so the doc cannot drift from the code.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from intoto_pip.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"

# DESIGN §6: the commands and the flags each must accept (names users and scripts rely on).
CONTRACT: dict[str, set[str]] = {
    "install": {
        "-r", "--index-url", "--extra-index-url", "--find-links", "--no-index", "--no-deps",
        "--upgrade", "--pre", "--python", "--target", "--prefix", "--dry-run", "--report",
        "--layout-key", "--policy", "--allow-unverified", "--no-binary",
        "--inspection-timeout", "-q", "-v",
    },
    "verify": {
        "--layout-key", "--policy", "--metadata", "--param", "--layout", "-l", "--link-dir",
        "--inspection-timeout", "--json", "--verification-keys",
    },
    "run": {
        "-n", "--signing-key", "-m", "-p", "-s", "-x", "-d", "--exclude", "--base-path",
        "--lstrip-paths", "--use-dsse",
    },
    "record start": {"-n", "--signing-key", "-m", "--use-dsse"},
    "record stop": {"-n", "--signing-key", "-p", "-d", "--use-dsse"},
    "sign": {"-f", "-k", "-o", "-a", "--verify"},
    "keygen": {"--type"},
    "key show": set(),
    "layout create": {"-o", "-k"},
    "match-products": set(),
    "mock": set(),
    "attach": {"--layout", "--link-dir"},
    "demo": {"--keep", "-q"},
}  # fmt: skip


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command a user can run, sub-commands included ('record start')."""
    for name, parser in _subparsers(build_parser()).items():
        children = _subparsers(parser)
        if not children:
            yield name, parser
        for child, child_parser in children.items():
            yield f"{name} {child}", child_parser


def visible_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if action.option_strings
        and action.help != argparse.SUPPRESS
        and not isinstance(action, argparse._HelpAction)
    ]


COMMANDS = dict(commands())


def test_every_command_of_the_contract_exists() -> None:
    assert set(CONTRACT) <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_flags_are_accepted(name: str) -> None:
    flags = {flag for action in COMMANDS[name]._actions for flag in action.option_strings}
    assert CONTRACT[name] - flags == set()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_reference_documents_the_command_and_each_flag(name: str) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    assert f"`intoto-pip {name}`" in text
    for action in visible_options(COMMANDS[name]):
        for flag in action.option_strings:
            assert f"`{flag}`" in text, f"docs/reference.md does not mention {name} {flag}"


def test_reference_lists_the_exit_codes() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for row in ("| 0 |", "| 1 |", "| 2 |"):
        assert row in text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_flag_has_help_text(name: str) -> None:
    parser = COMMANDS[name]
    positionals = [action for action in parser._actions if not action.option_strings]
    actions = visible_options(parser) + positionals
    bare = [(action.option_strings or [action.dest])[0] for action in actions if not action.help]
    assert bare == [], f"intoto-pip {name}: flags without help text"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_an_example(name: str) -> None:
    epilog = COMMANDS[name].epilog or ""
    assert f"intoto-pip {name}" in epilog, f"intoto-pip {name} --help shows no example"
