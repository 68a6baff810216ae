"""``intoto-pip mock -n NAME -- CMD``: try a step without a key (in-toto-mock)."""

from __future__ import annotations

import argparse

NAME = "mock"
EXAMPLE = """example:
  intoto-pip mock -n build -- python -m build
  intoto-pip sign -f build.link -k alice       # sign it later: build.<keyid[:8]>.link

Records every file in the working folder as materials and products, runs the command
with its output recorded (and shown), and writes the unsigned link <name>.link.
Exits 0 when the link is written, whatever the command's exit status (as in-toto-mock).
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli import _producer as flags

    p = subparsers.add_parser(
        NAME,
        help="run a command and write an unsigned link <name>.link",
        description="A keyless variant of 'run' for trying things out, as in-toto-mock.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-n", "--name", required=True, metavar="NAME", help="the step's name")
    flags.add_dsse(p)
    p.add_argument(
        "--run-timeout", type=float, default=10.0, metavar="SECONDS",
        help="stop the command after SECONDS (default 10; 0: no limit)",
    )  # fmt: skip
    p.add_argument("link_cmd", nargs="+", metavar="-- COMMAND", help="the command, after --")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from intoto_pip.cli import _producer as flags
    from intoto_pip.errors import InputError
    from intoto_pip.produce.mock import MockOptions, mock_step

    if args.run_timeout < 0:
        raise InputError("--run-timeout must be 0 (no limit) or more")
    options = MockOptions(
        step=args.name,
        command=tuple(args.link_cmd),
        use_dsse=args.use_dsse,
        timeout=args.run_timeout or None,
    )
    result = mock_step(options, sink=flags.echo)
    flags.warn_skipped(args, result.skipped)
    print(f"intoto-pip: wrote unsigned link {result.link_path}", file=sys.stderr)
    return 0
