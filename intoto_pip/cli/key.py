"""``intoto-pip key show PUB``: print a public key as in-toto metadata names it."""

from __future__ import annotations

import argparse

NAME = "key"
EXAMPLE = """example:
  intoto-pip key show alice.pub
  {"key": {"keyid": "...", "keytype": "ed25519", "keyval": {"public": "..."}, "scheme": ...},
   "keyid": "..."}
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        NAME,
        help="show a public key's in-toto key dict and keyid",
        description="Inspect keys.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="key_action", metavar="show", required=True)
    show = actions.add_parser(
        "show",
        help="print {keyid, key} as JSON",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("public_key", metavar="PUB", help="PEM public key (SubjectPublicKeyInfo)")
    show.set_defaults(handler=run)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from intoto_pip.crypto.keys import load_public_key

    key = load_public_key(Path(args.public_key))
    print(json.dumps({"keyid": key.keyid, "key": key.to_keydict()}, indent=2, sort_keys=True))
    return 0
