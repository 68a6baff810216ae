"""``intoto-pip trust list|forget NAME``: the publishers recorded on first use (tofu)."""

from __future__ import annotations

import argparse

NAME = "trust"
EXAMPLE = """\
examples:
  intoto-pip trust list
  intoto-pip trust forget pypi-attestations

The trust store is $XDG_DATA_HOME/intoto-pip/publishers.toml (default
~/.local/share/intoto-pip/publishers.toml). `install --provenance tofu` records the first
verified publisher of each project there, and refuses a later release from another publisher
or without provenance. Forget a project only when you know why its publisher changed.

exit codes: 0 done, 1 forget: the project was not recorded, 2 usage error or unreadable store
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="list or forget the publishers recorded on first use (--provenance tofu)",
        description="Show or edit the trust store of first-seen publishers.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "action", choices=["list", "forget"], help="list the store, or forget one project"
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="forget: the project to forget")
    p.add_argument("--json", action="store_true", help="list: print the store as JSON")
    add_verbosity(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from intoto_pip.errors import InputError
    from intoto_pip.verify.publishers import default_store_path

    path = default_store_path()
    if args.action == "list":
        if args.name:
            raise InputError("trust list takes no NAME")
        return _list(path, as_json=args.json)
    if not args.name:
        raise InputError("trust forget needs the NAME of a project")
    return _forget(path, args.name, quiet=args.quiet)


def _list(path: object, *, as_json: bool) -> int:
    import json
    from pathlib import Path

    from intoto_pip.verify.publishers import load_store

    store = load_store(Path(str(path)))
    if as_json:
        rows = {
            name: {
                **entry.identity.to_dict(),
                "first-file": entry.first_file,
                "recorded": entry.recorded,
            }
            for name, entry in sorted(store.items())
        }
        print(json.dumps(rows, indent=2))
        return 0
    if not store:
        print(f"no publisher recorded ({path})")
    for name, entry in sorted(store.items()):
        print(
            f"{name}: {entry.identity.describe()} "
            f"(first seen with {entry.first_file}, {entry.recorded})"
        )
    return 0


def _forget(path: object, name: str, *, quiet: bool) -> int:
    import sys
    from pathlib import Path

    from intoto_pip.verify.publishers import forget

    if not forget(Path(str(path)), name):
        print(f"intoto-pip: error: {name} is not in the trust store ({path})", file=sys.stderr)
        return 1
    if not quiet:
        print(f"forgot the publisher of {name}; its next release will be recorded anew")
    return 0
