"""Compiling the installed modules to bytecode, with the target's interpreter, into a private
folder: the transaction then copies each ``.pyc`` into the target.

The compiler never writes into the target itself. ``py_compile`` writes a ``.pyc`` through a
temporary ``NAME.pyc.<digits>`` file; an interruption (Ctrl-C reaches the compiler too) could
leave that temporary behind, where no journal knows it. In the private folder (made by the
compiler, removed by ``close``) such leftovers are simply removed with it, and the copy into
the target is journaled before it starts.

Another interpreter (the target, when it is not the one running intoto-pip) compiles in a pool
of processes, one per usable core, started once per installation with ``-I -B -S`` (no
``site``: no ``.pth`` file runs mid-installation) only after the interpreter was checked
unchanged since it was probed. Each module is handed to a worker as soon as it is written, so
compiling overlaps writing the rest; ``wait`` returns once every module is compiled. When the
target is the running interpreter, it compiles in-process, as pip does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from intoto_pip.errors import InstallError

COMPILE_TIMEOUT = 600.0
MIN_SHARE = 16  # modules handed out per worker before another worker is started

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
    """Modules queued in order, each with its private ``.pyc`` name in the staging folder."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._staging: Path | None = None

    def _queue(self, source: Path, cache: Path) -> Job:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="intoto-pip-bytecode-"))
        job = Job(source, cache, self._staging / f"{len(self._jobs)}.pyc")
        self._jobs.append(job)
        return job

    def _remove_staging(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


class BytecodeCompiler(_Jobs):
    """Another interpreter (the target) compiling the modules: a pool of processes, one per
    usable core, started once for the whole installation and given every module of every wheel
    as it is written (to the worker with the fewest bytes to compile).

    ``check`` runs just before the first worker is started (it raises when the interpreter
    changed since it was probed). ``close`` stops workers still running and removes the
    private folder: call it in a ``finally``, before any rollback."""

    def __init__(
        self, python: str, check: Callable[[], None] | None = None, workers: int | None = None
    ) -> None:
        super().__init__()
        self._python, self._check = python, check
        self._workers = workers or usable_cores()
        self._processes: list[subprocess.Popen[bytes]] = []
        self._loads: list[int] = []

    def submit(self, source: Path, cache: Path, size: int = 0) -> int:
        """Hand a written module to a worker; its number is its place in ``wait``'s list."""
        job = self._queue(source, cache)
        stdin = self._stdin(self._worker_for(size))
        try:
            stdin.write(json.dumps([str(job.source), str(job.staged)]).encode() + b"\n")
        except OSError as exc:
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        return len(self._jobs) - 1

    def wait(self) -> list[Job]:
        """Every module handed out, compiled (or not: no .pyc for what does not compile)."""
        deadline = time.monotonic() + COMPILE_TIMEOUT
        for process in self._processes:
            with contextlib.suppress(OSError):
                self._stdin(process).close()
        try:
            for process in self._processes:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            self.close()
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        return list(self._jobs)

    def close(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            with contextlib.suppress(OSError):
                self._stdin(process).close()
        self._remove_staging()

    def _worker_for(self, size: int) -> int:
        wanted = min(self._workers, 1 + len(self._jobs) // MIN_SHARE)
        if len(self._processes) < wanted:
            self._start()
        least = min(range(len(self._loads)), key=self._loads.__getitem__)
        self._loads[least] += max(size, 1)
        return least

    def _stdin(self, worker: int | subprocess.Popen[bytes]) -> IO[bytes]:
        process = self._processes[worker] if isinstance(worker, int) else worker
        assert process.stdin is not None  # started with stdin=PIPE
        return process.stdin

    def _start(self) -> None:
        if not self._processes and self._check is not None:
            self._check()
        try:
            process = subprocess.Popen(
                [self._python, "-I", "-B", "-S", "-c", _COMPILE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                bufsize=0,  # each module reaches its worker when it is handed out
            )
        except OSError as exc:
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        self._processes.append(process)
        self._loads.append(0)


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not all the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class InProcessCompiler(_Jobs):
    """The running interpreter is the target: it compiles the modules itself, as pip does.

    Only ``py_compile``: no module is imported, no ``site`` or ``.pth`` runs (as ``-S`` in a
    separate process). ``optimize=0``: the .pyc name carries no ``opt-`` tag, so its content
    must not depend on the ``-O`` this process may run with."""

    def submit(self, source: Path, cache: Path, size: int = 0) -> int:
        self._queue(source, cache)
        return len(self._jobs) - 1

    def wait(self) -> list[Job]:
        import py_compile

        for job in self._jobs:
            source, staged = str(job.source), str(job.staged)
            with contextlib.suppress(Exception):  # no .pyc for what does not compile (as pip)
                py_compile.compile(source, cfile=staged, dfile=source, doraise=True, optimize=0)
        return list(self._jobs)

    def close(self) -> None:
        """Nothing runs in the background; the private folder is removed."""
        self._remove_staging()


Compiler = BytecodeCompiler | InProcessCompiler


def compiler_for(python: str, check: Callable[[], None] | None = None) -> Compiler:
    """In-process for the running interpreter, else the target interpreter (``check``ed)."""
    from intoto_pip.install.target import is_this_interpreter

    if is_this_interpreter(Path(python)):
        return InProcessCompiler()
    return BytecodeCompiler(python, check)
