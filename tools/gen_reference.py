"""Generate docs/reference.md from the real argument parsers.

    python -m tools.gen_reference            # rewrite docs/reference.md
    python -m tools.gen_reference --check    # exit 1 if docs/reference.md is out of date

tests/demo/test_reference_doc.py runs the check, so the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"
HEADER = Path(__file__).with_name("reference_header.md")


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    name = action.metavar or action.dest.upper()
    if isinstance(name, tuple):
        name = " ".join(name)
    if action.choices and not action.metavar:
        name = "{" + ",".join(map(str, action.choices)) + "}"
    if action.nargs == "?":
        return f" [{name}]"
    return f" {name}" + ("…" if action.nargs in ("+", "*") else "")


def _rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        text = (action.help or "").replace("%(default)s", str(action.default)).replace("|", "\\|")
        if action.option_strings:
            names = ", ".join(f"`{flag}`" for flag in action.option_strings)
            meta = _metavar(action).replace("|", "\\|")
            required = " (required)" if action.required else ""
            rows.append(f"| {names}{meta} | {text}{required} |")
        else:
            rows.append(f"| `{action.metavar or action.dest}` (positional) | {text} |")
    return rows


def _section(
    name: str, parser: argparse.ArgumentParser, helps: dict[str, str], level: int
) -> list[str]:
    out = [f"{'#' * level} `intoto-pip {name}`", ""]
    summary = helps.get(name)
    if parser.description:
        out += [" ".join(parser.description.split()), ""]
    elif summary:
        out += [summary[0].upper() + summary[1:] + ".", ""]
    raw = parser.format_usage().rstrip().split("\n")
    usage = "\n".join([raw[0].replace("usage: ", ""), *("    " + line.strip() for line in raw[1:])])
    out += ["```text", usage, "```", ""]
    rows = _rows(parser)
    if rows:
        out += ["| flag | meaning |", "|---|---|", *rows, ""]
    if parser.epilog:
        out += ["```text", parser.epilog.rstrip(), "```", ""]
    children = _subparsers(parser)
    if children:
        for child, child_parser in children.choices.items():
            out += _section(f"{name} {child}", child_parser, helps, level + 1)
    return out


def render() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps usage lines by the terminal width
    from intoto_pip import __version__
    from intoto_pip.cli.main import build_parser

    top = _subparsers(build_parser())
    assert top is not None
    helps = {choice.dest: choice.help or "" for choice in top._choices_actions}
    for name, parser in top.choices.items():
        children = _subparsers(parser)
        for choice in children._choices_actions if children else ():
            helps[f"{name} {choice.dest}"] = choice.help or ""
    index = "\n".join(
        f"| [`{choice.dest}`](#intoto-pip-{choice.dest}) | {choice.help} |"
        for choice in top._choices_actions
    )
    header = HEADER.read_text(encoding="utf-8").replace("VERSION", __version__)
    lines: list[str] = []
    for name, parser in top.choices.items():
        lines += _section(name, parser, helps, 2)
    return header.replace("INDEX", index) + "\n" + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate docs/reference.md")
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        if REFERENCE.read_text(encoding="utf-8") != text:
            print(
                "docs/reference.md is out of date: run python -m tools.gen_reference",
                file=sys.stderr,
            )
            return 1
        return 0
    REFERENCE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
