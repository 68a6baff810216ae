"""``intoto-pip lock``: resolve and verify as ``install`` would, install nothing, write a lock."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from intoto_pip.install.candidates import InstallOutcome
    from intoto_pip.install.resolve import ResolveOptions

NAME = "lock"
EXAMPLE = """\
examples:
  intoto-pip lock requests -o pylock.toml --policy policy.toml
  intoto-pip lock -r requirements.txt -o pylock.toml --layout-key owner.pub \\
      --publisher sampleproject=github:pypa/sampleproject
  intoto-pip install -r pylock.toml --policy policy.toml      # later: exactly these files

exit codes: 0 lock written, 1 a distribution was refused (no lock is written),
2 usage error or unreadable key/policy
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity
    from intoto_pip.cli.install import _add_trust_options

    p = subparsers.add_parser(
        NAME,
        help="verify what install would install, and write a PEP 751 lock (pylock.toml)",
        description=(
            "Resolve with pip (wheels only) for the target interpreter, download and verify "
            "every distribution exactly as `install` does, install nothing, and write a PEP "
            "751 lock with URLs, sizes, hashes and, where provenance verified, the publisher "
            "(attestation-identities). A lock never records a file that would be refused."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("requirements", nargs="*", metavar="REQ_OR_ARCHIVE", help="what to lock")
    p.add_argument(
        "-o",
        "--output",
        default="pylock.toml",
        metavar="FILE",
        help="the lock to write: pylock.toml or pylock.NAME.toml ('-' for stdout; "
        "default: pylock.toml)",
    )
    _add_resolution(p)
    p.add_argument(
        "--python", metavar="PY", help="interpreter to lock for (default: active venv or this)"
    )
    _add_trust_options(p)
    add_verbosity(p)
    # What install's options read that a lock does not offer: nothing installed, any target.
    p.set_defaults(
        handler=run,
        no_deps=False,
        upgrade=False,
        prefix=None,
        target=None,
        dry_run=True,
        compile=True,
        break_system_packages=False,
    )


def _add_resolution(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("resolution (passed to pip)")
    g.add_argument(
        "-r", "--requirement", action="append", default=[], metavar="FILE", help="requirements file"
    )
    g.add_argument("-i", "--index-url", metavar="URL", help="base URL of the package index")
    g.add_argument(
        "--extra-index-url", action="append", default=[], metavar="URL", help="another index"
    )
    g.add_argument(
        "-f", "--find-links", action="append", default=[], metavar="URL", help="archive links"
    )
    g.add_argument("--no-index", action="store_true", help="ignore the package index")
    g.add_argument("--pre", action="store_true", help="include pre-release versions")
    g.add_argument(
        "--no-binary",
        action="append",
        default=[],
        metavar="NAME",
        help="lock this project's sdist (verified, then built to check it builds), or :all:",
    )
    g.add_argument(
        "--allow-direct-url",
        action="append",
        default=[],
        metavar="NAME",
        help="let pip follow a verified distribution's 'NAME @ URL' dependency (or :all:), "
        "as install does",
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from intoto_pip.cli import _install_output as output
    from intoto_pip.cli.install import _options
    from intoto_pip.errors import InputError
    from intoto_pip.install.fetch import private_folder, remove_folder
    from intoto_pip.install.pipeline import run_install

    if not args.requirements and not args.requirement:
        raise InputError("nothing to lock: give requirements, archives or -r FILE")
    destination = _destination(args.output)
    options = _options(args)
    # Resolved as into an empty folder: pip then lists every distribution, even those the
    # interpreter already has (a lock must name them all). Nothing is written there.
    empty = private_folder()
    try:
        outcome = run_install(replace(options, target_dir=empty, dry_run=True))
    finally:
        remove_folder(empty)
    if outcome.refused:
        output.show(outcome, quiet=args.quiet)
        print("intoto-pip: error: no lock was written", file=sys.stderr)
        return 1
    output.show(outcome, quiet=True)  # warnings only: its result line would say "install"
    if not args.quiet:
        for candidate in outcome.candidates:
            if not candidate.allowed_unverified:
                print(output._verified(candidate), file=sys.stderr)
    _write(outcome, destination, _indexes(options.resolve))
    if not args.quiet and destination is not None:
        names = " ".join(f"{c.meta.name}-{c.meta.version}" for c in outcome.candidates)
        print(f"Locked {names} in {destination}")
    return 0


def _destination(output: str) -> Path | None:
    from pathlib import Path

    from intoto_pip.errors import InputError
    from intoto_pip.install.pylock import is_lock_file

    if output == "-":
        return None
    path = Path(output)
    if not is_lock_file(path):
        raise InputError(
            f"-o {output}: PEP 751 names a lock pylock.toml or pylock.NAME.toml "
            "(installers recognise it by that name)"
        )
    if path.is_dir() or not path.absolute().parent.is_dir():
        raise InputError(f"-o {output}: cannot write a file there")
    return path


def _indexes(resolve: ResolveOptions) -> tuple[str, ...]:
    from intoto_pip.install.simple_api import DEFAULT_INDEX

    main = resolve.index_url or (None if resolve.no_index else DEFAULT_INDEX)
    return ((main,) if main else ()) + resolve.extra_index_urls


def _write(outcome: InstallOutcome, destination: Path | None, indexes: tuple[str, ...]) -> None:
    from pathlib import Path

    from intoto_pip.install.lock_write import build_lock, lock_text, write_lock

    lock = build_lock(outcome, lock_path=destination or Path("pylock.toml"), indexes=indexes)
    if destination is None:
        sys.stdout.write(lock_text(lock))
    else:
        write_lock(lock, destination)
