"""What a verification found, as values: per step, per inspection, per rule.

The engine returns a ``VerificationResult`` when the supply chain is accepted and raises a
``VerificationError`` subclass when it is not; an artifact rule that refuses raises
``ArtifactRuleError``, which carries the rule's trace (``RuleOutcome``) as a value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from intoto_pip.errors import RuleError
from intoto_pip.models.layout import format_expires
from intoto_pip.models.link import Link

ItemKind = Literal["step", "inspection"]
RuleField = Literal["expected_materials", "expected_products"]
MAX_NAMES_SHOWN = 10


def show_names(names: list[str] | tuple[str, ...]) -> str:
    """``'a', 'b' and 3 more`` - enough to act on without flooding a terminal."""
    shown = ", ".join(repr(name) for name in names[:MAX_NAMES_SHOWN])
    extra = len(names) - MAX_NAMES_SHOWN
    return f"{shown} and {extra} more" if extra > 0 else shown


@dataclass(frozen=True, kw_only=True)
class RuleOutcome:
    """One artifact rule applied to one step's or inspection's materials or products."""

    item: str
    item_kind: ItemKind
    field: RuleField
    index: int
    rule: str
    passed: bool
    consumed: int = 0
    queue_before: int = 0
    queue_after: int = 0
    offending: tuple[str, ...] = ()  # artifacts a failing rule names

    @property
    def location(self) -> str:
        return f"{self.item_kind} {self.item!r}: {self.field}[{self.index}] {self.rule!r}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "kind": self.item_kind,
            "field": self.field,
            "index": self.index,
            "rule": self.rule,
            "outcome": "passed" if self.passed else "failed",
            "consumed": self.consumed,
            "queue_before": self.queue_before,
            "queue_after": self.queue_after,
            "offending": list(self.offending),
        }


class ArtifactRuleError(RuleError):
    """An artifact rule refused the supply chain; ``outcome`` is its trace."""

    def __init__(self, message: str, outcome: RuleOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True, kw_only=True)
class RejectedLink:
    """A link file that was present but does not count for its step."""

    keyid: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"keyid": self.keyid, "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class StepOutcome:
    name: str
    threshold: int
    signers: tuple[str, ...]  # keyids whose links are valid, in pubkeys order
    used: str  # keyid of the link the rules saw (the first valid one)
    missing: tuple[str, ...] = ()
    rejected: tuple[RejectedLink, ...] = ()
    sublayouts: tuple[tuple[str, VerificationResult], ...] = ()  # (keyid, result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "threshold": self.threshold,
            "signers": list(self.signers),
            "link_used": self.used,
            "missing": list(self.missing),
            "rejected": [item.to_dict() for item in self.rejected],
            "sublayouts": {keyid: result.to_dict() for keyid, result in self.sublayouts},
        }


@dataclass(frozen=True, kw_only=True)
class InspectionOutcome:
    name: str
    command: tuple[str, ...]
    return_value: int
    materials: int
    products: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": list(self.command),
            "return_value": self.return_value,
            "materials": self.materials,
            "products": self.products,
        }


@dataclass(frozen=True, kw_only=True)
class VerificationResult:
    """An accepted supply chain: who signed what, which rules passed, what it produced."""

    layout_signers: tuple[str, ...]
    expires: datetime
    steps: tuple[StepOutcome, ...]
    inspections: tuple[InspectionOutcome, ...]
    rules: tuple[RuleOutcome, ...]
    summary: Link
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": True,
            "layout_signers": list(self.layout_signers),
            "expires": format_expires(self.expires),
            "steps": [step.to_dict() for step in self.steps],
            "inspections": [item.to_dict() for item in self.inspections],
            "rules": [rule.to_dict() for rule in self.rules],
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)
