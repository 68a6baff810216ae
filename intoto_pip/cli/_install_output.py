"""What ``intoto-pip install`` prints: verdicts, refusals with a way forward, the result."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
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


def phase_printer(*, quiet: bool, verbose: int) -> Callable[[str], None] | None:
    """One line per phase on standard error: on a terminal unless -q, when piped with -v."""
    if quiet or not (verbose or sys.stderr.isatty()):
        return None
    started = time.monotonic()

    def say(phase: str) -> None:
        print(f"intoto-pip: {phase} ({time.monotonic() - started:.1f} s)", file=sys.stderr)

    return say


def write_report(destination: str, outcome: InstallOutcome) -> None:
    from intoto_pip.install.report import report_text, write_report

    if destination == "-":
        sys.stdout.write(report_text(outcome))
    else:
        write_report(Path(destination), outcome)


def _refusal(candidate: Candidate) -> str:
    provenance = candidate.provenance
    if provenance is not None and not provenance.accepted:
        return f"intoto-pip: error: {candidate.origin.filename}: NOT verified: {provenance.reason}"
    return f"intoto-pip: error: {describe(candidate.verdict)}"


def _verified(candidate: Candidate) -> str:
    """One line: who vouched for it (layout keys, publisher, or both)."""
    provenance = candidate.provenance
    published = provenance.describe_identity() if provenance is not None else ""
    if candidate.publisher_verified and not candidate.verdict.verified:
        return f"{candidate.origin.filename}: verified ({published})"
    line = describe(candidate.verdict)
    return f"{line[:-1]}; {published})" if published else line


def _provenance_warnings(candidate: Candidate, dry_run: bool) -> list[str]:
    provenance = candidate.provenance
    if provenance is None:
        return []
    name = candidate.origin.filename
    lines = [f"{name}: {note}" for note in provenance.notes]
    if provenance.status == "failed" and provenance.accepted:
        lines.append(f"{name}: {provenance.reason} (--provenance warn: not refused)")
    if provenance.record and not dry_run:
        lines.append(
            f"{candidate.meta.name}: first release seen with provenance; recorded its "
            f"publisher ({provenance.identity.describe() if provenance.identity else ''})"
        )
    return lines


def _unverified(candidate: Candidate, dry_run: bool) -> str:
    from intoto_pip.install.candidates import UNCHECKED_METADATA

    done = "would be installed" if dry_run else "installed"
    line = f"intoto-pip: warning: {candidate.meta.name} {done} WITHOUT verification"
    if candidate.verdict.unchecked_evidence:
        line += f" ({UNCHECKED_METADATA}; give --layout-key or a policy entry to verify it)"
    return line


def _pip_settings(outcome: InstallOutcome, *, quiet: bool, verbose: int) -> None:
    settings = outcome.pip_settings
    if settings is None:
        return
    for setting in settings.ignored if not quiet else ():
        print(
            f"intoto-pip: warning: pip setting {setting.name} ({setting.origin}) ignored: "
            "intoto-pip takes only index, host, certificate, proxy and timeout settings "
            "from pip's environment and configuration files",
            file=sys.stderr,
        )
    for setting in settings.taken if verbose else ():
        print(
            f"intoto-pip: pip setting taken: {setting.name}={setting.value} ({setting.origin})",
            file=sys.stderr,
        )


def _refusal_summary(refused: Sequence[Candidate]) -> list[str]:
    """One line naming every project refused for lack of evidence, and the one flag that would
    let them all in; then the outcome."""
    lines = []
    missing = sorted({c.meta.name or c.verdict.name for c in refused if c.verdict.no_metadata})
    if missing:
        lines.append(
            f"intoto-pip: error: no in-toto evidence for {', '.join(missing)}; to install "
            f"without verification: --allow-unverified {','.join(missing)}"
        )
    lines.append("intoto-pip: error: nothing was installed")
    return lines


def show(
    outcome: InstallOutcome, *, quiet: bool, requested: Sequence[str] = (), verbose: int = 0
) -> int:
    """Print the outcome; the exit code: 1 when anything was refused, else 0.

    What will be installed without verification is said only once the whole set is decided:
    a refusal anywhere means nothing is installed, and then only refusals are reported."""
    _pip_settings(outcome, quiet=quiet, verbose=verbose)
    refused = outcome.refused
    if refused:
        for candidate in outcome.candidates:
            if candidate in refused:
                print(_refusal(candidate), file=sys.stderr)
            elif (candidate.verdict.verified or candidate.publisher_verified) and not quiet:
                print(_verified(candidate), file=sys.stderr)
        for line in _refusal_summary(refused):
            print(line, file=sys.stderr)
        return 1
    for candidate in outcome.candidates:
        if candidate.allowed_unverified:
            print(_unverified(candidate, outcome.dry_run), file=sys.stderr)
        elif not quiet:
            print(_verified(candidate), file=sys.stderr)
        for line in _provenance_warnings(candidate, outcome.dry_run):
            print(f"intoto-pip: warning: {line}", file=sys.stderr)
    if not quiet:
        for line in _result_lines(outcome, requested):
            print(line)
    return 0


def _result_lines(outcome: InstallOutcome, requested: Sequence[str]) -> list[str]:
    names = " ".join(f"{c.meta.name}-{c.meta.version}" for c in outcome.candidates)
    if not names:
        return _already_satisfied(outcome, requested) or ["Nothing to install"]
    if outcome.dry_run:
        return [f"Would install {names}"]
    lines = [
        f"Replaced {old.name} {old.version}"
        + next(
            (f" with {c.meta.version}" for c in outcome.candidates if c.meta.name == old.name), ""
        )
        for old in outcome.replaced
    ]
    return [*lines, f"Successfully installed {names}"]


def _already_satisfied(outcome: InstallOutcome, requested: Sequence[str]) -> list[str]:
    """pip's words for requirements the target already has."""
    from packaging.requirements import InvalidRequirement, Requirement

    from intoto_pip.archives.names import canonical_name

    installed = outcome.target.installed()
    lines = []
    for text in requested:
        try:
            name = canonical_name(Requirement(text).name)
        except InvalidRequirement:
            continue  # an archive path: it would have been a candidate
        if name in installed:
            lines.append(f"Requirement already satisfied: {name} ({installed[name].version})")
    return lines
