"""``intoto-pip attach``: embed a layout and links into a wheel or sdist built elsewhere."""

from __future__ import annotations

import argparse

NAME = "attach"
EXAMPLE = """examples:
  intoto-pip attach dist/demo-1.0-py3-none-any.whl --layout root.layout --link-dir links/
  intoto-pip attach dist/demo-1.0.tar.gz --layout root.layout --link-dir links/ -o signed/

The metadata goes into <name>-<version>.dist-info/in-toto/ (wheel, RECORD regenerated) or
<name>-<version>/.in-toto/ (sdist). Link files are taken from --link-dir by name
(<step>.<keyid8>.link, and sublayout folders <step>.<keyid8>/). Without -o the archive is
rewritten in place. An archive that already carries different metadata is refused unless
--replace is given. SOURCE_DATE_EPOCH, when set, fixes every member's time.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="embed in-toto metadata into a built wheel or sdist",
        description="Embed a signed layout and link files into a wheel or sdist, as the "
        "intoto_pip.backend build backend does, for archives built by other tools.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("archive", metavar="ARCHIVE", help="the wheel (.whl) or sdist (.tar.gz)")
    p.add_argument("--layout", required=True, metavar="FILE", help="the signed root layout")
    p.add_argument("--link-dir", required=True, metavar="DIR", help="folder holding the link files")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file, or folder (a name ending in / is created) (default: in place)",
    )
    p.add_argument(
        "--replace", action="store_true", help="replace in-toto metadata the archive carries"
    )
    add_verbosity(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from intoto_pip.cli._common import warn
    from intoto_pip.produce.attach import AttachRequest, attach
    from intoto_pip.produce.embed import source_date_epoch

    if args.output and args.output.endswith(("/", os.sep)):
        Path(args.output).mkdir(parents=True, exist_ok=True)  # a folder, named as one
    request = AttachRequest(
        archive=Path(args.archive),
        layout=Path(args.layout),
        link_dir=Path(args.link_dir),
        output=Path(args.output) if args.output else None,
        replace=args.replace,
        source_date_epoch=source_date_epoch(os.environ),
    )
    result = attach(request)
    for message in result.warnings:
        warn(message)
    if not args.quiet:
        count = len(result.files) - 1
        print(f"{result.output}: attached root.layout and {count} link file(s)")
    return 0
