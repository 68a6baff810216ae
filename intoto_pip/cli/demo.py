"""``intoto-pip demo``: play the whole supply-chain story on built-in data, narrated."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from intoto_pip.demo.render import Style

NAME = "demo"
DESCRIPTION = """\
Play the whole story on built-in data, in a temporary folder: the owner makes keys and a
layout; alice and bob record and sign their steps; the wheel is built with the evidence
embedded and installed, verified, into a fresh venv; then an attacker swaps a file and the
install is refused with the reason, leaving the venv untouched. Every step runs the real
intoto-pip commands, printed as you would type them. Needs no network."""
EXAMPLE = """\
examples:
  intoto-pip demo                  play the story in a temporary folder, removed afterwards
  intoto-pip demo --keep ./story   keep every key, layout, link, wheel and venv in ./story
  intoto-pip demo -q               print only the verdict

exit codes: 0 the story went as told; 1 a step did not (the step and its output are shown);
2 --keep names a folder that is not empty"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        NAME,
        help="play the whole story on built-in data (start here)",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--keep",
        metavar="DIR",
        help="play in DIR (new or empty) and keep it, to look at every file afterwards",
    )
    loudness = p.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="print only the verdict (one line)"
    )
    loudness.add_argument(
        "-v", "--verbose", action="count", default=0, help="show every command's full output"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    if args.keep is None:
        with tempfile.TemporaryDirectory(prefix="intoto-pip-demo-") as scratch:
            return _play(args, Path(scratch), kept=False)
    return _play(args, _keep_folder(Path(args.keep)), kept=True)


def _keep_folder(folder: Path) -> Path:
    from intoto_pip.errors import InputError

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"--keep {folder}: not an empty folder; name a new or empty one")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _play(args: argparse.Namespace, folder: Path, *, kept: bool) -> int:
    import time

    from intoto_pip.demo.narration import Event
    from intoto_pip.demo.render import render
    from intoto_pip.demo.story import StoryError, StoryOptions, play

    style = _style(args)

    def narrate(event: Event) -> None:
        if not args.quiet:
            print(render(event, style), flush=True)

    started = time.monotonic()
    try:
        result = play(StoryOptions(folder=folder, narrate=narrate))
    except StoryError as exc:
        _report_failure(exc, folder if kept else None, style)
        return exc.exit_code
    elapsed = time.monotonic() - started
    if args.quiet:
        print(f"intoto-pip demo: the story went as told ({elapsed:.1f} s)")
        return 0
    _report_success(result.greeting, result.refusal, folder if kept else None, elapsed, style)
    return 0


def _report_success(
    greeting: str, refusal: str, kept: Path | None, elapsed: float, style: Style
) -> None:
    print()
    print(style.paint(f"The story went as told ({elapsed:.1f} s).", "green", "bold"))
    print(f'  verified and installed: greeting says "{greeting}"')
    print(f"  refused, venv untouched: {refusal}")
    if kept is None:
        print("  The folder was temporary and is gone; --keep DIR keeps every file to look at.")
    else:
        print(f"  Every file is in {kept}/ (keys, layout, links, wheels, venvs).")
    from intoto_pip.cli._common import docs_folder

    print(f"  Next: consumer-guide.md and producer-guide.md in {docs_folder()}/")


def _report_failure(exc: Exception, kept: Path | None, style: Style) -> None:
    import sys

    from intoto_pip.demo.render import failure

    output = getattr(exc, "output", "")
    print(failure(f"intoto-pip: error: {exc}", output, style), file=sys.stderr)
    hint = f"the files are in {kept}/" if kept else "rerun with --keep DIR to look at the files"
    print(f"intoto-pip: the story did not go as told; {hint}", file=sys.stderr)


def _style(args: argparse.Namespace) -> Style:
    import os
    import sys

    from intoto_pip.demo.render import Style

    tty = sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    encoding = (sys.stdout.encoding or "ascii").lower()
    return Style(colour=tty, verbose=args.verbose > 0, unicode=encoding.startswith("utf"))
