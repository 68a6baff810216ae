"""``intoto-pip install`` as a list of steps: probe, collect, verify, then install or not at all.

1. Probe the target interpreter (once, writing nothing).
2. Copy local archives into a private folder and verify them before pip sees them.
3. If anything still needs resolving (requirement strings, or dependencies of local wheels that
   the target does not satisfy), run pip in ``--dry-run --report`` mode, wheels only; download
   the exact files it picked, check the index's sha256, verify each.
4. If any distribution is refused, stop: nothing is installed.
5. Otherwise install in dependency order inside one transaction; any failure rolls back
   every file written and restores every file replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from intoto_pip.archives.names import canonical_name
from intoto_pip.errors import InputError, InstallError
from intoto_pip.install.apply import install_all
from intoto_pip.install.candidates import (
    Candidate,
    InstallOutcome,
    Pending,
    build_candidate,
    sdist_pending,
    verify_candidates,
    wheel_pending,
)
from intoto_pip.install.connection import Connection
from intoto_pip.install.downloads import fetch_all
from intoto_pip.install.early import Started, split_requirements, start
from intoto_pip.install.fetch import Progress, copy_local, fetch_url, private_folder
from intoto_pip.install.options import InstallOptions, ProgressFactory
from intoto_pip.install.pip_inputs import check_pip_inputs
from intoto_pip.install.pip_settings import PendingSettings
from intoto_pip.install.requirements import (
    check_compatible,
    direct_url_requirements,
    unsatisfied,
)
from intoto_pip.install.resolve import ResolvedItem, index_url, resolve, with_settings
from intoto_pip.install.target import Target

if TYPE_CHECKING:
    from intoto_pip.install.prefetch import Prefetch
    from intoto_pip.install.wheel_source import OpenedWheel

__all__ = ["InstallOptions", "InstallOutcome", "ProgressFactory", "run_install"]


def run_install(options: InstallOptions, started: Started | None = None) -> InstallOutcome:
    """Verify everything, then install everything or nothing.

    ``started``: the target's probe and pip's settings, begun by the caller (``early``) with
    this ``options``' interpreter, target and requirements; else they are started here."""
    local_paths, requirements = split_requirements(options.requirements)
    if started is None:
        needs_pip = bool(requirements or options.resolve.requirement_files)
        started = _start(options, needs_pip)
    try:
        return _run(options, local_paths, requirements, started)
    finally:
        started.close()


def _start(options: InstallOptions, needs_pip: bool) -> Started:
    return start(
        options.python,
        target_dir=options.target_dir,
        prefix=options.prefix,
        needs_pip=needs_pip and options.resolve.settings is None,
        environ=None if options.resolve.env is None else dict(options.resolve.env),
    )


def _run(
    options: InstallOptions,
    local_paths: list[Path],
    requirements: list[str],
    started: Started,
) -> InstallOutcome:
    target = started.probe.result()
    pending = started.settings
    _check_managed(target, options)
    # Before anything else: nothing handed to pip may make it build (and so run) a distribution.
    check_pip_inputs(requirements, options.resolve.requirement_files)
    folder = private_folder()
    opened: dict[Path, OpenedWheel] = {}  # wheels opened while pip resolved, not yet installed
    try:
        requirements, sdist_reqs = _split_no_binary(requirements, options.no_binary)
        if sdist_reqs:  # the index, and how to connect to it, may be pip's settings
            options = replace(options, resolve=with_settings(options.resolve, pending))
        items = [_collect_local(path, folder, options) for path in local_paths]
        items += [_collect_sdist(req, folder, options) for req in sdist_reqs]
        if items:
            options.announce(f"verifying {_count(items, 'archive')}")
        local = _build_accepted(verify_candidates(items, options), folder, target, options)
        _check_unique(local)
        outcome = InstallOutcome(
            target=target,
            candidates=tuple(local),
            dry_run=options.dry_run,
            pip_settings=options.resolve.settings,
        )
        if outcome.refused:
            return outcome
        if _needs_pip(local, requirements, target, options):
            outcome = _with_pip(outcome, local, requirements, folder, options, pending, opened)
            if outcome.refused:
                return outcome
        return install_verified(outcome, options, opened)
    finally:
        from intoto_pip.install.fetch import remove_folder

        for left in opened.values():
            left.close()
        remove_folder(folder)


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def install_verified(
    outcome: InstallOutcome,
    options: InstallOptions,
    opened: dict[Path, OpenedWheel] | None = None,
) -> InstallOutcome:
    """The last steps of every installation whose candidates were all accepted: each must fit
    the target; then, unless it is a dry run, all are installed in one transaction and who
    published them is remembered (trust on first use). ``opened``: see ``install_all``."""
    from intoto_pip.install.provenance import record_first_seen

    for candidate in outcome.candidates:
        check_compatible(candidate.meta, candidate.fetched.filename, outcome.target)
    if options.dry_run:
        return outcome
    options.announce(f"installing {_count(outcome.candidates, 'distribution')}")
    installed = install_all(outcome, compile_bytecode=options.compile_bytecode, opened=opened)
    record_first_seen(installed, options)
    return installed


