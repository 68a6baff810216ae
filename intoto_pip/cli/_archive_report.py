"""Printing archive verdicts (``verify ARCHIVE`` and ``install``): the CLI owns the output."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from intoto_pip.verify.archive import ArchiveVerdict


def describe(verdict: ArchiveVerdict) -> str:
    """One line: who vouched for a verified archive, or why it was refused."""
    if not verdict.verified:
        # Library errors name the archive themselves; say it once.
        reason = verdict.reason.removeprefix(f"{verdict.filename}: ")
        return f"{verdict.filename}: NOT verified: {reason}"
    steps = "; ".join(
        f"{step} by {', '.join(key[:8] for key in keys)}"
        for step, keys in verdict.functionaries.items()
    )
    signers = ", ".join(key[:8] for key in verdict.layout_keys)
    return f"{verdict.filename}: verified (layout signed by {signers}; {steps or 'no steps'})"


def print_verdicts(verdicts: Sequence[ArchiveVerdict], *, as_json: bool, quiet: bool) -> None:
    if as_json:
        print(json.dumps([verdict.to_dict() for verdict in verdicts], indent=2))
    for verdict in verdicts:
        if not verdict.verified:
            print(describe(verdict), file=sys.stderr)
            continue
        if not (quiet or as_json):
            print(describe(verdict))
        for warning in verdict.warnings:
            if not quiet:
                print(f"intoto-pip: warning: {verdict.filename}: {warning}", file=sys.stderr)
