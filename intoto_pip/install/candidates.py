"""One distribution on its way in: fetched privately, checked, verified (or allowed).

A candidate is a verified private copy of a wheel, or a wheel built from a verified sdist,
with the verdict that admitted it. Anything refused keeps its reason for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from intoto_pip.dist.verify import ArchiveVerdict, ArchiveVerifyRequest, Trust, verify_archive
from intoto_pip.errors import InstallError
from intoto_pip.install.build import InstallInto
from intoto_pip.install.fetch import FetchedFile, copy_local
from intoto_pip.install.options import InstallOptions
from intoto_pip.install.requirements import WheelMeta, read_wheel_meta
from intoto_pip.install.target import InstalledDist, Target

if TYPE_CHECKING:
    from intoto_pip.install.installer_step import InstalledFiles


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

    @property
    def origin(self) -> FetchedFile:
        """What was fetched and verified: the sdist for a built wheel, else the wheel."""
        return self.source or self.fetched

    @property
    def accepted(self) -> bool:
        return self.verdict.verified or self.allowed_unverified


@dataclass(frozen=True, kw_only=True)
class InstallOutcome:
    """What was found and decided; ``installed`` is empty unless installation happened."""

    target: Target
    candidates: tuple[Candidate, ...]
    installed: tuple[InstalledFiles, ...] = ()
    replaced: tuple[InstalledDist, ...] = ()
    used_pip: bool = False
    dry_run: bool = False

    @property
    def refused(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if not c.accepted)


def _request(options: InstallOptions) -> ArchiveVerifyRequest:
    def trust_for(name: str) -> Trust:
        entry = options.policy.trust_for(name, options.layout_keys)
        return Trust(layout_keys=entry.layout_keys, layout=entry.layout, source=entry.source)

    return ArchiveVerifyRequest(trust_for=trust_for, inspection_timeout=options.inspection_timeout)


def verify_candidate(
    fetched: FetchedFile, meta: WheelMeta, options: InstallOptions, *, requested: bool, direct: bool
) -> Candidate:
    allowed = options.policy.allows_unverified(meta.name)
    trust = options.policy.trust_for(meta.name, options.layout_keys)
    if allowed and not trust.layout_keys:
        verdict = _checked_only(fetched, meta)
        if not verdict.reason.startswith(ALLOWED_REASON):
            return Candidate(
                fetched=fetched, meta=meta, requested=requested, direct=direct, verdict=verdict
            )
    else:
        progress = options.progress_for(f"verifying {fetched.filename}")
        if progress is not None:
            progress(0, fetched.size)
        verdict = verify_archive(fetched.path, _request(options))
        if progress is not None:
            progress(fetched.size, fetched.size)
            getattr(progress, "close", lambda: None)()
    return Candidate(
        fetched=fetched,
        meta=meta,
        requested=requested,
        direct=direct,
        verdict=verdict,
        allowed_unverified=allowed and (verdict.no_metadata or not trust.layout_keys),
    )


ALLOWED_REASON = "not verified: allowed by --allow-unverified"
# Allowed, but it carries evidence nobody checked: the user should know (a key would check it).
UNCHECKED_METADATA = "its in-toto metadata was not checked: no layout key for this project"


def _checked_only(fetched: FetchedFile, meta: WheelMeta) -> ArchiveVerdict:
    """No verification asked for, but the archive is still checked whole (names, links,
    bombs, RECORD) before anything is installed from it."""
    from intoto_pip.dist.checked import open_checked
    from intoto_pip.errors import VerificationError

    reason = ALLOWED_REASON
    try:
        with open_checked(fetched.path) as checked:
            if any(name.startswith(checked.embedded_prefix) for name in checked.names()):
                reason += f" ({UNCHECKED_METADATA})"
    except VerificationError as exc:
        reason = str(exc)
    return ArchiveVerdict(
        path=fetched.path,
        filename=fetched.filename,
        name=meta.name,
        version=meta.version,
        verified=False,
        reason=reason,
    )


def wheel_candidate(
    fetched: FetchedFile, options: InstallOptions, *, requested: bool, direct: bool
) -> Candidate:
    from intoto_pip.errors import VerificationError

    try:
        meta = read_wheel_meta(fetched.path)
    except VerificationError as exc:
        return broken(fetched, str(exc))
    return verify_candidate(fetched, meta, options, requested=requested, direct=direct)


def sdist_candidate(
    fetched: FetchedFile,
    folder: Path,
    target: Target,
    options: InstallOptions,
    install_into: InstallInto,
    *,
    requested: bool,
    direct: bool,
) -> Candidate:
    """Verify an sdist; only if accepted, build it in isolation and read the wheel built.

    ``install_into`` installs build requirements into the build environment (through the
    whole pipeline again, so they are verified too)."""
    from intoto_pip.dist.checked import identify
    from intoto_pip.errors import VerificationError
    from intoto_pip.install.sdists import build_verified_sdist

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
    candidate = verify_candidate(fetched, meta, options, requested=requested, direct=direct)
    if not candidate.accepted:
        return candidate

    wheel = build_verified_sdist(fetched.path, target.executable, folder, install_into)
    built = copy_local(wheel, folder)
    built_meta = read_wheel_meta(built.path)
    if built_meta.name != identity.name:
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