def _split_no_binary(
    requirements: list[str], no_binary: frozenset[str]
) -> tuple[list[str], list[Requirement]]:
    """Requirements left for pip, and those opted into sdists with --no-binary."""
    if not no_binary:
        return requirements, []
    from packaging.requirements import InvalidRequirement

    kept: list[str] = []
    sdists: list[Requirement] = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise InputError(f"{text!r}: not a requirement ({exc})") from exc
        name = canonical_name(requirement.name)
        if ":all:" in no_binary or name in no_binary:
            sdists.append(requirement)
        else:
            kept.append(text)
    return kept, sdists


def _collect_sdist(
    requirement: Requirement, folder: Path, options: InstallOptions
) -> Pending | Candidate:
    from intoto_pip.install.simple_api import find_sdist

    url = index_url(options.resolve)
    if options.resolve.no_index and not options.resolve.index_url:
        # find_sdist would otherwise fall back to PyPI, which --no-index rules out.
        raise InputError(
            f"--no-binary {requirement.name}: the sdist is fetched from the index, and "
            "--no-index leaves none: give --index-url or the sdist file itself"
        )
    connection = Connection.from_settings(options.resolve.settings)
    link = find_sdist(url, requirement, pre=options.resolve.pre, connection=connection)
    fetched = fetch_url(
        link.url,
        folder,
        expected_sha256=link.sha256,
        progress=options.progress_for(link.filename),
        connection=connection,
    )
    return sdist_pending(fetched, requested=True, direct=False)


def _check_unique(candidates: list[Candidate]) -> None:
    seen: dict[str, str] = {}
    for candidate in candidates:
        name, filename = candidate.meta.name, candidate.fetched.filename
        if name and name in seen:
            raise InputError(f"{filename} and {seen[name]} are both {name}: give one of them")
        seen[name] = filename


def _check_managed(target: Target, options: InstallOptions) -> None:
    exempt = options.target_dir or options.prefix or options.dry_run
    if target.externally_managed and not (exempt or options.break_system_packages):
        raise InputError(
            f"{target.executable} is an externally managed environment "
            f"({target.externally_managed.strip().splitlines()[0]}); use a virtual environment, "
            "--target or --prefix, or --break-system-packages"
        )


def _collect_local(path: Path, folder: Path, options: InstallOptions) -> Pending | Candidate:
    fetched = copy_local(path, folder, options.progress_for(path.name))
    if path.name.endswith(".whl"):
        return wheel_pending(fetched, requested=True, direct=True)
    return sdist_pending(fetched, requested=True, direct=True)


def _build_accepted(
    candidates: list[Candidate], folder: Path, target: Target, options: InstallOptions
) -> list[Candidate]:
    """Build each verified sdist into a wheel; none when anything was refused (nothing will be
    installed, so no distribution's build code needs to run)."""
    if any(not candidate.accepted for candidate in candidates):
        return candidates

    def install_into(python: Path, requirements: Sequence[str]) -> None:
        _install_build_requirements(python, requirements, options)

    return [
        build_candidate(c, folder, target, install_into) if _is_sdist(c) else c for c in candidates
    ]


def _is_sdist(candidate: Candidate) -> bool:
    return not candidate.fetched.filename.endswith(".whl") and candidate.source is None


def _install_build_requirements(
    python: Path, requirements: Sequence[str], options: InstallOptions
) -> None:
    """Build requirements go through this same pipeline: verified (or allowed) first."""
    nested = replace(
        options,
        requirements=tuple(requirements),
        resolve=replace(options.resolve, requirement_files=(), no_deps=False, upgrade=False),
        python=python,
        target_dir=None,
        prefix=None,
        dry_run=False,
        no_binary=frozenset(),
    )
    try:
        outcome = run_install(nested)
    except InputError as exc:  # the sdist's requirements, not the user's command line
        raise InstallError(f"build requirements {', '.join(requirements)}: {exc}") from exc
    refused = outcome.refused
    if refused:
        first = refused[0]
        missing = sorted({c.meta.name for c in refused if c.verdict.no_metadata})
        hint = (
            f" (to build with them unverified: --allow-unverified {','.join(missing)})"
            if missing
            else ""
        )
        raise InstallError(
            f"build requirement {first.origin.filename} refused: {first.verdict.reason}{hint}"
        )


