"""The ``--report FILE`` document: every distribution, its verdict, who vouched for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from intoto_pip.install.candidates import Candidate, InstallOutcome
from intoto_pip.install.installer_step import InstalledFiles
from intoto_pip.install.pip_settings import PipSetting, PipSettings

REPORT_VERSION = 1


def _verdict(candidate: Candidate) -> str:
    if not candidate.accepted and candidate.provenance is not None:
        return "refused"
    if candidate.verdict.verified or candidate.publisher_verified:
        return "verified"
    return "allowed-unverified" if candidate.allowed_unverified else "refused"


def _reason(candidate: Candidate) -> str:
    provenance = candidate.provenance
    if provenance is not None and not provenance.accepted:
        return provenance.reason
    return "" if candidate.publisher_verified else candidate.verdict.reason


def _candidate(candidate: Candidate, installed: dict[str, InstalledFiles]) -> dict[str, Any]:
    verdict = candidate.verdict
    files = installed.get(candidate.meta.name)
    return {
        "name": candidate.meta.name or verdict.name,
        "version": candidate.meta.version or verdict.version,
        "archive": candidate.origin.filename,
        "url": candidate.origin.url,
        "sha256": candidate.origin.sha256,
        "built_wheel": candidate.fetched.filename if candidate.source else None,
        "requested": candidate.requested,
        "verdict": _verdict(candidate),
        "reason": _reason(candidate),
        "metadata": verdict.mode or None,
        "layout": verdict.layout_origin or None,
        "trust": verdict.trust_source or None,
        "layout_keys": list(verdict.layout_keys),
        "functionaries": {step: list(keys) for step, keys in verdict.functionaries.items()},
        "inspections": list(verdict.inspections),
        "provenance": candidate.provenance.to_dict() if candidate.provenance else None,
        "installed_files": [str(path) for path in files.files] if files else [],
        "pth_files": [str(path) for path in files.pth_files] if files else [],
    }


def _pip_settings(settings: PipSettings | None) -> dict[str, Any] | None:
    """What was read from pip's environment and configuration files (None: pip not asked)."""
    if settings is None:
        return None

    def entries(items: tuple[PipSetting, ...]) -> list[dict[str, str]]:
        return [{"name": s.name, "value": s.value, "origin": s.origin} for s in items]

    return {"taken": entries(settings.taken), "ignored": entries(settings.ignored)}


def build_report(outcome: InstallOutcome) -> dict[str, Any]:
    installed = {item.name: item for item in outcome.installed}
    target = outcome.target
    return {
        "version": REPORT_VERSION,
        "target": {
            "python": target.executable,
            "python_version": target.version,
            "scheme": dict(target.scheme),
        },
        "dry_run": outcome.dry_run,
        "compile_bytecode": outcome.compile_bytecode,
        "bytecode_written": outcome.bytecode_written,
        "installed": bool(installed),
        "used_pip": outcome.used_pip,
        "pip_settings": _pip_settings(outcome.pip_settings),
        "replaced": [{"name": d.name, "version": d.version} for d in outcome.replaced],
        "distributions": [_candidate(c, installed) for c in outcome.candidates],
    }


def report_text(outcome: InstallOutcome) -> str:
    return json.dumps(build_report(outcome), indent=2) + "\n"


def write_report(path: Path, outcome: InstallOutcome) -> None:
    from intoto_pip.store import write_atomic

    write_atomic(path, report_text(outcome).encode("utf-8"))
