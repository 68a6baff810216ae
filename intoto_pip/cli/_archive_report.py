"""Printing archive verdicts (``verify ARCHIVE`` and ``install``): the CLI owns the output."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from intoto_pip.verify.archive import ArchiveVerdict

if TYPE_CHECKING:
    from intoto_pip.verify.provenance_policy import ProvenanceVerdict


def combine(verdict: ArchiveVerdict, provenance: ProvenanceVerdict | None) -> ArchiveVerdict:
    """One verdict from in-toto's and provenance's: provenance may refuse; a pinned publisher
    verifies an archive checked whole that no layout key was asked for."""
    if provenance is None:
        return verdict
    publisher_only = provenance.pinned and verdict.checked_whole
    verified = provenance.accepted and (verdict.verified or publisher_only)
    reason = verdict.reason if provenance.accepted else provenance.reason
    return replace(
        verdict, verified=verified, reason="" if verified else reason, provenance=provenance
    )


def describe(verdict: ArchiveVerdict) -> str:
    """One line: who vouched for a verified archive, or why it was refused."""
    if not verdict.verified:
        # Library errors name the archive themselves; say it once.
        reason = verdict.reason.removeprefix(f"{verdict.filename}: ")
        return f"{verdict.filename}: NOT verified: {reason}"
    published = verdict.provenance.describe_identity() if verdict.provenance else ""
    if not verdict.layout_keys:  # verified by its pinned publisher alone
        return f"{verdict.filename}: verified ({published})"
    steps = "; ".join(
        f"{step} by {', '.join(key[:8] for key in keys)}"
        for step, keys in verdict.functionaries.items()
    )
    signers = ", ".join(key[:8] for key in verdict.layout_keys)
    published = f"; {published}" if published else ""
    return (
        f"{verdict.filename}: verified (layout signed by {signers}; {steps or 'no steps'}"
        f"{published})"
    )


def print_verdicts(verdicts: Sequence[ArchiveVerdict], *, as_json: bool, quiet: bool) -> None:
    if as_json:
        print(json.dumps([verdict.to_dict() for verdict in verdicts], indent=2))
    for verdict in verdicts:
        if not verdict.verified:
            print(describe(verdict), file=sys.stderr)
            continue
        if not (quiet or as_json):
            print(describe(verdict))
        for warning in (*verdict.warnings, *_provenance_notes(verdict)):
            if not quiet:
                print(f"intoto-pip: warning: {verdict.filename}: {warning}", file=sys.stderr)


def _provenance_notes(verdict: ArchiveVerdict) -> tuple[str, ...]:
    provenance = verdict.provenance
    if provenance is None:
        return ()
    failed = (provenance.reason,) if provenance.status == "failed" else ()
    return provenance.notes + failed
