"""``intoto-pip``: dispatch to one module per subcommand.

Subcommand modules import only argparse at module level and load the library inside
``run()``, so ``intoto-pip --version`` stays close to the interpreter's own start-up.
"""

from __future__ import annotations

import sys

from intoto_pip import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

# subcommand -> module exposing add_parser(subparsers) and run(args) -> int
COMMANDS: dict[str, str] = {
    "install": "intoto_pip.cli.install",
    "check": "intoto_pip.cli.check",
    "lock": "intoto_pip.cli.lock",
    "verify": "intoto_pip.cli.verify",
    "run": "intoto_pip.cli.run",
    "record": "intoto_pip.cli.record",
    "sign": "intoto_pip.cli.sign",
    "keygen": "intoto_pip.cli.keygen",
    "key": "intoto_pip.cli.key",
    "layout": "intoto_pip.cli.layout",
    "match-products": "intoto_pip.cli.match_products",
    "mock": "intoto_pip.cli.mock",
    "attach": "intoto_pip.cli.attach",
    "demo": "intoto_pip.cli.demo",
    "provenance": "intoto_pip.cli.provenance",
    "trust": "intoto_pip.cli.trust",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's (start-up: one module imported)."""
    # Imported here, not at module level: ``--version`` must not pay for argparse.
    import argparse
    import importlib

    from intoto_pip.cli._common import docs_folder

    parser = argparse.ArgumentParser(
        prog="intoto-pip",
        description="in-toto supply-chain verification for Python packages.",
        epilog=(
            "Exit codes: 0 verified/done, 1 not verified, 2 usage or unreadable input, "
            f"3 a fault of the machine. Guides: {docs_folder()}/ (consumer-guide.md, "
            "producer-guide.md, layout-toml.md, migration.md, reference.md)."
        ),
    )
    parser.add_argument("-V", "--version", action="version", version=f"intoto-pip {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for unexpected errors"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def _chosen_command(args: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if it is a known one (top-level options
    take no value, so it is the first argument that is not an option)."""
    for arg in args:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _unknown_command(args: Sequence[str]) -> str | None:
    """A message for a first positional argument that is no subcommand, with a suggestion."""
    first = next((arg for arg in args if not arg.startswith("-")), None)
    if first is None or first in COMMANDS:
        return None
    import difflib

    close = difflib.get_close_matches(first, list(COMMANDS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown command {first!r}{hint}; the commands are: {', '.join(COMMANDS)}"


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list in (["--version"], ["-V"]):
        # Fast path: no parser construction, no subcommand imports.
        print(f"intoto-pip {__version__}")
        return 0
    import gc

    # The cycle collector's full passes over large link trees (100,000s of small objects
    # that are never garbage) cost 10-15 % of a verification; collect 70 times less often.
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        return _dispatch(args_list)
    finally:
        gc.set_threshold(*thresholds)


def _dispatch(args_list: list[str]) -> int:
    chosen = _chosen_command(args_list)
    parser = build_parser(chosen)
    unknown = _unknown_command(args_list)
    if unknown is not None:
        parser.error(unknown)
    args, extra = parser.parse_known_args(args_list)
    if extra:
        # Say it with the subcommand's usage, not the top-level one: that is where the flag is.
        where = parser if chosen is None else _subparser(parser, chosen)
        where.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 2
    from intoto_pip.cli._common import run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
