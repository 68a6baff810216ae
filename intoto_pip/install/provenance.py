"""Provenance for the distributions of one install: fetch, check, judge; record after.

Runs in this process, before any sdist is built (the files checked are the private copies
that will be installed or built). The trust store is read once per install and written only
after the install succeeded, so a refused or dry run records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from intoto_pip.install.options import InstallOptions
from intoto_pip.verify.provenance_policy import ProvenanceVerdict

if TYPE_CHECKING:
    from intoto_pip.install.candidates import InstallOutcome, Pending
    from intoto_pip.install.provenance_fetch import ProvenanceLookup
    from intoto_pip.verify.provenance import ProvenanceChecker
    from intoto_pip.verify.publishers import Recorded


def wanted(name: str, options: InstallOptions) -> bool:
    """Is provenance checked for project ``name`` (a mode other than off, or a pin)?"""
    return options.policy.provenance != "off" or options.policy.pinned(name)


def provenance_verdicts(
    items: Sequence[Pending], options: InstallOptions
) -> dict[int, ProvenanceVerdict]:
    """A verdict for each item (by ``id``) whose project has provenance checked."""
    chosen = [item for item in items if wanted(item.meta.name, options)]
    if not chosen:
        return {}
    from intoto_pip.verify.provenance import ProvenanceChecker
    from intoto_pip.verify.publishers import default_store_path, load_store

    checker = ProvenanceChecker(options.provenance.trusted_root)
    store = load_store(options.provenance.store or default_store_path())
    lookup = _lookup(options)
    return {id(item): _verdict(item, checker, store, lookup, options) for item in chosen}


def _verdict(
    item: Pending,
    checker: ProvenanceChecker,
    store: dict[str, Recorded],
    lookup: ProvenanceLookup,
    options: InstallOptions,
) -> ProvenanceVerdict:
    from intoto_pip.errors import VerificationError
    from intoto_pip.install.provenance_fetch import find_provenance
    from intoto_pip.verify.provenance import outcome_of
    from intoto_pip.verify.provenance_policy import Outcome, decide

    name, fetched = item.meta.name, item.fetched
    try:
        found = find_provenance(fetched, name, item.meta.version, lookup)
        outcome = outcome_of(
            checker,
            found.source,
            filename=fetched.filename,
            sha256=fetched.sha256,
            looked_in=found.looked_in,
        )
    except VerificationError as exc:
        outcome = Outcome(failure=str(exc), problem="fetch")
    recorded = store.get(name)
    return decide(
        name,
        outcome,
        mode=options.policy.provenance,
        pin=options.policy.trust_for(name, options.layout_keys).publisher,
        recorded=recorded.identity if recorded else None,
    )


def _lookup(options: InstallOptions) -> ProvenanceLookup:
    from intoto_pip.install.provenance_fetch import ProvenanceLookup
    from intoto_pip.install.simple_api import DEFAULT_INDEX

    resolve = options.resolve
    main = resolve.index_url or (None if resolve.no_index else DEFAULT_INDEX)
    indexes = (main,) if main else ()
    return ProvenanceLookup(
        provenance_dir=options.provenance.provenance_dir,
        index_urls=indexes + resolve.extra_index_urls,
    )


def record_first_seen(outcome: InstallOutcome, options: InstallOptions) -> list[str]:
    """After a successful install: record the publishers seen for the first time (tofu)."""
    entries = [
        (c.meta.name, c.provenance.identity, c.origin.filename)
        for c in outcome.candidates
        if c.provenance is not None and c.provenance.record and c.provenance.identity
    ]
    if not entries:
        return []
    from intoto_pip.verify.publishers import default_store_path, record_first

    return record_first(options.provenance.store or default_store_path(), entries)
