"""What ``intoto-pip check`` found, as values, and its ``--json`` form.

The JSON schema (``intoto-pip/check/v1``) is documented in docs/consumer-guide.md; paths
are absolute, lists are sorted, and a consumer may rely on ``ok`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from intoto_pip.install.verdict_record import VerdictRecord

SCHEMA = "intoto-pip/check/v1"
Status = Literal["intact", "changed", "unverifiable"]
EvidenceStatus = Literal["verified", "refused", "no-key", "not-checked"]


@dataclass(frozen=True, kw_only=True)
class EvidenceReport:
    """The installed in-toto evidence, re-verified (or why it was not)."""

    status: EvidenceStatus
    problem: str = ""
    layout: str = ""
    layout_sha256: str = ""
    layout_keys: tuple[str, ...] = ()
    last_step: str = ""
    inspections_skipped: tuple[str, ...] = ()
    compared: bool = False  # installed files were compared with its final product

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "problem": self.problem,
            "layout": self.layout,
            "layout_sha256": self.layout_sha256,
            "layout_keys": list(self.layout_keys),
            "last_step": self.last_step,
            "inspections_skipped": list(self.inspections_skipped),
            "compared_with_final_product": self.compared,
        }


@dataclass(frozen=True, kw_only=True)
class DistReport:
    """One distribution: how it got in, and what changed since."""

    name: str
    version: str
    dist_info: Path
    installer: str  # the INSTALLER file's first line ("" when there is none)
    verdict_record: VerdictRecord | None
    evidence: EvidenceReport | None
    files: int  # RECORD rows checked
    modified: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # what makes it unverifiable
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        if self.modified or self.missing or self.unexpected:
            return "changed"
        return "unverifiable" if self.problems else "intact"

    @property
    def installed_by(self) -> str:
        """``intoto-pip`` when a verdict record says so, else the INSTALLER's word."""
        return "intoto-pip" if self.verdict_record else (self.installer or "unknown")

    def to_dict(self) -> dict[str, Any]:
        record = self.verdict_record
        return {
            "name": self.name,
            "version": self.version,
            "dist_info": str(self.dist_info),
            "status": self.status,
            "installer": self.installer,
            "verdict": record.verdict if record else None,
            "verdict_record": record.to_dict() if record else None,
            "checked_against": self.checked_against,
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "files": self.files,
            "modified": list(self.modified),
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
            "problems": list(self.problems),
            "notes": list(self.notes),
        }

    @property
    def checked_against(self) -> list[str]:
        compared = self.evidence is not None and self.evidence.compared
        return ["RECORD", "evidence"] if compared else ["RECORD"]


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    python: str
    site_dirs: tuple[str, ...]
    distributions: tuple[DistReport, ...]
    unowned: tuple[str, ...] = ()  # startup files (.pth) in a site folder nobody owns
    not_installed: tuple[str, ...] = ()  # names asked for that are not installed

    @property
    def ok(self) -> bool:
        intact = all(dist.status == "intact" for dist in self.distributions)
        return intact and not self.unowned and not self.not_installed

    def to_dict(self) -> dict[str, Any]:
        counts = {"intact": 0, "changed": 0, "unverifiable": 0}
        for dist in self.distributions:
            counts[dist.status] += 1
        return {
            "schema": SCHEMA,
            "ok": self.ok,
            "python": self.python,
            "site_dirs": list(self.site_dirs),
            "summary": {
                "distributions": len(self.distributions),
                "files": sum(dist.files for dist in self.distributions),
                **counts,
                "without_verdict_record": sum(
                    1 for dist in self.distributions if dist.verdict_record is None
                ),
            },
            "distributions": [dist.to_dict() for dist in self.distributions],
            "unowned": list(self.unowned),
            "not_installed": list(self.not_installed),
        }
