"""``intoto-pip install -r pylock.toml``: exactly the lock's files, verified, all or nothing.

1. Probe the target; read the lock; choose each package's file for the target (``pylock``).
2. Join the lock's ``attestation-identities`` with the user's pins (``lock_trust``).
3. Fetch exactly the listed files (a URL, or a path relative to the lock) into a private
   folder; refuse any whose size or hash differs from the lock's.
4. Verify each as ``install`` does (in-toto evidence, provenance, or both, per the policy);
   build a verified sdist only when it was opted into with ``--no-binary``.
5. If anything is refused, stop; otherwise install all in one transaction.

No resolution happens and pip never runs: the lock is the resolution. (Build requirements of
an opted-in sdist are the exception: they go through the whole pipeline, as for ``install``.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from intoto_pip.errors import VerificationError
from intoto_pip.install.candidates import (
    Candidate,
    InstallOutcome,
    Pending,
    sdist_pending,
    verify_candidates,
    wheel_pending,
)
from intoto_pip.install.fetch import CHUNK, FetchedFile, copy_local, fetch_url, private_folder
from intoto_pip.install.lock_trust import alternatives, lock_pins, pinned_policy
from intoto_pip.install.options import InstallOptions
from intoto_pip.install.pylock import LockedFile, lock_indexes, read_lock, select_files
from intoto_pip.install.target import Target, probe_target
from intoto_pip.models.publisher import PublisherPin


def install_lock(options: InstallOptions, lock_path: Path) -> InstallOutcome:
    """Verify the lock's files for the target, then install all of them or none."""
    from intoto_pip.install.pipeline import _check_managed

    target = probe_target(options.python, target_dir=options.target_dir, prefix=options.prefix)
    _check_managed(target, options)
    files = select_files(read_lock(lock_path), lock_path, target, no_binary=options.no_binary)
    pins = lock_pins(options.policy, files)
    options = _lock_options(options, files, pins)
    folder = private_folder()
    try:
        pending = [fetch_locked(locked, folder, options) for locked in files]
        candidates = verify_candidates(pending, options)
        candidates = [accept_alternatives(c, pins, options) for c in candidates]
        return _finish(candidates, folder, target, options)
    finally:
        from intoto_pip.install.fetch import remove_folder

        remove_folder(folder)


def _lock_options(
    options: InstallOptions, files: list[LockedFile], pins: dict[str, tuple[PublisherPin, ...]]
) -> InstallOptions:
    """Pins from the lock; provenance looked up on the indexes the lock names first."""
    indexes = lock_indexes(files)
    resolve = options.resolve
    if indexes:
        given = (resolve.index_url,) if resolve.index_url else ()
        extra = tuple(dict.fromkeys((*indexes[1:], *given, *resolve.extra_index_urls)))
        resolve = replace(resolve, index_url=indexes[0], extra_index_urls=extra)
    return replace(options, policy=pinned_policy(options.policy, pins), resolve=resolve)


def _finish(
    candidates: list[Candidate], folder: Path, target: Target, options: InstallOptions
) -> InstallOutcome:
    from intoto_pip.install.pipeline import _build_accepted, install_verified

    built = _build_accepted(candidates, folder, target, options)
    outcome = InstallOutcome(target=target, candidates=tuple(built), dry_run=options.dry_run)
    return outcome if outcome.refused else install_verified(outcome, options)


def fetch_locked(locked: LockedFile, folder: Path, options: InstallOptions) -> Pending | Candidate:
    """The private copy of one locked file, checked against the lock's size and hashes."""
    progress = options.progress_for(locked.filename)
    if locked.path is not None:
        fetched = copy_local(locked.path, folder, progress)
    else:
        assert locked.url is not None  # packaging.pylock: a file has a url or a path
        fetched = fetch_url(locked.url, folder, expected_sha256=None, progress=progress)
    check_locked(fetched, locked)
    if locked.is_wheel:
        return wheel_pending(fetched, requested=True, direct=locked.direct)
    return sdist_pending(fetched, requested=True, direct=locked.direct)


def check_locked(fetched: FetchedFile, locked: LockedFile) -> None:
    """VerificationError (exit 1) unless the copy is the file the lock names, byte for byte."""
    if fetched.filename != locked.filename:
        raise VerificationError(
            f"{locked.where}: the file fetched is {fetched.filename}, the lock names "
            f"{locked.filename}"
        )
    if locked.size is not None and fetched.size != locked.size:
        raise VerificationError(
            f"{locked.where}: {locked.filename} is {fetched.size} bytes, the lock says "
            f"{locked.size}: not the file that was locked"
        )
    for algorithm, expected in sorted(locked.hashes.items()):
        actual = fetched.sha256 if algorithm == "sha256" else _digest(fetched.path, algorithm)
        if actual != expected:
            raise VerificationError(
                f"{locked.where}: {locked.filename} has {algorithm} {actual}, the lock says "
                f"{expected}: not the file that was locked"
            )


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def accept_alternatives(
    candidate: Candidate, pins: Mapping[str, tuple[PublisherPin, ...]], options: InstallOptions
) -> Candidate:
    """A lock may name several identities for a package: a publisher that is not the first
    but is another of them is accepted (the signatures were already checked)."""
    from intoto_pip.verify.provenance_policy import Outcome, decide

    verdict = candidate.provenance
    if verdict is None or verdict.problem != "publisher" or verdict.identity is None:
        return candidate
    name = candidate.meta.name
    for pin in alternatives(pins, name):
        if not pin.mismatch(verdict.identity):
            outcome = Outcome(
                identity=verdict.identity,
                predicate_types=verdict.predicate_types,
                source=verdict.source,
                notes=verdict.notes,
            )
            again = decide(
                name, outcome, mode=options.policy.provenance, pin=pin, recorded=verdict.recorded
            )
            return replace(candidate, provenance=again)
    return candidate
