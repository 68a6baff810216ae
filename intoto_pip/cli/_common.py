"""What every subcommand shares: error reporting, verbosity, key-argument helpers."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
from types import FrameType

from intoto_pip.errors import IntotoPipError, MachineError


def docs_folder() -> str:
    """Where the guides are readable: installed beside intoto-pip (``data-files``), or the
    source checkout's ``docs/`` when run from one."""
    import sysconfig
    from pathlib import Path

    installed = Path(sysconfig.get_path("data")) / "share" / "doc" / "intoto-pip"
    if (installed / "consumer-guide.md").is_file():
        return str(installed)
    checkout = Path(__file__).resolve().parents[2] / "docs"
    return str(checkout if (checkout / "consumer-guide.md").is_file() else installed)


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


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so every ``finally`` and ``with`` cleans up.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it:
    sandboxes are removed, inspections' process groups killed, installs rolled back.
    """


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; turn our own errors into one line and an exit code."""
    configure_logging(args)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _run(args)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        result: int = args.handler(args)
        return result
    except Terminated:
        error("terminated; what was started was cleaned up")
        return 128 + signal.SIGTERM
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
        return MachineError.exit_code


def _one_line(message: str) -> str:
    return " ".join(message.split("\n")) if message else "failed"
