"""What every subcommand shares: error reporting, verbosity, key-argument helpers."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from intoto_pip.errors import IntotoPipError


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=0, help="say more")
    group.add_argument("-q", "--quiet", action="store_true", help="say only errors")


def configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING
    if getattr(args, "quiet", False):
        level = logging.ERROR
    elif getattr(args, "verbose", 0):
        level = logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="intoto-pip: %(levelname)s: %(message)s")


def error(message: str) -> None:
    print(f"intoto-pip: error: {message}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"intoto-pip: warning: {message}", file=sys.stderr)


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; turn our own errors into one line and an exit code."""
    configure_logging(args)
    try:
        result: int = args.handler(args)
        return result
    except IntotoPipError as exc:
        error(_one_line(str(exc)))
        if args.debug:
            traceback.print_exc()
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except OSError as exc:
        # A fault of the machine (disk full, permission denied) rather than of the input.
        if args.debug:
            raise
        error(_one_line(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")))
        return 1


def _one_line(message: str) -> str:
    return " ".join(message.split("\n")) if message else "failed"
