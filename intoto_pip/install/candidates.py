"""One distribution on its way in: fetched privately, checked, verified (or allowed).

A candidate is a verified private copy of a wheel, or a wheel built from a verified sdist,
with the verdict that admitted it. Anything refused keeps its reason for the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from intoto_pip.errors import InstallError
from intoto_pip.install.build import InstallInto
from intoto_pip.install.fetch import FetchedFile, copy_local
from intoto_pip.install.options import InstallOptions
from intoto_pip.install.pip_settings import PipSettings
from intoto_pip.install.requirements import WheelMeta, read_wheel_meta
from intoto_pip.install.target import InstalledDist, Target
from intoto_pip.verify.archive import ArchiveVerdict, ArchiveVerifyRequest
from intoto_pip.verify.policy import Trust

if TYPE_CHECKING:
    from intoto_pip.install.installer_step import InstalledFiles
    from intoto_pip.verify.provenance_policy import ProvenanceVerdict


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One distribution that would be installed, with its verdict."""

    fetched: FetchedFile
    meta: WheelMeta
    requested: bool
    direct: bool
    verdict: ArchiveVerdict
    allowed_unverified: bool = False
    source: FetchedFile | None = None  # the verified sdist a wheel was built from
    provenance: ProvenanceVerdict | None = None  # None: provenance was not checked

    @property
    def origin(self) -> FetchedFile:
        """What was fetched and verified: the sdist for a built wheel, else the wheel."""
        return self.source or self.fetched

    @property
    def publisher_verified(self) -> bool:
        """Verified by its pinned publisher, and checked whole (no layout asked for)."""
        pinned = self.provenance is not None and self.provenance.pinned
        return pinned and self.verdict.checked_whole

    @property
    def accepted(self) -> bool:
        if self.provenance is not None and not self.provenance.accepted:
            return False  # provenance refuses, whatever else vouches for it
        return self.verdict.verified or self.allowed_unverified or self.publisher_verified


@dataclass(frozen=True, kw_only=True)
class InstallOutcome:
    """What was found and decided; ``installed`` is empty unless installation happened."""

    target: Target
    candidates: tuple[Candidate, ...]
    installed: tuple[InstalledFiles, ...] = ()
    replaced: tuple[InstalledDist, ...] = ()
    used_pip: bool = False
    dry_run: bool = False
    compile_bytecode: bool = True  # asked for; whether any .pyc was written: bytecode_written
    pip_settings: PipSettings | None = None  # what was read from pip's environment and files

    @property
    def refused(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if not c.accepted)

    @property
    def bytecode_written(self) -> bool:
        return any(item.bytecode_files for item in self.installed)


@dataclass(frozen=True, kw_only=True)
class Pending:
    """A fetched distribution waiting for its verdict."""

    fetched: FetchedFile
    meta: WheelMeta
    requested: bool
    direct: bool


class EarlyVerdicts(Protocol):
    """Verdicts reached before they were asked for (``prefetch``)."""

    def verdict(self, path: Path) -> ArchiveVerdict | None: ...


def verify_request(options: InstallOptions) -> ArchiveVerifyRequest:
    def trust_for(name: str) -> Trust:
        return options.policy.trust_for(name, options.layout_keys)

    return ArchiveVerifyRequest(trust_for=trust_for, inspection_timeout=options.inspection_timeout)


def _unchecked(meta: WheelMeta, options: InstallOptions) -> bool:
    """Allowed without verification, and no key to check it with: only checked whole."""
    allowed = options.policy.allows_unverified(meta.name)
    return allowed and not options.policy.trust_for(meta.name, options.layout_keys).layout_keys


def _publisher_only(meta: WheelMeta, options: InstallOptions) -> bool:
    """Vouched for by a pinned publisher and no layout key: checked whole, no in-toto."""
    trust = options.policy.trust_for(meta.name, options.layout_keys)
    return trust.publisher is not None and not trust.layout_keys


def needs_verification(meta: WheelMeta, options: InstallOptions) -> bool:
    """Whether the archive's in-toto evidence is verified (else it is only checked whole)."""
    return not (_unchecked(meta, options) or _publisher_only(meta, options))


def verify_candidates(
    items: Sequence[Pending | Candidate],
    options: InstallOptions,
    early: EarlyVerdicts | None = None,
) -> list[Candidate]:
    """A candidate for each item, in order; pending archives are verified in parallel (one
    process per core) unless allowed unverified, or taken from ``early`` where it verified
    them already. Items already candidates pass through. Provenance (PEP 740) is checked, in
    this process, where the policy asks for it."""
    from intoto_pip.install.provenance import provenance_verdicts

    waiting = [i for i in items if isinstance(i, Pending)]
    pending = [i for i in waiting if needs_verification(i.meta, options)]
    verdicts = dict(zip(map(id, pending), _verify_all(pending, options, early), strict=True))
    provenance = provenance_verdicts(waiting, options)
    result = []
    for item in items:
        if isinstance(item, Candidate):
            result.append(item)
        else:
            verdict = verdicts.get(id(item)) or _checked_only(item.fetched, item.meta)
            candidate = _candidate(item, verdict, options)
            result.append(replace(candidate, provenance=provenance.get(id(item))))
    return result


