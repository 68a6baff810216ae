"""``intoto-pip record start|stop``: record a step that is not one command (in-toto-record)."""

from __future__ import annotations

import argparse

NAME = "record"
EXAMPLE = """examples:
  intoto-pip record start -n edit --signing-key alice -m .
  ... edit files by hand ...
  intoto-pip record stop -n edit --signing-key alice -p . -d metadata/

'start' writes the signed, unfinished link .<step>.<keyid[:8]>.link-unfinished in the
working folder; 'stop' checks that it is signed by the same key and names the same step,
adds the products, signs again (same envelope format) and writes <step>.<keyid[:8]>.link.
'stop --attestation' writes it as an in-toto attestation (Statement v1) in DSSE instead.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        NAME,
        help="record a step in two commands (start, stop)",
        description="Record a step that cannot be wrapped in one command, as in-toto-record.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="record_action", metavar="start|stop", required=True)
    start = actions.add_parser(
        "start",
        help="sign the materials into an unfinished link",
        epilog="example:\n  intoto-pip record start -n edit --signing-key alice -m src/\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(start)
    start.add_argument(
        "-m", "--materials", nargs="+", action="extend", default=[], metavar="PATH",
        help="files or folders to record as materials",
    )  # fmt: skip
    stop = actions.add_parser(
        "stop",
        help="add the products and write the signed link",
        epilog="example:\n  intoto-pip record stop -n edit --signing-key alice -p src/ -d links/\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(stop)
    stop.add_argument(
        "-p", "--products", nargs="+", action="extend", default=[], metavar="PATH",
        help="files or folders to record as products",
    )  # fmt: skip
    stop.add_argument(
        "-d", "--metadata-directory", default=".", metavar="DIR",
        help="folder to write the link to (default: the working folder)",
    )  # fmt: skip
    p.set_defaults(handler=run)


def _add_common(parser: argparse.ArgumentParser) -> None:
    from intoto_pip.cli import _producer as flags
    from intoto_pip.cli._common import add_verbosity

    parser.add_argument("-n", "--step-name", required=True, metavar="STEP", help="the step")
    flags.add_signing_key(parser, gpg=True)
    flags.add_record_options(parser)
    flags.add_dsse(parser)
    flags.add_attestation(parser)
    add_verbosity(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intoto_pip.cli import _producer as flags
    from intoto_pip.produce.record import (
        RecordStartOptions,
        RecordStopOptions,
        record_start,
        record_stop,
    )

    signer = flags.step_signer(args)
    record = flags.record_options(args)
    if args.record_action == "start":
        start = RecordStartOptions(
            step=args.step_name,
            materials=tuple(args.materials),
            record=record,
            use_dsse=args.use_dsse,
            attestation=args.attestation,
        )
        result = record_start(start, signer)
    else:
        # The envelope format follows the unfinished link; --use-dsse matters on start,
        # --attestation on stop (on start it only makes the unfinished link DSSE).
        stop = RecordStopOptions(
            step=args.step_name,
            products=tuple(args.products),
            record=record,
            metadata_dir=Path(args.metadata_directory),
            attestation=args.attestation,
        )
        result = record_stop(stop, signer)
    flags.warn_skipped(args, result.skipped)
    flags.info(args, f"wrote {result.link_path}")
    return 0
