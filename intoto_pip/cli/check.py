"""``intoto-pip check``: is what is installed still what was verified? (DESIGN §12)"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from intoto_pip.install.check import CheckOptions
    from intoto_pip.install.check_report import CheckReport, DistReport

NAME = "check"
EXAMPLE = """\
examples:
  intoto-pip check --layout-key owner.pub
  intoto-pip check --python .venv/bin/python --policy policy.toml requests urllib3
  intoto-pip check --target ./vendor --json

exit codes: 0 every distribution intact, 1 something changed, is missing, was added or
cannot be verified, 2 usage error or unreadable key/policy
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity
    from intoto_pip.cli._trust import add_trust_flags

    p = subparsers.add_parser(
        NAME,
        help="check installed distributions against RECORD and their in-toto evidence",
        description=(
            "Hash every installed file and compare it with RECORD; for distributions that "
            "carry in-toto evidence, re-verify the layout with the keys pinned now and compare "
            "the installed files with the final product it vouches for. Reports modified, "
            "missing and unexpected files, unowned .pth files, and distributions another "
            "tool installed (checked against RECORD only)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="only these distributions")
    g = p.add_argument_group("target").add_mutually_exclusive_group()
    g.add_argument(
        "--python",
        metavar="PY",
        help="interpreter whose environment to check (default: active venv or this)",
    )
    g.add_argument("-t", "--target", metavar="DIR", help="check a --target folder")
    add_trust_flags(
        p,
        policy_help="trust policy (TOML) mapping projects to layout keys; see the consumer guide",
        archives=False,
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (schema: docs/consumer-guide.md)",
    )
    add_verbosity(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from intoto_pip.install.target import start_probe

    # The target interpreter starts first: it answers while the keys, the policy and the
    # rest of the check are loaded here.
    python = Path(args.python) if args.python else None
    target_dir = Path(args.target) if args.target else None
    with start_probe(python, target_dir=target_dir, installing=False) as probe:
        from intoto_pip.install.check import check_environment

        report = check_environment(_options(args), probe=probe)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        _show(report, quiet=args.quiet, verbose=args.verbose)
    return 0 if report.ok else 1


def _options(args: argparse.Namespace) -> CheckOptions:
    from pathlib import Path

    from intoto_pip.cli import _trust
    from intoto_pip.install.check import CheckOptions

    return CheckOptions(
        python=Path(args.python) if args.python else None,
        target_dir=Path(args.target) if args.target else None,
        names=tuple(args.names),
        policy=_trust.policy(args),
        layout_keys=_trust.layout_keys(args),
    )


def _show(report: CheckReport, *, quiet: bool, verbose: int) -> None:
    import sys

    for dist in report.distributions:
        lines = _describe(dist, verbose=verbose)
        if dist.status != "intact":
            print("\n".join(lines), file=sys.stderr)
        elif not quiet:
            print("\n".join(lines))
    for path in report.unowned:
        print(
            f"unexpected: {path} (a .pth file no distribution owns; Python runs it at start)",
            file=sys.stderr,
        )
    for name in report.not_installed:
        print(f"{name}: not installed", file=sys.stderr)
    if not quiet:
        counts = report.to_dict()["summary"]
        print(
            f"checked {counts['distributions']} distributions, {counts['files']} files: "
            f"{counts['intact']} intact, {counts['changed']} changed, "
            f"{counts['unverifiable']} unverifiable"
        )


def _describe(dist: DistReport, *, verbose: int) -> list[str]:
    status = dist.status if dist.status == "intact" else dist.status.upper()
    lines = [f"{dist.name} {dist.version}: {status} ({_how(dist)})"]
    base = dist.dist_info.parent
    for label, paths in (
        ("modified", dist.modified),
        ("missing", dist.missing),
        ("unexpected", dist.unexpected),
    ):
        lines += [f"  {label}: {_relative(path, base)}" for path in paths]
    lines += [f"  problem: {problem}" for problem in dist.problems]
    if verbose or dist.status != "intact":
        lines += [f"  note: {note}" for note in dist.notes]
    return lines


def _how(dist: DistReport) -> str:
    record, evidence = dist.verdict_record, dist.evidence
    if record is None:
        return f"installed by {dist.installer or 'an unknown tool'}: RECORD only"
    if record.verdict == "allowed-unverified":
        return "installed by intoto-pip, allowed unverified: RECORD only"
    if record.verdict == "publisher-verified" and record.provenance is not None:
        return f"installed by intoto-pip, published by {record.provenance.publisher}: RECORD only"
    if evidence is not None and evidence.status == "verified":
        keys = ", ".join(key[:8] for key in evidence.layout_keys)
        against = "RECORD and evidence" if evidence.compared else "RECORD"
        return f"installed by intoto-pip, verified; evidence re-verified with {keys}: {against}"
    return "installed by intoto-pip, verified: RECORD only"


def _relative(path: str, base: Path) -> str:
    import os

    relative = os.path.relpath(path, str(base))
    return path if relative.startswith("..") else relative
