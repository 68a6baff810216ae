"""Which PEP 751 lock ``install`` was given: ``--lock FILE``, or ``-r`` naming a lock file.

A requirements file named as PEP 751 names locks (``pylock.toml``, ``pylock.<name>.toml``) is
a lock, as ``uv pip install -r pylock.toml`` reads it. A lock is installed as it is: no
other requirement, and no second lock, may come with it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def lock_file(args: argparse.Namespace) -> Path | None:
    """The lock to install (and ``args.requirement`` without it), or None."""
    if not args.lock and not args.requirement:
        return None  # the usual install: what reads locks is not loaded before pip starts
    from intoto_pip.errors import InputError
    from intoto_pip.install.pylock import is_lock_file

    named = [args.lock] if args.lock else []
    named += [path for path in args.requirement if is_lock_file(path)]
    if not named:
        return None
    others = [path for path in args.requirement if not is_lock_file(path)]
    if len(named) > 1 or others or args.requirements:
        extra = (named[1:] + others + args.requirements)[0]
        raise InputError(
            f"{named[0]} is a lock, installed exactly as it is: give no other requirement "
            f"or lock with it ({extra})"
        )
    args.requirement = []
    return Path(named[0])
