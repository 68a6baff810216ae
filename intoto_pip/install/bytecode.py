"""Compiling the installed modules to bytecode, with the target's interpreter, into a private
folder: the transaction then copies each ``.pyc`` into the target.

The compiler never writes into the target itself. ``py_compile`` writes a ``.pyc`` through a
temporary ``NAME.pyc.<digits>`` file; an interruption (Ctrl-C reaches the compiler too) could
leave that temporary behind, where no journal knows it. In the private folder such leftovers
are simply removed with it, and the copy into the target is journaled before it starts.

Another interpreter (the target, when it is not the one running intoto-pip) compiles in a pool
of processes, one per usable core, started once per installation (every module of every wheel
at once) with ``-I -B -S`` (no ``site``: no ``.pth`` file runs mid-installation) only after the
interpreter was checked unchanged since it was probed. When the target is the running
interpreter, it compiles in-process, as pip does.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from intoto_pip.errors import InstallError

COMPILE_TIMEOUT = 600.0
MIN_SHARE = 16  # jobs per worker, at least, before another worker is started

# One JSON [source, staged] pair a line; a module that does not compile gets no .pyc (as pip).
# (Run by another interpreter: what it writes must be valid for old Pythons too.)
_COMPILE = r"""
import json, py_compile, sys
for line in sys.stdin:
    source, staged = json.loads(line)
    try:
        py_compile.compile(source, cfile=staged, dfile=source, doraise=True)
    except Exception:
        pass
"""


@dataclass(frozen=True)
class Job:
    """A module installed at ``source``, its bytecode's place in the target, and in staging."""

    source: Path
    cache: Path
    staged: Path


class _Jobs:
    def __init__(self) -> None:
        self._jobs: list[tuple[Path, Path]] = []

    def submit(self, source: Path, cache: Path) -> int:
        """Queue a module; its number is its job's place in ``jobs_in``'s list."""
        self._jobs.append((source, cache))
        return len(self._jobs) - 1

    def jobs_in(self, staging: Path) -> list[Job]:
        return [Job(src, cache, staging / f"{i}.pyc") for i, (src, cache) in enumerate(self._jobs)]


class BytecodeCompiler(_Jobs):
    """Another interpreter (the target) compiling the modules: a pool of processes, one per
    usable core, started once for the whole installation and given every module of every wheel.

    Each worker reads its share of the jobs from a file in the staging folder (no pipe to keep
    fed, none to deadlock on). ``check`` runs just before any worker is started (it raises when
    the interpreter changed since it was probed). ``abort`` kills workers still running."""

    def __init__(
        self, python: str, check: Callable[[], None] | None = None, workers: int | None = None
    ) -> None:
        super().__init__()
        self._python, self._check = python, check
        self._workers = workers or usable_cores()
        self._processes: list[subprocess.Popen[bytes]] = []

    def compile_into(self, staging: Path) -> list[Job]:
        jobs = self.jobs_in(staging)
        if not jobs:
            return jobs
        if self._check is not None:
            self._check()
        for number, share in enumerate(_shares(jobs, self._workers)):
            listing = staging / f"jobs-{number}.jsonl"
            listing.write_bytes(b"".join(_line(job) for job in share))
            self._start(listing)
        deadline = time.monotonic() + COMPILE_TIMEOUT
        try:
            for process in self._processes:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            self.abort()
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        return jobs

    def abort(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def _start(self, listing: Path) -> None:
        try:
            with listing.open("rb") as stdin:
                self._processes.append(
                    subprocess.Popen(
                        [self._python, "-I", "-B", "-S", "-c", _COMPILE],
                        stdin=stdin,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        except OSError as exc:
            self.abort()
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not all the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _shares(jobs: list[Job], workers: int) -> list[list[Job]]:
    """Jobs dealt round-robin (a wheel's modules are listed together: each worker gets some of
    each); no more workers than MIN_SHARE jobs each keep busy (a start costs ~20 ms)."""
    count = max(1, min(workers, len(jobs) // MIN_SHARE))
    return [jobs[i::count] for i in range(count)]


def _line(job: Job) -> bytes:
    return json.dumps([str(job.source), str(job.staged)]).encode() + b"\n"


class InProcessCompiler(_Jobs):
    """The running interpreter is the target: it compiles the modules itself, as pip does.

    Only ``py_compile``: no module is imported, no ``site`` or ``.pth`` runs (as ``-S`` in a
    separate process). ``optimize=0``: the .pyc name carries no ``opt-`` tag, so its content
    must not depend on the ``-O`` this process may run with."""

    def compile_into(self, staging: Path) -> list[Job]:
        import py_compile

        jobs = self.jobs_in(staging)
        for job in jobs:
            source, staged = str(job.source), str(job.staged)
            with contextlib.suppress(Exception):  # no .pyc for what does not compile (as pip)
                py_compile.compile(source, cfile=staged, dfile=source, doraise=True, optimize=0)
        return jobs

    def abort(self) -> None:
        """Nothing runs in the background."""


Compiler = BytecodeCompiler | InProcessCompiler


def compiler_for(python: str, check: Callable[[], None] | None = None) -> Compiler:
    """In-process for the running interpreter, else the target interpreter (``check``ed)."""
    from intoto_pip.install.target import is_this_interpreter

    if is_this_interpreter(Path(python)):
        return InProcessCompiler()
    return BytecodeCompiler(python, check)
