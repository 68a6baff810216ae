"""Provenance for ``verify ARCHIVE`` and ``provenance show``: local files, checked offline.

A local archive's attestations come from ``--provenance-dir`` or ``<archive>.provenance``
beside it (``install.provenance_fetch``); the archive's bytes are hashed here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intoto_pip.verify.policy import Policy
    from intoto_pip.verify.provenance import ProvenanceChecker
    from intoto_pip.verify.provenance_policy import Outcome, ProvenanceOptions, ProvenanceVerdict


def local_outcome(path: Path, checker: ProvenanceChecker, options: ProvenanceOptions) -> Outcome:
    """The Sigstore check of a local archive's provenance (or where none was found)."""
    from intoto_pip.archives.checked import identify
    from intoto_pip.install.fetch import FetchedFile
    from intoto_pip.install.provenance_fetch import ProvenanceLookup, find_provenance
    from intoto_pip.verify.provenance import outcome_of

    identity = identify(path.name)
    data = path.read_bytes()
    fetched = FetchedFile(
        path=path,
        filename=path.name,
        url=path.absolute().as_uri(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    lookup = ProvenanceLookup(provenance_dir=options.provenance_dir)
    found = find_provenance(fetched, identity.name, identity.version, lookup)
    return outcome_of(
        checker,
        found.source,
        filename=fetched.filename,
        sha256=fetched.sha256,
        looked_in=found.looked_in,
    )


def archive_verdicts(
    paths: list[Path], policy: Policy, options: ProvenanceOptions
) -> list[ProvenanceVerdict | None]:
    """A provenance verdict per archive whose project has provenance checked, else None.
    The trust store is read (tofu compares with it) but never written by ``verify``."""
    from intoto_pip.archives.checked import identify
    from intoto_pip.errors import VerificationError
    from intoto_pip.verify.provenance import ProvenanceChecker
    from intoto_pip.verify.provenance_policy import Outcome, decide
    from intoto_pip.verify.publishers import default_store_path, load_store

    names = [_name(path) for path in paths]
    if not any(name and _wanted(name, policy) for name in names):
        return [None] * len(paths)
    checker = ProvenanceChecker(options.trusted_root)
    store = load_store(options.store or default_store_path())
    verdicts: list[ProvenanceVerdict | None] = []
    for path, name in zip(paths, names, strict=True):
        if not name or not _wanted(name, policy):
            verdicts.append(None)
            continue
        try:
            outcome = local_outcome(path, checker, options)
        except VerificationError as exc:
            outcome = Outcome(failure=str(exc), problem="malformed")
        recorded = store.get(identify(path.name).name)
        verdicts.append(
            decide(
                name,
                outcome,
                mode=policy.provenance,
                pin=policy.trust_for(name, ()).publisher,
                recorded=recorded.identity if recorded else None,
            )
        )
    return verdicts


def _wanted(name: str, policy: Policy) -> bool:
    return policy.provenance != "off" or policy.pinned(name)


def project_of(path: Path) -> str:
    """The PEP 503 name an archive's file name gives ("" when it names none)."""
    return _name(path)


def _name(path: Path) -> str:
    from intoto_pip.archives.checked import identify
    from intoto_pip.errors import VerificationError

    try:
        return identify(path.name).name
    except VerificationError:
        return ""
