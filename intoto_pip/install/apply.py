"""The only step that changes the target: every accepted candidate, in dependency order,
inside one transaction. Any failure (disk full, permission denied, a folder in the way, an
interrupt) removes everything written and restores every replaced file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from intoto_pip.errors import InstallError, MachineError
from intoto_pip.install.candidates import InstallOutcome
from intoto_pip.install.requirements import dependency_order


def install_all(outcome: InstallOutcome) -> InstallOutcome:
    """Install every candidate in dependency order, in one transaction: all or nothing.

    Under the target's lock: another intoto-pip run's rollback cannot remove our files."""
    from intoto_pip.install.lock import target_lock

    with target_lock(outcome.target):
        return _install_locked(outcome)


def _install_locked(outcome: InstallOutcome) -> InstallOutcome:
    from intoto_pip.install.installer_step import (
        WheelToInstall,
        install_wheel,
        remove_installed,
    )
    from intoto_pip.install.transaction import Transaction
    from intoto_pip.install.verdict_record import record_for

    target = outcome.target
    by_name = {c.meta.name: c for c in outcome.candidates}
    order = dependency_order([c.meta for c in outcome.candidates], target.markers)
    existing = target.installed()
    transaction = Transaction()
    now = datetime.now(UTC)
    installed, replaced = [], []
    try:
        for meta in order:
            candidate = by_name[meta.name]
            old = existing.get(meta.name)
            if old is not None:
                remove_installed(old, target, transaction)
                replaced.append(old)
            wheel = WheelToInstall(
                path=candidate.fetched.path,
                name=meta.name,
                version=meta.version,
                requested=candidate.requested,
                direct_url=candidate.origin.url if candidate.direct else None,
                sha256=candidate.origin.sha256,
                verdict_record=record_for(candidate, now).to_bytes(),
            )
            installed.append(install_wheel(wheel, target, transaction))
    except BaseException as exc:
        problems = transaction.rollback()
        note = (
            f"; could not undo: {'; '.join(problems)}" if problems else "; the target was restored"
        )
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(exc, OSError):
            raise MachineError(f"installation failed: {_describe(exc)}{note}") from exc
        raise InstallError(f"installation failed: {_describe(exc)}{note}") from exc
    transaction.commit()
    return replace(outcome, installed=tuple(installed), replaced=tuple(replaced))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc) or type(exc).__name__
