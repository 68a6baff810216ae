"""Running an inspection: a command from the layout, in the folder being verified.

The command runs with stdin closed, a timeout, and a minimal environment whose PATH keeps
only absolute folders outside the working folder; the program is resolved against that PATH
and never from the working folder, whose files are what is being verified. The environment
also sets ``PYTHONSAFEPATH=1`` and ``PYTHONNOUSERSITE=1``, so a Python inspection imports
neither modules planted in the working folder nor the user's site-packages. When the command
ends, every process it started is killed, even one that left its session
(:mod:`intoto_pip.verify.descendants`). Materials and
products are the whole working folder before and after, leaving out only the link files the
verification itself reads (the reference also hides ``.git``, ``*.pyc`` and ``*~``; we do
not: the one documented divergence from its verdicts). The second recording reads again
every file that may have changed, and takes the first recording's digest only for a file
provably untouched (same inode, size and times, and a change time older than the first
recording by a safety margin: the argument is in :mod:`intoto_pip.artifacts.digests`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from intoto_pip.artifacts.collect import RecordOptions, record_artifacts_report
from intoto_pip.artifacts.digests import DigestCache
from intoto_pip.errors import InputError, RuleError, VerificationError
from intoto_pip.models.layout import Inspection
from intoto_pip.models.link import Link
from intoto_pip.verify.descendants import Reaper

# One default for install, verify ARCHIVE and verify --layout (cli/_trust.py).
DEFAULT_TIMEOUT = 60.0

MAX_CAPTURED_BYTES = 1024 * 1024
_KEPT_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")
_READ_CHUNK = 64 * 1024
_DRAIN_GRACE_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class InspectionOptions:
    workdir: Path
    timeout: float = DEFAULT_TIMEOUT
    exclude: frozenset[str] = frozenset()  # artifact names (relative to workdir) left out
    max_output: int = MAX_CAPTURED_BYTES


def sanitized_path(workdir: Path, path: str | None = None) -> str:
    """PATH without empty, relative or working-folder entries (they would run its files)."""
    raw = os.environ.get("PATH", os.defpath) if path is None else path
    inside = os.path.realpath(workdir)
    kept: list[str] = []
    for entry in raw.split(os.pathsep):
        if not entry or not os.path.isabs(entry) or entry in kept:
            continue
        real = os.path.realpath(entry)
        if real == inside or real.startswith(inside.rstrip(os.sep) + os.sep):
            continue
        kept.append(entry)
    return os.pathsep.join(kept)


def minimal_environment(workdir: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
    env["PATH"] = sanitized_path(workdir)
    # A Python inspection (`python3 -m compileall .`) must not import modules the archive
    # planted in the working folder, nor ones from the verifying user's site-packages.
    env["PYTHONSAFEPATH"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    return env


def resolve_command(inspection: Inspection, search_path: str) -> str:
    program = inspection.run[0]
    where = f"inspection {inspection.name!r}"
    if os.path.isabs(program):
        return program
    if "/" in program or os.sep in program:
        raise VerificationError(
            f"{where}: command {program!r} is a relative path; inspections never run "
            "programs from the folder being verified (use a name on PATH or an absolute path)"
        )
    resolved = shutil.which(program, path=search_path)
    if resolved is None:
        raise VerificationError(f"{where}: command {program!r} not found on PATH")
    return resolved


def _record(
    inspection: Inspection, options: InspectionOptions, cache: DigestCache
) -> dict[str, dict[str, str]]:
    record = RecordOptions(base_path=options.workdir, exclude=(), follow_symlinks=True)
    try:
        artifacts = record_artifacts_report(["."], record, cache=cache).artifacts
    except InputError as exc:
        raise VerificationError(f"inspection {inspection.name!r}: {exc}") from exc
    for name in options.exclude:
        artifacts.pop(name, None)
    return artifacts


class _BoundedReader(threading.Thread):
    """Keep the first ``limit`` bytes of a stream and discard the rest (never block the child)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.limit = limit
        self.data = bytearray()

    def run(self) -> None:
        try:
            while chunk := self.stream.read(_READ_CHUNK):
                room = self.limit - len(self.data)
                if room > 0:
                    self.data += chunk[:room]
        except (OSError, ValueError):
            pass  # the pipe was closed under us: what was read is kept
        finally:
            self.stream.close()

    def text(self) -> str:
        self.join(_DRAIN_GRACE_SECONDS)
        return self.data.decode("utf-8", errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The inspection ran in its own session: end whatever it left behind, too.
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - not POSIX
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _start(argv: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen``, but the process group it started is killed if starting it is
    interrupted.

    The CLI turns SIGTERM into an exception, which can arrive while Popen still waits for
    the child's exec; Popen then raises without handing the child back, and the child, in
    its own session, would outlive us. So the object is made first and initialised here.
    """
    popen = subprocess.Popen  # looked up now, so a wrapper installed by a test applies
    process = popen.__new__(popen)
    try:
        popen.__init__(process, argv, **options)
    except BaseException:
        # pid is set as soon as the child exists; returncode once Popen reaped it.
        if getattr(process, "pid", None) is not None and process.returncode is None:
            _kill_group(process)
            process.wait()
        raise
    return process


def _execute(
    inspection: Inspection, program: str, options: InspectionOptions, env: dict[str, str]
) -> tuple[int, str, str]:
    # Whatever the command started ends with it, even a process outside its session; and
    # before the output is read, so a leftover holding the pipes open cannot delay us.
    with Reaper():
        process = _spawn(inspection, program, options, env)
        try:  # from here on, whatever happens, the process group is killed
            assert process.stdout is not None and process.stderr is not None
            readers = [
                _BoundedReader(stream, options.max_output)
                for stream in (process.stdout, process.stderr)
            ]
            for reader in readers:
                reader.start()
            code = _wait(inspection, process, options.timeout)
        finally:
            _kill_group(process)
    return code, readers[0].text(), readers[1].text()


def _spawn(
    inspection: Inspection, program: str, options: InspectionOptions, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    try:
        return _start(
            list(inspection.run),
            executable=program,
            cwd=options.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise VerificationError(
            f"inspection {inspection.name!r}: cannot run {program!r} ({exc.strerror or exc})"
        ) from exc


def _wait(inspection: Inspection, process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.wait()
        raise RuleError(
            f"inspection {inspection.name!r}: command {' '.join(inspection.run)!r} did "
            f"not finish within {timeout:g} s (--inspection-timeout)"
        ) from None


def run_inspection(inspection: Inspection, options: InspectionOptions) -> Link:
    """Run ``inspection`` in ``options.workdir`` and return its (unsigned) link.

    ``options.exclude`` holds artifact names (relative to the working folder) left out of
    materials and products: the link files the verification reads. A timeout is a
    RuleError; a command that cannot be found or started is a VerificationError; the exit
    code is left to the caller (in ``byproducts["return-value"]``).
    """
    env = minimal_environment(options.workdir)
    program = resolve_command(inspection, env["PATH"])
    # Products reuse a material's digest only for a file provably untouched since it was
    # read (see intoto_pip.artifacts.digests); every other file is read again.
    cache = DigestCache()
    materials = _record(inspection, options, cache)
    code, stdout, stderr = _execute(inspection, program, options, env)
    products = _record(inspection, options, cache)
    return Link(
        name=inspection.name,
        command=inspection.run,
        materials=materials,
        products=products,
        byproducts={"stdout": stdout, "stderr": stderr, "return-value": code},
    )
