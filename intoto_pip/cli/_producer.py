"""Flags and helpers shared by the producer subcommands (run, record, mock, sign, layout).

Imported only inside a subcommand's ``run()``, or for ``add_*`` at parser construction,
where it must stay light: argparse only at module level.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intoto_pip.artifacts.collect import RecordOptions
    from intoto_pip.crypto.keys import Signer, VerificationKey
    from intoto_pip.produce.gpg_signer import GpgOptions

EXCLUDE_HELP = (
    "gitignore-style patterns of paths not to record; they replace the default list "
    "'*.link*' '.git' '*.pyc' '*~'. To record everything, give --no-default-excludes "
    "(or, as with in-toto-run, --exclude '')"
)


def add_signing_key(
    parser: argparse.ArgumentParser, *, required: bool = True, gpg: bool = False
) -> None:
    """``--signing-key``; with ``gpg``, also ``-g/--gpg [KEYID]`` (then exactly one of them)."""
    parser.add_argument(
        "--signing-key",
        required=required and not gpg,
        metavar="PEM",
        help="functionary's private key (PEM: PKCS#8, or traditional RSA / SEC1 EC)"
        + ("; or give --gpg" if gpg else ""),
    )
    add_password(parser)
    if gpg:
        parser.add_argument(
            "-g",
            "--gpg",
            nargs="?",
            const=True,
            metavar="KEYID",
            help="sign with this GPG key (fingerprint or keyid) through gpg; --gpg alone: "
            "gpg's default key",
        )
        add_gpg_home(parser)


def add_gpg_home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gpg-home",
        metavar="DIR",
        help="GnuPG home folder of the keyring (default: gpg's own, e.g. $GNUPGHOME)",
    )


def gpg_options(args: argparse.Namespace) -> GpgOptions:
    from pathlib import Path

    from intoto_pip.produce.gpg_signer import GpgOptions

    home = getattr(args, "gpg_home", None)
    return GpgOptions(home=Path(home) if home else None)


def gpg_signers(args: argparse.Namespace) -> list[Signer]:
    """Signers for ``--gpg KEYID...``; ``--gpg`` alone: gpg's default key."""
    from intoto_pip.produce.gpg_signer import gpg_signer

    keyids: list[str | None] = list(args.gpg) or [None]
    return [gpg_signer(keyid, gpg_options(args)) for keyid in keyids]


def verification_keys(args: argparse.Namespace) -> list[VerificationKey]:
    """Public keys from ``-k PEM...`` or, exported from the keyring, ``--gpg KEYID...``."""
    from pathlib import Path

    from intoto_pip.crypto.keys import load_public_key
    from intoto_pip.errors import InputError
    from intoto_pip.produce.gpg_signer import export_keys

    if args.gpg is None:
        return [load_public_key(Path(key)) for key in args.key]
    if not args.gpg:
        raise InputError("verifying with --gpg needs the keyids: --gpg KEYID...")
    return list(export_keys(args.gpg, gpg_options(args)))


def step_signer(args: argparse.Namespace) -> Signer:
    """The one signer of ``run`` and ``record``: --signing-key PEM or --gpg [KEYID]."""
    from intoto_pip.errors import InputError
    from intoto_pip.produce.gpg_signer import gpg_signer

    if (args.gpg is None) == (args.signing_key is None):
        raise InputError("give either --signing-key PEM or --gpg [KEYID], not both or neither")
    if args.gpg is not None:
        if getattr(args, "use_dsse", False):
            raise InputError(
                "GPG signatures go into Metablock envelopes only: leave out --use-dsse"
            )
        keyid = None if args.gpg is True else str(args.gpg)
        return gpg_signer(keyid, gpg_options(args))
    if args.gpg_home:
        raise InputError("--gpg-home applies only with --gpg")
    return load_signers(args, [args.signing_key])[0]


def add_password(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-P",
        "--password",
        nargs="?",
        const=True,
        metavar="PASSWORD",
        help="password of an encrypted key; -P alone prompts for it",
    )


def add_record_options(parser: argparse.ArgumentParser, *, line_endings: bool = True) -> None:
    parser.add_argument(
        "--exclude", nargs="+", action="extend", metavar="PATTERN", help=EXCLUDE_HELP
    )
    parser.add_argument(
        "--no-default-excludes",
        action="store_true",
        help="record every file: no default exclude patterns (--exclude still applies)",
    )
    parser.add_argument(
        "--base-path",
        metavar="DIR",
        help="look up the given paths relative to DIR (DIR is not part of recorded names)",
    )
    parser.add_argument(
        "--lstrip-paths",
        nargs="+",
        action="extend",
        metavar="PREFIX",
        help="strip the first matching PREFIX from recorded names; prefixes must not "
        "overlap, and two files stripped to one name are refused",
    )
    if line_endings:
        parser.add_argument(
            "--normalize-line-endings",
            action="store_true",
            help="hash files with CRLF and CR turned into LF (same hashes on every platform)",
        )


def add_dsse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--use-dsse", action="store_true", help="write a DSSE envelope instead of a Metablock"
    )


def add_attestation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attestation",
        action="store_true",
        help="write an in-toto attestation (Statement v1, link predicate v0.3) in DSSE "
        "instead of a link; same file name",
    )


def record_options(args: argparse.Namespace) -> RecordOptions:
    from pathlib import Path

    from intoto_pip.artifacts.collect import DEFAULT_EXCLUDES, RecordOptions

    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    if args.exclude is not None:
        exclude = tuple(args.exclude)
    elif args.no_default_excludes:
        exclude = ()
    return RecordOptions(
        base_path=Path(args.base_path) if args.base_path else None,
        exclude=exclude,
        lstrip_paths=tuple(args.lstrip_paths or ()),
        normalize_line_endings=getattr(args, "normalize_line_endings", False),
    )


def password(args: argparse.Namespace, key: str) -> str | None:
    """The key's password: given, prompted for (-P alone), or None (an empty answer too)."""
    value = getattr(args, "password", None)
    if value is True:
        from getpass import getpass

        return getpass(f"Password for {key}: ") or None
    return value if isinstance(value, str) else None


def load_signers(args: argparse.Namespace, paths: Sequence[str]) -> list[Signer]:
    from pathlib import Path

    from intoto_pip.crypto.keys import load_signer

    return [load_signer(Path(path), password(args, path)) for path in paths]


def warn_skipped(args: argparse.Namespace, messages: Sequence[str]) -> None:
    if getattr(args, "quiet", False):
        return
    from intoto_pip.cli._common import warn

    for message in messages:
        warn(message)


def info(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr, shown with -v (stdout may carry the command's output)."""
    if getattr(args, "verbose", 0):
        print(f"intoto-pip: {message}", file=sys.stderr)


def echo(stream: str, chunk: bytes) -> None:
    """Pass a wrapped command's output through as it arrives."""
    target = sys.stdout if stream == "stdout" else sys.stderr
    buffer = getattr(target, "buffer", None)
    if buffer is not None:
        buffer.write(chunk)
        buffer.flush()
    else:
        target.write(chunk.decode("utf-8", errors="replace"))
        target.flush()
