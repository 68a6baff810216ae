"""``intoto-pip layout create LAYOUT.toml -o root.layout -k KEY...``: layouts without Python."""

from __future__ import annotations

import argparse

NAME = "layout"
EXAMPLE = """example:
  intoto-pip layout create layout.toml -o root.layout -k owner

The TOML format is described in layout-toml.md (intoto-pip --help names its folder).
Public key files named in the TOML are found relative to the TOML file.
Errors name the TOML file and line.
A layout must be signed: give -k (several allowed), or --unsigned to write an envelope
without signatures for a later 'intoto-pip sign -f root.layout -k ...'.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli import _producer as flags
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="create a signed layout from a TOML description",
        description="Work with layouts.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="layout_action", metavar="create", required=True)
    create = actions.add_parser(
        "create",
        help="compile LAYOUT.toml into a signed layout",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument("toml", metavar="LAYOUT.toml", help="the layout in TOML form")
    create.add_argument("-o", "--output", required=True, metavar="PATH", help="layout to write")
    create.add_argument(
        "-k", "--key", nargs="+", action="extend", default=[], metavar="PEM",
        help="project owner's private key(s) to sign with",
    )  # fmt: skip
    flags.add_password(create)
    create.add_argument(
        "--unsigned", action="store_true", help="write the layout without signatures"
    )
    flags.add_dsse(create)
    add_verbosity(create)
    create.set_defaults(handler=run)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intoto_pip.cli import _producer as flags
    from intoto_pip.errors import InputError
    from intoto_pip.models.layout import format_expires
    from intoto_pip.produce.common import sign_and_write
    from intoto_pip.produce.layout_toml import load_layout_toml

    if not args.key and not args.unsigned:
        raise InputError("a layout must be signed: give -k KEY (or --unsigned to sign later)")
    if args.key and args.unsigned:
        raise InputError("give either -k or --unsigned, not both")
    layout = load_layout_toml(Path(args.toml))
    signers = flags.load_signers(args, args.key)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)  # our own command: no folder to make first
    sign_and_write(layout.to_dict(), signers, dsse=args.use_dsse, path=output)
    if not args.quiet:
        signed = f"signed by {len(signers)} key(s)" if signers else "unsigned"
        expires = format_expires(layout.expires)
        print(
            f"{output}: layout with {len(layout.steps)} step(s) and "
            f"{len(layout.inspect)} inspection(s), {signed}, expires {expires}"
        )
    return 0
