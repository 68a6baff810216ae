"""``intoto-pip sign``: sign a link or layout again, or check its signatures (in-toto-sign)."""

from __future__ import annotations

import argparse

NAME = "sign"
EXAMPLE = """examples:
  intoto-pip sign -f unsigned.layout -k owner1 owner2 -o root.layout
  intoto-pip sign -f root.layout -k owner3 -a            # add a signature to a layout
  intoto-pip sign -f package.link -k alice               # writes package.<keyid[:8]>.link
  intoto-pip sign -f root.layout -k owner1.pub owner2.pub --verify
  intoto-pip sign -f root.layout --gpg 3BF8135765A07E21BD12BF89A5627F6BF439F3C2
  intoto-pip sign -f root.layout --gpg 3BF81357 --gpg-home ~/.gnupg --verify

Without -o, a layout is written over itself and a link to <step>.<keyid[:8]>.link.
A link takes exactly one key and no -a. The envelope format (Metablock or DSSE) is kept.
A layout without "expires" gets one a month from now (as in-toto-sign), with a warning.
--verify exits 0 when every given public key has a valid signature, 1 otherwise.
A file that is not link or layout metadata exits 2, as with in-toto-sign.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli import _producer as flags
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="sign a link or layout, or verify its signatures",
        description="Sign link or layout metadata (replacing or adding signatures), or "
        "verify its signatures, as in-toto-sign does.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-f", "--file", required=True, metavar="PATH", help="link or layout file")
    p.add_argument(
        "-k", "--key", nargs="+", action="extend", metavar="PEM",
        help="private keys to sign with, or public keys with --verify",
    )  # fmt: skip
    p.add_argument(
        "-g", "--gpg", nargs="*", metavar="KEYID",
        help="GPG keys to sign with through gpg (none given: gpg's default key), or to "
        "verify with (exported from the keyring)",
    )  # fmt: skip
    flags.add_gpg_home(p)
    p.add_argument(
        "-p", "--prompt", action="store_true", help="prompt for the private keys' password"
    )
    flags.add_password(p)
    p.add_argument("-o", "--output", metavar="PATH", help="where to write the signed file")
    p.add_argument(
        "-a", "--append", action="store_true", help="keep existing signatures (layouts only)"
    )
    p.add_argument("--verify", action="store_true", help="verify signatures instead of signing")
    add_verbosity(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intoto_pip.cli import _producer as flags
    from intoto_pip.errors import InputError
    from intoto_pip.produce.sign import sign_file, verify_file

    path = Path(args.file)
    if (args.key is None) == (args.gpg is None):
        raise InputError("give either -k/--key KEY... or --gpg [KEYID...], not both or neither")
    if args.verify:
        if args.append or args.output:
            raise InputError("--verify takes no --append or --output")
        verify_file(path, flags.verification_keys(args))
        flags.info(args, f"{path}: signatures verified")
        return 0
    if args.prompt and args.password is None:
        args.password = True
    signers = (
        flags.gpg_signers(args) if args.gpg is not None else flags.load_signers(args, args.key)
    )
    outcome = sign_file(
        path, signers, output=Path(args.output) if args.output else None, append=args.append
    )
    flags.warn_skipped(args, outcome.warnings)
    flags.info(args, f"wrote {outcome.path}")
    return 0
