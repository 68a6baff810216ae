"""``intoto-pip run``: carry out a step and write its signed link (in-toto-run's flags)."""

from __future__ import annotations

import argparse

NAME = "run"
EXAMPLE = """examples:
  intoto-pip run -n build --signing-key alice -m src -p dist -- python -m build
  intoto-pip run -n review --signing-key bob -m document.pdf -x
  intoto-pip run -n tag --signing-key alice -p . --use-dsse -- git tag v1.0
  intoto-pip run -n build --gpg 3BF8135765A07E21BD12BF89A5627F6BF439F3C2 -p dist -- make
  intoto-pip run -n build --signing-key alice -m src -p dist --attestation -- make

The link is written to DIR/<step>.<keyid[:8]>.link (DIR: -d, default the working folder).
The exit status is the wrapped command's; 1 if it could not run or timed out (no link is
written then); 2 for bad flags or an unreadable key.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli import _producer as flags
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="run a step's command and write its signed link",
        description="Record materials, run the command, record products, and write a "
        "signed link, as in-toto-run does.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-n", "--step-name", required=True, metavar="STEP", help="the step's name")
    flags.add_signing_key(p, gpg=True)
    p.add_argument(
        "-m",
        "--materials",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATH",
        help="files or folders to record before the command",
    )
    p.add_argument(
        "-p",
        "--products",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATH",
        help="files or folders to record after the command",
    )
    p.add_argument(
        "-s",
        "--record-streams",
        action="store_true",
        help="record the command's stdout and stderr in the link (its output is shown "
        "either way; in-toto-run hides it without -s)",
    )
    p.add_argument(
        "-x",
        "--no-command",
        action="store_true",
        help="record without running a command (e.g. a sign-off step)",
    )
    p.add_argument(
        "-d",
        "--metadata-directory",
        default=".",
        metavar="DIR",
        help="folder to write the link to (default: the working folder)",
    )
    flags.add_record_options(p)
    flags.add_dsse(p)
    flags.add_attestation(p)
    p.add_argument(
        "--run-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="stop the command after SECONDS (default 10, as in-toto-run; 0: no limit)",
    )
    add_verbosity(p)
    p.add_argument("link_cmd", nargs="*", metavar="-- COMMAND", help="the command, after --")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intoto_pip.cli import _producer as flags
    from intoto_pip.errors import InputError
    from intoto_pip.produce.run import RunOptions, run_step

    command = [] if args.no_command else list(args.link_cmd)
    if not command and not args.no_command:
        raise InputError("no command given: put it after --, or give -x/--no-command")
    if args.run_timeout < 0:
        raise InputError("--run-timeout must be 0 (no limit) or more")
    signer = flags.step_signer(args)
    options = RunOptions(
        step=args.step_name,
        materials=tuple(args.materials),
        products=tuple(args.products),
        command=tuple(command),
        record_streams=args.record_streams,
        timeout=args.run_timeout or None,
        record=flags.record_options(args),
        use_dsse=args.use_dsse,
        attestation=args.attestation,
        metadata_dir=Path(args.metadata_directory),
    )
    result = run_step(options, signer, sink=flags.echo)
    flags.warn_skipped(args, result.skipped)
    flags.info(args, f"wrote {result.link_path}")
    return result.return_value or 0
