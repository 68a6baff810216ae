"""Trust flags that ``install`` and ``verify`` share: one definition, one default, one check.

``--layout-key PEM`` takes one key per flag (as pip's own options), so the argument after it
is never swallowed as a second key; ``-k/--layout-keys/--verification-keys`` keep
in-toto-verify's form that takes several keys at once.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intoto_pip.crypto.keys import PublicKey
    from intoto_pip.verify.policy import Policy


def add_trust_flags(parser: argparse.ArgumentParser, *, policy_help: str) -> None:
    from intoto_pip.verify.inspections import DEFAULT_TIMEOUT

    g = parser.add_argument_group("trust")
    g.add_argument(
        "--layout-key",
        dest="layout_keys",
        action="append",
        default=[],
        metavar="PEM",
        help="public key (SPKI PEM) that must have signed the layout; one per flag, repeatable",
    )
    g.add_argument(
        "-k",
        "--layout-keys",
        "--verification-keys",
        dest="layout_keys",
        nargs="+",
        action="extend",
        metavar="PEM",
        help="several layout keys at once (in-toto-verify's form)",
    )
    g.add_argument("--policy", metavar="FILE", help=policy_help)
    g.add_argument(
        "--inspection-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds an inspection may run (default: {DEFAULT_TIMEOUT:g})",
    )


def layout_keys(args: argparse.Namespace) -> tuple[PublicKey, ...]:
    from pathlib import Path

    from intoto_pip.crypto.keys import load_public_key

    return tuple(load_public_key(Path(path)) for path in args.layout_keys)


def inspection_timeout(args: argparse.Namespace) -> float:
    """The timeout, refused when it is 0, negative, infinite or not a number."""
    import math

    from intoto_pip.errors import InputError

    timeout = float(args.inspection_timeout)
    if not math.isfinite(timeout) or timeout <= 0:
        raise InputError(
            f"--inspection-timeout must be a positive number of seconds, got {timeout:g}"
        )
    return timeout


def policy(args: argparse.Namespace, *, extra_allowed: list[str] | None = None) -> Policy:
    from pathlib import Path

    from intoto_pip.verify.policy import load_policy

    path = Path(args.policy) if args.policy else None
    return load_policy(path, extra_allowed=extra_allowed or ())