def _verify_all(
    pending: Sequence[Pending], options: InstallOptions, early: EarlyVerdicts | None
) -> list[ArchiveVerdict]:
    from intoto_pip.verify.parallel import verify_archives

    known = {}
    for item in pending:
        verdict = None if early is None else early.verdict(item.fetched.path)
        if verdict is not None:
            known[id(item)] = verdict
    rest = [item for item in pending if id(item) not in known]
    found = verify_archives([item.fetched.path for item in rest], verify_request(options))
    known.update(zip(map(id, rest), found, strict=True))
    verdicts = [known[id(item)] for item in pending]
    for item in pending:  # parallel verification has no running progress: report each done
        progress = options.progress_for(f"verifying {item.fetched.filename}")
        if progress is not None:
            progress(item.fetched.size, item.fetched.size)
            getattr(progress, "close", lambda: None)()
    return verdicts


def _candidate(item: Pending, verdict: ArchiveVerdict, options: InstallOptions) -> Candidate:
    allowed = options.policy.allows_unverified(item.meta.name)
    if _unchecked(item.meta, options):
        # Allowed, unless checking it whole found it broken (unsafe names, bad RECORD).
        allowed = verdict.checked_whole
    return Candidate(
        fetched=item.fetched,
        meta=item.meta,
        requested=item.requested,
        direct=item.direct,
        verdict=verdict,
        allowed_unverified=allowed and (verdict.no_metadata or _unchecked(item.meta, options)),
    )


ALLOWED_REASON = "not verified: allowed by --allow-unverified"
# Allowed, but it carries evidence nobody checked: the user should know (a key would check it).
UNCHECKED_METADATA = "its in-toto metadata was not checked: no layout key for this project"


def _checked_only(fetched: FetchedFile, meta: WheelMeta) -> ArchiveVerdict:
    """No verification asked for, but the archive is still checked whole (names, links,
    bombs, RECORD) before anything is installed from it."""
    from intoto_pip.archives.checked import open_checked
    from intoto_pip.errors import VerificationError

    verdict = ArchiveVerdict(
        path=fetched.path,
        filename=fetched.filename,
        name=meta.name,
        version=meta.version,
        verified=False,
    )
    try:
        with open_checked(fetched.path) as checked:
            unchecked = any(name.startswith(checked.embedded_prefix) for name in checked.names())
            wheel = checked.archive.kind == "wheel"
            members = checked.archive.sha256_of_members() if wheel else {}
    except VerificationError as exc:
        return replace(verdict, reason=str(exc))
    reason = ALLOWED_REASON + (f" ({UNCHECKED_METADATA})" if unchecked else "")
    return replace(
        verdict,
        reason=reason,
        checked_whole=True,
        unchecked_evidence=unchecked,
        member_sha256=members,
    )


def wheel_pending(fetched: FetchedFile, *, requested: bool, direct: bool) -> Pending | Candidate:
    """A wheel waiting for verification, or a refused candidate when its METADATA is bad."""
    from intoto_pip.errors import VerificationError

    try:
        meta = read_wheel_meta(fetched.path)
    except VerificationError as exc:
        return broken(fetched, str(exc))
    return Pending(fetched=fetched, meta=meta, requested=requested, direct=direct)


def sdist_pending(fetched: FetchedFile, *, requested: bool, direct: bool) -> Pending | Candidate:
    """An sdist waiting for verification (named as its file name says), or a refused one."""
    from intoto_pip.archives.checked import identify
    from intoto_pip.errors import VerificationError

    try:
        identity = identify(fetched.filename)
    except VerificationError as exc:
        return broken(fetched, str(exc))
    meta = WheelMeta(
        name=identity.name,
        version=identity.version,
        requires_dist=(),
        requires_python=None,
        tags=frozenset(),
    )
    return Pending(fetched=fetched, meta=meta, requested=requested, direct=direct)


def build_candidate(
    candidate: Candidate, folder: Path, target: Target, install_into: InstallInto
) -> Candidate:
    """Build an accepted sdist in isolation and read the wheel built.

    ``install_into`` installs build requirements into the build environment (through the
    whole pipeline again, so they are verified too)."""
    from intoto_pip.install.sdists import build_verified_sdist

    fetched = candidate.fetched
    wheel = build_verified_sdist(fetched.path, target.executable, folder, install_into)
    built = copy_local(wheel, folder)
    built_meta = read_wheel_meta(built.path)
    if built_meta.name != candidate.meta.name:
        raise InstallError(f"{fetched.filename}: built a wheel of {built_meta.name!r} instead")
    return replace(candidate, fetched=built, meta=built_meta, source=fetched)


def broken(fetched: FetchedFile, reason: str) -> Candidate:
    meta = WheelMeta(name="", version="", requires_dist=(), requires_python=None, tags=frozenset())
    verdict = ArchiveVerdict(
        path=fetched.path,
        filename=fetched.filename,
        name="",
        version="",
        verified=False,
        reason=reason,
    )
    return Candidate(fetched=fetched, meta=meta, requested=True, direct=True, verdict=verdict)
