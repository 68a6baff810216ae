"""What ``intoto-pip install`` prints: verdicts, refusals with a way forward, the result."""

from __future__ import annotations

import sys
from pathlib import Path

from intoto_pip.cli._archive_report import describe
from intoto_pip.install.candidates import Candidate, InstallOutcome
from intoto_pip.install.fetch import Progress
from intoto_pip.install.options import ProgressFactory


def progress_factory(quiet: bool) -> ProgressFactory | None:
    from intoto_pip.install.progress import ProgressBar, progress_enabled

    if not progress_enabled(quiet):
        return None

    def make(label: str) -> Progress:
        return ProgressBar(label=label, enabled=True)

    return make


def write_report(destination: str, outcome: InstallOutcome) -> None:
    from intoto_pip.install.report import report_text, write_report

    if destination == "-":
        sys.stdout.write(report_text(outcome))
    else:
        write_report(Path(destination), outcome)


def _refusal(candidate: Candidate) -> str:
    line = describe(candidate.verdict)
    if candidate.verdict.no_metadata:
        name = candidate.meta.name or candidate.verdict.name
        line += f" (to install it without verification: --allow-unverified {name})"
    return f"intoto-pip: error: {line}"


def _unverified(candidate: Candidate, dry_run: bool) -> str:
    from intoto_pip.install.candidates import UNCHECKED_METADATA

    done = "would be installed" if dry_run else "installed"
    line = f"intoto-pip: warning: {candidate.meta.name} {done} WITHOUT verification"
    if candidate.verdict.unchecked_evidence:
        line += f" ({UNCHECKED_METADATA}; give --layout-key or a policy entry to verify it)"
    return line


def show(outcome: InstallOutcome, *, quiet: bool) -> int:
    """Print the outcome; the exit code: 1 when anything was refused, else 0."""
    refused = outcome.refused
    for candidate in outcome.candidates:
        if candidate in refused:
            print(_refusal(candidate), file=sys.stderr)
        elif candidate.allowed_unverified:
            print(_unverified(candidate, outcome.dry_run), file=sys.stderr)
        elif not quiet:
            print(describe(candidate.verdict), file=sys.stderr)
    if refused:
        print("intoto-pip: error: nothing was installed", file=sys.stderr)
        return 1
    if quiet:
        return 0
    names = " ".join(f"{c.meta.name}-{c.meta.version}" for c in outcome.candidates)
    if outcome.dry_run:
        print(f"Would install {names}" if names else "Nothing to install")
    else:
        print(f"Successfully installed {names}" if names else "Nothing to install")
    return 0
