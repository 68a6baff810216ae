"""``intoto-pip keygen NAME``: write a key pair, NAME (PKCS#8, mode 0600) and NAME.pub (SPKI)."""

from __future__ import annotations

import argparse

NAME = "keygen"
EXAMPLE = """examples:
  intoto-pip keygen alice                      # ed25519, unencrypted
  intoto-pip keygen owner --type rsa -P        # prompts for a password (asked twice)
  intoto-pip keygen ci --type ecdsa --password "$KEY_PASSWORD"

Prints the new key's keyid. Existing files are never replaced unless --force is given.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        NAME,
        help="generate a key pair (NAME and NAME.pub)",
        description="Generate a private key NAME (PEM PKCS#8, readable by you only) and its "
        "public key NAME.pub (PEM SubjectPublicKeyInfo).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help="path of the private key file to write")
    p.add_argument(
        "-t", "--type", choices=("ed25519", "rsa", "ecdsa"), default="ed25519",
        help="key type (default ed25519; rsa is 3072-bit, ecdsa is NIST P-256)",
    )  # fmt: skip
    p.add_argument(
        "-P", "--password", nargs="?", const=True, metavar="PASSWORD",
        help="encrypt the private key; -P alone prompts for the password",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="replace existing key files")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intoto_pip.errors import InputError
    from intoto_pip.produce.keygen import public_key_path, write_key_pair

    password = args.password
    if password is True:
        from getpass import getpass

        password = getpass("Password for the new key: ")
        if password != getpass("Repeat the password: "):
            raise InputError("the passwords differ")
    path = Path(args.name)
    key = write_key_pair(path, args.type, password=password, overwrite=args.force)
    print(f"{key.keyid}  {path}  {public_key_path(path)}")
    return 0
