"""A lock's ``attestation-identities`` as publisher pins, joined with the user's own pins.

A package's identities in a lock say who published its files when the lock was written; at
install, they pin the publisher exactly as ``--publisher NAME=...`` would. When the policy file
(or ``--publisher``) pins the same project too, both must hold: a lock identity that cannot be
the policy's publisher is refused before anything is fetched, naming both. Of two compatible
pins the narrower one is kept (a workflow named by either is required).

Several identities for one package are alternatives (PEP 751): the file's publisher must be
one of them. ``alternatives`` keeps them for the check after verification. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from intoto_pip.errors import InputError
from intoto_pip.install.pylock import LockedFile
from intoto_pip.models.publisher import PublisherPin
from intoto_pip.verify.policy import Policy


def compatible(a: PublisherPin, b: PublisherPin) -> bool:
    """Could one publisher satisfy both pins?"""
    if a.kind != b.kind:
        return False
    if a.kind == "Google":
        return a.email.lower() == b.email.lower()
    same_repository = a.repository.lower() == b.repository.lower()
    return same_repository and (None in (a.workflow, b.workflow) or a.workflow == b.workflow)


def narrower(policy_pin: PublisherPin, lock_pin: PublisherPin) -> PublisherPin:
    """The pin that demands both (they are compatible)."""
    return replace(
        lock_pin,
        workflow=lock_pin.workflow or policy_pin.workflow,
        environment=lock_pin.environment or policy_pin.environment,
        source=f"{policy_pin.source} and {lock_pin.source}",
    )


def lock_pins(policy: Policy, files: Sequence[LockedFile]) -> dict[str, tuple[PublisherPin, ...]]:
    """Each pinned package's acceptable publishers (the lock's, narrowed by the policy's)."""
    pins: dict[str, tuple[PublisherPin, ...]] = {}
    for locked in files:
        if not locked.identities:
            continue
        own = policy.trust_for(locked.name, ()).publisher
        if own is None:
            pins[locked.name] = locked.identities
            continue
        kept = tuple(narrower(own, pin) for pin in locked.identities if compatible(own, pin))
        if not kept:
            theirs = " or ".join(pin.describe() for pin in locked.identities)
            raise InputError(
                f"{locked.package_where}.attestation-identities: the lock says {locked.name} is "
                f"published by {theirs}, but {own.source} pins it to {own.describe()}; "
                "one of them is wrong: fix the lock or the pin"
            )
        pins[locked.name] = kept
    return pins


def pinned_policy(policy: Policy, pins: Mapping[str, tuple[PublisherPin, ...]]) -> Policy:
    """The policy with each locked package pinned to its first acceptable publisher (the
    others are tried after verification: ``lock_install.accept_alternatives``)."""
    if not pins:
        return policy
    chosen = {name: alternatives[0] for name, alternatives in pins.items()}
    return replace(policy, publishers={**policy.publishers, **chosen})


def alternatives(pins: Mapping[str, tuple[PublisherPin, ...]], name: str) -> Sequence[PublisherPin]:
    return pins.get(name, ())[1:]
