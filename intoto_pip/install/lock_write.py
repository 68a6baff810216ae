"""``intoto-pip lock``: resolve and verify as ``install`` would, then write a PEP 751 lock.

The lock is made from an install's outcome in dry-run mode, so it records only what
``install`` would have accepted: a refused outcome writes nothing. For each package it records
the file that was verified (the sdist, for one built from source), its URL (or, for a local
file, its path relative to the lock), size and sha256, the index it came from, and, when its
PEP 740 provenance verified, the publisher as ``attestation-identities`` (PEP 740's field
names), which ``install -r pylock.toml`` then requires.

Built with ``packaging.pylock``'s classes and validated by them; the text written is read back
and must give the same lock.
"""

from __future__ import annotations

import os
import tomllib
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from intoto_pip.errors import InstallError
from intoto_pip.install.candidates import Candidate, InstallOutcome
from intoto_pip.models.publisher import PublisherIdentity

if TYPE_CHECKING:
    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

CREATED_BY = "intoto-pip"
LOCK_VERSION = "1.0"


def build_lock(outcome: InstallOutcome, *, lock_path: Path, indexes: Sequence[str] = ()) -> Pylock:
    """The lock of an accepted outcome; ``indexes`` are those the files may have come from."""
    from packaging.pylock import Pylock
    from packaging.version import Version

    if outcome.refused:
        raise InstallError("a lock is written only when every distribution is accepted")
    packages = sorted(outcome.candidates, key=lambda c: c.meta.name)
    lock = Pylock(
        lock_version=Version(LOCK_VERSION),
        created_by=CREATED_BY,
        packages=[_package(c, lock_path.absolute().parent, indexes) for c in packages],
    )
    lock.validate()
    return lock


def _package(candidate: Candidate, folder: Path, indexes: Sequence[str]) -> Package:
    from packaging.pylock import Package
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    origin = candidate.origin
    url, path = _location(origin.url, folder)
    identity = _identity(candidate)
    file = _file(origin.filename, url=url, path=path, size=origin.size, sha256=origin.sha256)
    wheels = [file] if origin.filename.endswith(".whl") else None
    return Package(
        name=canonicalize_name(candidate.meta.name),
        version=Version(candidate.meta.version),
        index=_index(url, indexes),
        wheels=wheels,  # type: ignore[arg-type]
        sdist=None if wheels else file,  # type: ignore[arg-type]
        attestation_identities=[identity_table(identity)] if identity else None,
    )


def _file(
    filename: str, *, url: str | None, path: str | None, size: int, sha256: str
) -> PackageWheel | PackageSdist:
    from packaging.pylock import PackageSdist, PackageWheel

    kind = PackageWheel if filename.endswith(".whl") else PackageSdist
    return kind(name=filename, url=url, path=path, size=size, hashes={"sha256": sha256})


def _location(url: str, folder: Path) -> tuple[str | None, str | None]:
    """A URL, or for a local file its path: relative to the lock's folder when it is below it
    (a lock committed with its wheels stays valid elsewhere), else absolute."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file":
        return url, None
    local = Path(urllib.parse.unquote(parts.path))
    try:
        return None, local.relative_to(folder).as_posix()
    except ValueError:
        return None, os.fspath(local)


def _index(url: str | None, indexes: Sequence[str]) -> str | None:
    """The index a file came from: the one on the same host (the only one, when there is
    one); None for a local file or when it cannot be told."""
    if url is None:
        return None
    host = urllib.parse.urlsplit(url).netloc
    same = [index for index in indexes if urllib.parse.urlsplit(index).netloc == host]
    return same[0] if len(same) == 1 else (indexes[0] if len(indexes) == 1 else None)


def _identity(candidate: Candidate) -> PublisherIdentity | None:
    """The publisher, when the file's provenance verified and names a Trusted Publisher."""
    verdict = candidate.provenance
    if verdict is None or verdict.status != "verified" or not verdict.accepted:
        return None
    identity = verdict.identity
    return identity if identity is not None and identity.kind in (*_FIELDS, "Google") else None


_FIELDS = {"GitHub": "workflow", "GitLab": "workflow_filepath"}


def identity_table(identity: PublisherIdentity) -> dict[str, str]:
    """PEP 740's Trusted Publisher object for an identity (what ``attestation-identities``
    holds, and what ``models.publisher.publisher_from_table`` reads back as a pin)."""
    if identity.kind == "Google":
        return {"kind": "Google", "email": identity.email}
    return {
        "kind": identity.kind,
        "repository": identity.repository,
        _FIELDS[identity.kind]: identity.workflow,
    }


def lock_text(lock: Pylock) -> str:
    """The TOML text of ``lock``, checked by reading it back."""
    from packaging.pylock import Pylock

    from intoto_pip.install.lock_toml import render

    text = render(lock.to_dict())
    if Pylock.from_dict(tomllib.loads(text)) != lock:
        raise InstallError("the lock written does not read back as the same lock")
    return text


def write_lock(lock: Pylock, path: Path) -> None:
    """Write ``lock`` to ``path`` atomically (a reader never sees half a lock)."""
    from intoto_pip.store import write_atomic

    write_atomic(path, lock_text(lock).encode("utf-8"))
