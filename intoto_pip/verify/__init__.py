"""Verification: an I/O-free engine (``engine``, ``rules``, ``patterns``, ``params``,
``result``) and the façades that feed it from disk (``folder``) and run inspections
(``inspections``)."""

from intoto_pip.verify.engine import InspectionRunner, verify_layout
from intoto_pip.verify.links import LinkSource
from intoto_pip.verify.result import (
    ArtifactRuleError,
    InspectionOutcome,
    RuleOutcome,
    StepOutcome,
    VerificationResult,
)

__all__ = [
    "ArtifactRuleError",
    "InspectionOutcome",
    "InspectionRunner",
    "LinkSource",
    "RuleOutcome",
    "StepOutcome",
    "VerificationResult",
    "verify_layout",
]
