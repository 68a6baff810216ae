"""Verifying many independent archives at once, one worker process per core.

Verification is mostly Python under the GIL (parsing, signatures, rules) with some hashing and
inspection subprocesses, so threads would not scale: archives go to a process pool. What
crosses the process boundary is explicit and picklable: the parent resolves each archive's
trust (keys, out-of-band layout) and sends a ``VerifyJob`` of plain frozen values; the worker
sends back the ``ArchiveVerdict``. Verdicts come back in the order the archives were given, and
one archive's failure never hides the others' verdicts.

One archive (or one core) is verified in this process: a pool would only add its start-up.

The bytes installed are the bytes verified: a worker opens and verifies the private copy the
parent made (in a 0700 folder it created), and the parent installs from that same copy, which
nobody else can write in between. Workers write only into sandboxes of their own.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from intoto_pip.archives.checked import identify
from intoto_pip.errors import VerificationError
from intoto_pip.verify.archive import ArchiveVerdict, ArchiveVerifyRequest, verify_archive
from intoto_pip.verify.policy import Trust

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

# Imported once by the fork server, so each worker forked from it starts with them loaded.
_PRELOAD = ["intoto_pip.verify.archive"]
GENTLE_NICENESS = 10  # a VerifyingPool's workers: pip (resolving meanwhile) keeps its core


@dataclass(frozen=True)
class FixedTrust:
    """A picklable ``trust_for``: the trust the parent resolved for this one archive."""

    trust: Trust

    def __call__(self, name: str) -> Trust:
        return self.trust


@dataclass(frozen=True, kw_only=True)
class VerifyJob:
    """Everything a worker needs to verify one archive; every field pickles."""

    path: Path
    request: ArchiveVerifyRequest  # its trust_for is a FixedTrust


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def verify_archives(
    paths: Sequence[Path], request: ArchiveVerifyRequest, *, max_workers: int | None = None
) -> list[ArchiveVerdict]:
    """Verify every archive, in parallel when there is more than one; verdicts in input order.

    Usage errors (an out-of-band layout that cannot be read, say) are raised once every
    archive is done, the first in input order."""
    workers = min(len(paths), max_workers or usable_cores())
    if workers <= 1:
        return [verify_archive(path, request) for path in paths]
    from concurrent.futures import ProcessPoolExecutor  # not needed for a single archive

    jobs = [_job(path, request) for path in paths]
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = [pool.submit(run_job, job) for job in jobs]
        return [_verdict(job, future) for job, future in zip(jobs, futures, strict=True)]


class VerifyingPool:
    """Archives verified as they are handed in (``submit``), by up to ``workers`` processes;
    each verdict taken when wanted (``verdict``), or never: made for speculation, where some
    archives handed in are not wanted in the end. The workers run at a lower priority than
    this process and its other children (pip, resolving meanwhile). ``close`` drops what has
    not started and waits for what runs."""

    def __init__(self, request: ArchiveVerifyRequest, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self._request = request
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, workers), mp_context=_context(), initializer=_lower_priority
        )
        self._lock = threading.Lock()
        self._submitted: dict[Path, tuple[VerifyJob, Future[ArchiveVerdict]]] = {}

    def submit(self, path: Path) -> None:
        job = _job(path, self._request)
        with self._lock:
            if path not in self._submitted:
                self._submitted[path] = (job, self._pool.submit(run_job, job))

    def verdict(self, path: Path) -> ArchiveVerdict | None:
        """The archive's verdict once it is verified; None if it was never handed in."""
        with self._lock:
            submitted = self._submitted.get(path)
        return None if submitted is None else _verdict(*submitted)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # no os.nice on Windows
        os.nice(GENTLE_NICENESS)


def start_early() -> None:
    """Start the fork server the workers come from, without waiting for it: called before a
    long wait (pip resolving), its start-up and imports overlap that wait instead of delaying
    verification. A no-op with one core (archives are then verified in this process)."""
    if usable_cores() <= 1:
        return
    context = _context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _job(path: Path, request: ArchiveVerifyRequest) -> VerifyJob:
    try:
        name = identify(path.name).name
    except VerificationError:
        name = ""  # the worker refuses it with the reason; no trust is needed for that
    trust = request.trust_for(name) if name else Trust(layout_keys=())
    return VerifyJob(path=path, request=replace(request, trust_for=FixedTrust(trust)))


def run_job(job: VerifyJob) -> ArchiveVerdict:
    """The worker's side (a module-level function, so the pool can name it)."""
    return replace(verify_archive(job.path, job.request), worker_pid=os.getpid())


def _verdict(job: VerifyJob, future: Future[ArchiveVerdict]) -> ArchiveVerdict:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        # A worker died (killed, out of memory): this archive is not verified; say so.
        return ArchiveVerdict(
            path=job.path,
            filename=job.path.name,
            name="",
            version="",
            verified=False,
            reason=f"{job.path.name}: the verifying process ended unexpectedly",
        )


def _context() -> multiprocessing.context.BaseContext:
    # Not 'fork': this process may have threads (the executor's own manager thread, progress,
    # a hashing pool), and a child forked while another thread holds a lock (of the allocator,
    # of logging, of an import) can deadlock; Python 3.12 warns about it. 'forkserver' forks
    # workers from a server started clean (single-threaded) once, with _PRELOAD imported, so
    # each worker costs a fork, not an interpreter start and its imports as 'spawn' does.
    # 'spawn' where there is no fork server (Windows).
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")
