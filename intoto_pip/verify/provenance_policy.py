"""What a provenance check means for one distribution: the mode, the pin, the record.

Modes (``--provenance``, or ``provenance = "..."`` in the policy file; default ``off``):

- ``off``: attestations are not fetched or checked (a pinned project is still checked).
- ``warn``: checked when the index offers them; a failure is a warning, never a refusal.
- ``tofu``: checked when offered, and a failure refuses; the first verified publisher of a
  project is recorded in the trust store, and a later release from another publisher, or
  without provenance, is refused.
- ``require``: as ``tofu``, and a distribution without provenance is refused.

A project pinned to a publisher (policy ``publisher = {...}`` or ``--publisher``) must come
with provenance from that publisher, whatever the mode; such a distribution counts as verified.
Pure: the trust store's record and the check's outcome come in, a verdict goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intoto_pip.models.provenance import PUBLISH_V1, SLSA_PROVENANCE_V1
from intoto_pip.models.publisher import PublisherIdentity, PublisherPin

SHORT_TYPES = {PUBLISH_V1: "publish/v1", SLSA_PROVENANCE_V1: "slsa-provenance/v1"}


@dataclass(frozen=True, kw_only=True)
class ProvenanceOptions:
    """Where provenance comes from and what it is checked against (the mode and the pins
    are in the policy). ``store`` None is the default trust store."""

    trusted_root: Path | None = None  # --sigstore-trusted-root; None: sigstore's embedded
    provenance_dir: Path | None = None
    store: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ProvenanceVerdict:
    """What provenance said about one distribution.

    ``status``: verified, absent (none offered), failed (offered, did not verify), or off.
    ``accepted`` is False when provenance alone refuses the distribution; ``pinned`` when it
    was verified against a pin (which makes it verified for install). ``problem`` names the
    failed check (absent, signature, foreign-instance, subject, identity, malformed,
    publisher, changed-publisher, downgrade)."""

    status: str
    accepted: bool
    identity: PublisherIdentity | None = None
    predicate_types: tuple[str, ...] = ()
    pinned: bool = False
    reason: str = ""
    problem: str = ""
    source: str = ""
    record: bool = False  # tofu: record this identity once the install succeeds
    recorded: PublisherIdentity | None = None  # what the trust store held before
    notes: tuple[str, ...] = ()  # things to say even when accepted (false claims, ...)

    def describe_identity(self) -> str:
        if self.identity is None:
            return ""
        kinds = ", ".join(SHORT_TYPES.get(kind, kind) for kind in self.predicate_types)
        return f"published by {self.identity.describe()} ({kinds})"

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "accepted": self.accepted,
            "publisher": self.identity.to_dict() if self.identity else None,
            "predicate_types": list(self.predicate_types),
            "pinned": self.pinned,
            "reason": self.reason,
            "problem": self.problem or None,
            "source": self.source or None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """The check's result before policy: verified (identity), or failed, or nothing found."""

    identity: PublisherIdentity | None = None
    predicate_types: tuple[str, ...] = ()
    failure: str = ""
    problem: str = ""
    source: str = ""
    looked_in: str = ""  # where we looked when nothing was found
    notes: tuple[str, ...] = ()


def same_publisher(a: PublisherIdentity, b: PublisherIdentity) -> bool:
    return (a.kind, a.repository.lower(), a.workflow, a.email.lower(), a.issuer) == (
        b.kind,
        b.repository.lower(),
        b.workflow,
        b.email.lower(),
        b.issuer,
    )


def decide(
    name: str,
    outcome: Outcome,
    *,
    mode: str,
    pin: PublisherPin | None,
    recorded: PublisherIdentity | None,
) -> ProvenanceVerdict:
    """The verdict for project ``name`` under ``mode``, its ``pin`` and its ``recorded``
    publisher (tofu); see the module docstring for the rules."""
    if outcome.failure:
        return _failed(outcome, mode=mode, pin=pin, recorded=recorded)
    if outcome.identity is None:
        return _absent(name, outcome, mode=mode, pin=pin, recorded=recorded)
    return _verified(name, outcome, outcome.identity, mode=mode, pin=pin, recorded=recorded)


def _failed(
    outcome: Outcome, *, mode: str, pin: PublisherPin | None, recorded: PublisherIdentity | None
) -> ProvenanceVerdict:
    refuses = pin is not None or mode in ("tofu", "require")
    return ProvenanceVerdict(
        status="failed",
        accepted=not refuses,
        reason=f"provenance does not verify: {outcome.failure}",
        problem=outcome.problem,
        source=outcome.source,
        recorded=recorded,
    )


def _absent(
    name: str,
    outcome: Outcome,
    *,
    mode: str,
    pin: PublisherPin | None,
    recorded: PublisherIdentity | None,
) -> ProvenanceVerdict:
    where = outcome.looked_in or "nowhere"
    if recorded is not None and mode in ("tofu", "require"):
        reason = (
            f"no provenance, but {name} was published by {recorded.describe()} before "
            f"(looked in {where}); a release without it may have been uploaded with a stolen "
            f"token. If the project really stopped attesting: intoto-pip trust forget {name}"
        )
        return _refused("downgrade", reason, recorded=recorded)
    if pin is not None or mode == "require":
        wanted = f"from {pin.describe()} " if pin is not None else ""
        reason = (
            f"no provenance {wanted}found (looked in {where}; mirrors often strip PEP 740 "
            "attestations: use an index that serves them, or --provenance-dir DIR)"
        )
        return _refused("absent", reason, recorded=recorded)
    return ProvenanceVerdict(status="absent", accepted=True, problem="absent", reason=where)


def _verified(
    name: str,
    outcome: Outcome,
    identity: PublisherIdentity,
    *,
    mode: str,
    pin: PublisherPin | None,
    recorded: PublisherIdentity | None,
) -> ProvenanceVerdict:
    verdict = ProvenanceVerdict(
        status="verified",
        accepted=True,
        identity=identity,
        predicate_types=outcome.predicate_types,
        source=outcome.source,
        recorded=recorded,
        notes=outcome.notes + _environment_note(pin),
    )
    if pin is not None:
        wrong = pin.mismatch(identity)
        if wrong:
            return _refused("publisher", f"{wrong} (pinned by {pin.source})", base=verdict)
        return _with(verdict, pinned=True)
    if mode not in ("tofu", "require"):
        return verdict
    if recorded is None:
        return _with(verdict, record=True)
    if not same_publisher(recorded, identity):
        reason = (
            f"published by {identity.describe()}, but {name} was published by "
            f"{recorded.describe()} before; if the project really moved: "
            f"intoto-pip trust forget {name}"
        )
        return _refused("changed-publisher", reason, base=verdict)
    return verdict


def _environment_note(pin: PublisherPin | None) -> tuple[str, ...]:
    if pin is None or not pin.environment:
        return ()
    return (
        f"environment {pin.environment!r} of the pin is not checked: Sigstore certificates "
        "do not carry it",
    )


def _refused(
    problem: str,
    reason: str,
    *,
    base: ProvenanceVerdict | None = None,
    recorded: PublisherIdentity | None = None,
) -> ProvenanceVerdict:
    if base is None:
        return ProvenanceVerdict(
            status="absent", accepted=False, reason=reason, problem=problem, recorded=recorded
        )
    return _with(base, accepted=False, reason=reason, problem=problem)


def _with(verdict: ProvenanceVerdict, **changes: object) -> ProvenanceVerdict:
    from dataclasses import replace

    return replace(verdict, **changes)  # type: ignore[arg-type]
