"""Re-verifying the in-toto evidence an installed distribution keeps (DESIGN §12).

At install time a wheel's ``<dist-info>/in-toto/`` was verified against the archive; it is
installed with the distribution. Afterwards the archive is gone, so this façade verifies
what can still be verified: the layout's signatures with the keys the policy pins *now*,
its links, their signatures and thresholds, and the step rules, in the engine's order.
Inspections ran on the archive and cannot run again; they are left out (and named). What
it returns is the final product the evidence vouches for: the last step's products, which
the caller compares with the installed files.

Expiry is judged at ``now``, which the caller sets to the time of installation when it
knows it: a layout that expired since is no reason to distrust what it let in then.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from intoto_pip.archives.evidence import ArchiveMetadata
from intoto_pip.crypto.keys import VerificationKey
from intoto_pip.store import read_user_file
from intoto_pip.verify.engine import CheckedLayout, check_layout, verify_layout
from intoto_pip.verify.policy import Trust


@dataclass(frozen=True, kw_only=True)
class EvidenceVerdict:
    """What re-verified evidence vouches for."""

    layout_origin: str
    layout_sha256: str
    layout_signers: tuple[str, ...]
    last_step: str
    final_product: Mapping[str, str]  # artifact name -> sha256, the last step's products
    inspections_skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EvidenceCheck:
    """How to re-verify one distribution's evidence."""

    trust: Trust
    raw_name: str  # NAME as spelt in the archive's file name
    version: str
    archive: str  # the archive's file name (ARCHIVE)
    now: datetime


class LayoutChecks:
    """The root layouts checked so far in one run, by their bytes and the keys checked with.

    The distributions of one producer carry one layout: its signatures are verified and its
    text parsed once (``engine.check_layout``), and each distribution's links, thresholds and
    rules are verified against it as before. A layout that fails is not kept: each
    distribution that carries it is refused on its own.
    """

    def __init__(self) -> None:
        self._checked: dict[tuple[bytes, tuple[VerificationKey, ...]], CheckedLayout] = {}

    def check(
        self, metadata: ArchiveMetadata, keys: Sequence[VerificationKey], now: datetime
    ) -> CheckedLayout:
        """The check of ``metadata``'s layout with ``keys``, made now or kept from before."""
        key = (metadata.layout, tuple(keys))
        found = self._checked.get(key)
        if found is None or not found.serves(found.envelope, keys, now):
            envelope = found.envelope if found is not None else metadata.envelope()
            found = check_layout(envelope, layout_keys=keys, now=now)
            self._checked[key] = found
        return found


def reverify_evidence(
    metadata: ArchiveMetadata, check: EvidenceCheck, layouts: LayoutChecks | None = None
) -> EvidenceVerdict:
    """Verify the installed evidence (no inspections); a refusal raises VerificationError.

    ``layouts``: layouts already checked in this run, shared across distributions.
    """
    if check.trust.layout is not None:  # out of band: the policy's layout replaces the shipped
        metadata = replace(
            metadata,
            layout=read_user_file(check.trust.layout),
            layout_origin=f"{check.trust.layout} (out-of-band layout)",
        )
    checked = None
    if layouts is not None:
        checked = layouts.check(metadata, check.trust.layout_keys, check.now)
        envelope = checked.envelope
    else:
        envelope = metadata.envelope()
    params = {
        "NAME": check.raw_name,
        "VERSION": check.version,
        "ARCHIVE": check.archive,
        "PYTHON": sys.executable,
    }
    result = verify_layout(
        envelope,
        layout_keys=check.trust.layout_keys,
        links=metadata.link_source(),
        params=params,
        run_inspection=None,
        now=check.now,
        skip_inspections=True,
        checked=checked,
    )
    products = {name: hashes.get("sha256", "") for name, hashes in result.summary.products.items()}
    return EvidenceVerdict(
        layout_origin=metadata.layout_origin,
        layout_sha256=hashlib.sha256(metadata.layout).hexdigest(),
        layout_signers=result.layout_signers,
        last_step=result.steps[-1].name if result.steps else "",
        final_product=products,
        inspections_skipped=_inspection_names(envelope.payload),
        warnings=result.warnings,
    )


def _inspection_names(payload: Mapping[str, object]) -> tuple[str, ...]:
    """The layout's inspections by name (it parsed already, so the shape is known)."""
    items = payload.get("inspect")
    if not isinstance(items, list):
        return ()
    return tuple(str(item.get("name", "")) for item in items if isinstance(item, dict))