def _needs_pip(
    local: list[Candidate], requirements: list[str], target: Target, options: InstallOptions
) -> bool:
    if requirements or options.resolve.requirement_files:
        return True
    if options.resolve.no_deps or not local:
        return False
    installed = {name: dist.version for name, dist in target.installed().items()}
    metas = [candidate.meta for candidate in local]
    return bool(unsatisfied(metas, installed, target.markers))


def _with_pip(
    outcome: InstallOutcome,
    local: list[Candidate],
    requirements: list[str],
    folder: Path,
    options: InstallOptions,
    settings: PendingSettings | None = None,
    opened: dict[Path, OpenedWheel] | None = None,
) -> InstallOutcome:
    """Resolve with pip, then fetch and verify what it picked; the wheels opened for
    installing while it resolved go to ``opened``."""
    _check_direct_urls(local, outcome.target, options)
    by_url = {candidate.fetched.path.absolute().as_uri(): candidate for candidate in local}
    resolve_options = replace(
        options.resolve,
        requirements=(*requirements, *(str(c.fetched.path) for c in local)),
        python=Path(outcome.target.executable),
        target_dir=options.target_dir,
        prefix=options.prefix,
    )
    resolve_options = with_settings(resolve_options, settings)
    options.announce("resolving with pip (wheels only)")
    from intoto_pip.install.prefetch import Prefetch
    from intoto_pip.verify.parallel import start_early

    start_early()  # the verifiers get ready while pip works
    if not options.dry_run:
        threading.Thread(target=_load_installing, name="intoto-pip-load", daemon=True).start()
    connection = Connection.from_settings(resolve_options.settings)  # as pip connected
    early = Prefetch(folder, connection, options)
    try:
        items = resolve(resolve_options, settings, announce=early.announce)
        options.announce(f"downloading {_count(items, 'file')}")
        jobs = [partial(_candidate_for, item, by_url, folder, connection, early) for item in items]
        pending = fetch_all(jobs, options.progress_for(f"downloading {_count(items, 'file')}"))
        options.announce(f"verifying {_count(pending, 'archive')}")
        candidates = verify_candidates(pending, options, early)
        if opened is not None:
            opened.update(early.hand_over(c.fetched.path for c in candidates))
    finally:
        early.close()
    return replace(
        outcome,
        candidates=tuple(candidates),
        used_pip=True,
        pip_settings=resolve_options.settings,
    )


def _load_installing() -> None:
    """What writing the wheels imports (about 35 ms), imported while pip resolves rather than
    after: nothing else waits for it then. A failure is left to the installation, which
    imports the same and says what failed (a thread's exception would be a traceback)."""
    try:
        import intoto_pip.install.installer_step
        import intoto_pip.install.ownership
        import intoto_pip.install.verdict_record
        import intoto_pip.install.wheel_source  # noqa: F401
    except Exception:  # noqa: S110
        pass


def _check_direct_urls(local: list[Candidate], target: Target, options: InstallOptions) -> None:
    """Before pip reads them: no verified distribution may send pip to a direct URL, which it
    would follow (and build, if not a wheel) before anything checked what is there."""
    if options.resolve.no_deps:
        return  # pip reads no dependency
    for candidate in local:
        found = direct_url_requirements(candidate.meta, target.markers, options.allow_direct_url)
        if found:
            requirement = found[0]
            raise InstallError(
                f"{candidate.origin.filename} requires {str(requirement)!r}, a direct URL: pip "
                "would fetch it, and build it unless it is a wheel, before anything is "
                "verified; refused before pip started (to let pip follow it: "
                f"--allow-direct-url {canonical_name(requirement.name)})"
            )


def _candidate_for(
    item: ResolvedItem,
    by_url: Mapping[str, Candidate],
    folder: Path,
    connection: Connection,
    early: Prefetch,
    progress: Progress | None,
) -> Pending | Candidate:
    known = by_url.get(item.url)
    if known is not None:
        return known
    fetched_early = early.take(item)
    if fetched_early is not None:
        return fetched_early
    fetched = fetch_url(
        item.url,
        folder,
        expected_sha256=item.sha256,
        progress=progress,
        connection=connection,
    )
    return wheel_pending(fetched, requested=item.requested, direct=item.is_direct)
