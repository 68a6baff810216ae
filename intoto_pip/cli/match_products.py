"""``intoto-pip match-products``: compare local files with a link's products."""

from __future__ import annotations

import argparse

NAME = "match-products"
EXAMPLE = """example:
  intoto-pip match-products -l package.2f89b927.link -p dist

Prints each difference and exits 1 if there is one, 0 if the files match. The link's
signature is not checked. Works on Metablock and DSSE links.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli import _producer as flags
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="check whether local files match the products of a link",
        description="Check whether local artifacts match the products in a link, as "
        "in-toto-match-products does.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-l", "--link", required=True, metavar="PATH", help="the link file")
    p.add_argument(
        "-p", "--paths", nargs="+", action="extend", default=[], metavar="PATH",
        help="files or folders to compare (default: the working folder)",
    )  # fmt: skip
    p.add_argument(
        "-e", "--exclude", nargs="+", action="extend", metavar="PATTERN",
        help=flags.EXCLUDE_HELP,
    )  # fmt: skip
    p.add_argument("--no-default-excludes", action="store_true", help="no default exclude patterns")
    p.add_argument(
        "--lstrip-paths", nargs="+", action="extend", metavar="PREFIX",
        help="strip the first matching PREFIX from local names before comparing",
    )  # fmt: skip
    add_verbosity(p)
    p.set_defaults(handler=run, base_path=None)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intoto_pip.cli import _producer as flags
    from intoto_pip.produce.match import match_products

    result = match_products(Path(args.link), args.paths or ["."], flags.record_options(args))
    flags.warn_skipped(args, result.skipped)
    if result.matches:
        if not args.quiet:
            print("Local artifacts match the products in the link.")
        return 0
    if not args.quiet:
        print("Local artifacts do not match the products in the link:")
        for label, names in (
            ("only in products", result.only_in_products),
            ("not in products", result.not_in_products),
            ("hashes differ", result.differ),
        ):
            for name in names:
                print(f"  {label}: {name}")
    return 1
