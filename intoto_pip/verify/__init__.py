"""Verification: an I/O-free engine (``engine``, ``links``, ``rules``, ``patterns``,
``params``, ``result``) and the façades that feed it: a folder (``folder``, in-toto-verify's
job), an archive (``archive``) and many at once (``parallel``), installed files
(``installed``), inspections (``inspections``, ``descendants``), the trust policy
(``policy``) and PEP 740 provenance (``provenance``, ``provenance_policy``, ``publishers``)."""

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
