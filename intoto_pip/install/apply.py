"""The only step that changes the target: every accepted candidate, in dependency order,
inside one transaction. Any failure (disk full, permission denied, a folder in the way, an
interrupt) removes everything written and restores every replaced file.

Before the transaction starts, every wheel is opened (once, through the reader that verified
it) and every path it would write is checked: a wheel that would write the interpreter, a file
of a distribution that stays installed, or a file of another wheel of this installation is
refused by name, with nothing written (``ownership``). Then the replaced versions are removed
and the wheels written."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from intoto_pip.errors import InstallError, MachineError
from intoto_pip.install.candidates import Candidate, InstallOutcome
from intoto_pip.install.requirements import dependency_order
from intoto_pip.install.target import InstalledDist, Target
from intoto_pip.install.transaction import Transaction

if TYPE_CHECKING:
    from pathlib import Path

    from intoto_pip.install.installer_step import InstalledFiles, WheelToInstall
    from intoto_pip.install.ownership import Claims
    from intoto_pip.install.wheel_source import OpenedWheel, VerifiedWheel


def install_all(
    outcome: InstallOutcome,
    *,
    compile_bytecode: bool = True,
    opened: dict[Path, OpenedWheel] | None = None,
) -> InstallOutcome:
    """Install every candidate in dependency order, in one transaction: all or nothing.

    Under the target's lock: another intoto-pip run's rollback cannot remove our files.
    ``compile_bytecode``: every module of every wheel compiled together by the target.
    ``opened``: wheels already opened for installing (while pip resolved), by path; each one
    used is taken out and closed here, the rest stay the caller's."""
    from intoto_pip.install.lock import target_lock

    with target_lock(outcome.target):
        return _install_locked(outcome, compile_bytecode, {} if opened is None else opened)


def _install_locked(
    outcome: InstallOutcome, compile_bytecode: bool, opened: dict[Path, OpenedWheel]
) -> InstallOutcome:
    target = outcome.target
    by_name = {c.meta.name: c for c in outcome.candidates}
    metas = [c.meta for c in outcome.candidates]
    order = [by_name[meta.name] for meta in dependency_order(metas, target.markers)]
    existing = target.installed()
    replaced = [existing[c.meta.name] for c in order if c.meta.name in existing]
    with contextlib.ExitStack() as stack:
        # Each wheel opened once, through the reader that verified it, for checking and writing;
        # every byte written is checked against the member hashes its verifier found.
        sources = [_source(c, opened, stack) for c in order]
        claims = _claims(target, existing, order, sources)
        installed = _write_all(target, order, sources, replaced, claims, compile_bytecode)
    return replace(
        outcome,
        installed=tuple(installed),
        replaced=tuple(replaced),
        compile_bytecode=compile_bytecode,
    )


def _source(
    candidate: Candidate, opened: dict[Path, OpenedWheel], stack: contextlib.ExitStack
) -> VerifiedWheel:
    """The candidate's wheel, open until ``stack`` closes: the one opened ahead when it was
    opened with the member hashes of this candidate's verdict, else opened now."""
    from intoto_pip.install.wheel_source import open_wheel

    members = candidate.verdict.member_sha256
    ahead = opened.pop(candidate.fetched.path, None)
    if ahead is not None:
        stack.callback(ahead.close)
        if dict(ahead.member_sha256) == dict(members):
            return ahead.source
    return stack.enter_context(open_wheel(candidate.fetched.path, verified_sha256=members))


def _claims(
    target: Target,
    existing: Mapping[str, InstalledDist],
    order: Sequence[Candidate],
    sources: Sequence[VerifiedWheel],
) -> Claims:
    """Refuse, before anything is written, a wheel that would write the interpreter, a file of
    a distribution that stays, or a file another wheel of this installation writes."""
    from intoto_pip.install.ownership import check_paths, claims_of, planned_paths
    from intoto_pip.install.target import scheme_for

    claims = claims_of(target, existing.values(), {c.meta.name for c in order})
    for candidate, source in zip(order, sources, strict=True):
        name = candidate.meta.name
        _no_own_verdict_record(name, source)
        paths = planned_paths(source, scheme_for(target, name))
        check_paths(name, paths, claims)
        claims = claims.with_owner(name, paths)
    return claims


def _no_own_verdict_record(name: str, source: VerifiedWheel) -> None:
    """The verdict record says how intoto-pip let a distribution in; a wheel that ships one
    would be claiming its own verdict (``intoto-pip check`` reads it)."""
    from intoto_pip.install.ownership import ClashError
    from intoto_pip.install.verdict_record import FILENAME

    if FILENAME in source.dist_info_filenames:
        raise ClashError(
            f"{name}: refused, it ships {source.dist_info_dir}/{FILENAME}, the record intoto-pip "
            "writes of how a distribution was let in"
        )


def _write_all(
    target: Target,
    order: Sequence[Candidate],
    sources: Sequence[VerifiedWheel],
    replaced: Sequence[InstalledDist],
    claims: Claims,
    compile_bytecode: bool,
) -> list[InstalledFiles]:
    """Remove the replaced versions, then write every wheel (their paths checked against
    ``claims`` already), then compile them all: one transaction, all or nothing."""
    from intoto_pip.install.installer_step import WheelWriter, remove_installed

    transaction = Transaction()
    now = datetime.now(UTC)
    writer = WheelWriter(target, transaction, compile_bytecode=compile_bytecode)
    try:
        try:
            for old in replaced:
                remove_installed(old, target, transaction)
            for candidate, source in zip(order, sources, strict=True):
                writer.write(_wheel_to_install(candidate, now), source)
            installed = writer.finish()
        finally:
            writer.abort()  # no compiler may still run when the rollback starts
    except BaseException as exc:
        problems = transaction.rollback()
        note = (
            f"; could not undo: {'; '.join(problems)}" if problems else "; the target was restored"
        )
        if not isinstance(exc, Exception):  # Ctrl-C, SIGTERM, exit: restored, then go on
            raise
        if isinstance(exc, OSError):
            raise MachineError(f"installation failed: {_describe(exc)}{note}") from exc
        raise InstallError(f"installation failed: {_describe(exc)}{note}") from exc
    transaction.commit()
    return installed


def _wheel_to_install(candidate: Candidate, now: datetime) -> WheelToInstall:
    from intoto_pip.install.installer_step import WheelToInstall
    from intoto_pip.install.verdict_record import record_for

    return WheelToInstall(
        path=candidate.fetched.path,
        name=candidate.meta.name,
        version=candidate.meta.version,
        requested=candidate.requested,
        direct_url=candidate.origin.url if candidate.direct else None,
        sha256=candidate.origin.sha256,
        verdict_record=record_for(candidate, now).to_bytes(),
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc) or type(exc).__name__
