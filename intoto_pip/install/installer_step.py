"""Put a verified wheel into the target with ``installer``, journaling every file written.

The destination wraps ``installer``'s ``SchemeDictionaryDestination``: before each file is
written, anything in the way is moved aside and missing folders are created through the
``Transaction``, so a failure anywhere can be undone. Bytecode is compiled by the *target*
interpreter (which may be another Python than ours) before RECORD is written, so RECORD lists
the ``.pyc`` files and ``pip uninstall`` removes them. When the target is the interpreter
running intoto-pip, it compiles in-process (as pip does) rather than start itself again.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.sources import WheelContentElement, WheelFile
from installer.utils import Scheme

from intoto_pip.errors import InstallError
from intoto_pip.install.target import InstalledDist, Target
from intoto_pip.install.transaction import Transaction

INSTALLER_NAME = b"intoto-pip\n"
COMPILE_TIMEOUT = 600.0

# One JSON [source, cache] pair a line; a module that does not compile gets no .pyc (as pip).
# (Run by another interpreter: what it writes must be valid for old Pythons too.)
_COMPILE = r"""
import json, py_compile, sys
for line in sys.stdin:
    source, cache = json.loads(line)
    try:
        py_compile.compile(source, cfile=cache, dfile=source, doraise=True)
    except Exception:
        pass
"""


@dataclass(frozen=True, kw_only=True)
class WheelToInstall:
    """A verified private copy of a wheel, and how it was asked for."""

    path: Path
    name: str
    version: str
    requested: bool = False
    direct_url: str | None = None  # set for archives named directly (path or URL)
    sha256: str = ""
    # install/verdict_record.py's bytes: how it was admitted, written beside INSTALLER.
    verdict_record: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class InstalledFiles:
    name: str
    version: str
    dist_info: Path
    files: tuple[Path, ...]
    pth_files: tuple[Path, ...]
    skipped: tuple[str, ...] = ()


class BytecodeCompiler:
    """Another interpreter (the target) compiling the modules, in one process.

    Modules are collected while the wheel is written and compiled once every file is in
    place: an installation that fails midway starts no compiler at all. ``abort`` kills a
    compiler still running (before a rollback, so it cannot write a .pyc after it)."""

    def __init__(self, python: str) -> None:
        self._python = python
        self._jobs: list[tuple[str, str]] = []
        self._process: subprocess.Popen[bytes] | None = None

    def submit(self, source: Path, cache: Path) -> None:
        self._jobs.append((str(source), str(cache)))

    def finish(self) -> None:
        if not self._jobs:
            return
        process = self._start()
        lines = b"".join(json.dumps(job).encode() + b"\n" for job in self._jobs)
        try:
            process.communicate(lines, timeout=COMPILE_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            self.abort()
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc

    def abort(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()

    def _start(self) -> subprocess.Popen[bytes]:
        # -S: no site import, so no .pth file (of the wheel being installed, or any other) runs
        # mid-installation, where what it did could not be rolled back. py_compile needs no
        # site.
        try:
            self._process = subprocess.Popen(
                [self._python, "-I", "-B", "-S", "-c", _COMPILE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        return self._process


class InProcessCompiler:
    """The running interpreter is the target: it compiles the modules itself, as pip does,
    instead of starting itself again.

    Only ``py_compile``: no module is imported, no ``site`` or ``.pth`` runs (as ``-S`` in a
    separate process). ``optimize=0``: the .pyc name carries no ``opt-`` tag, so its content
    must not depend on the ``-O`` this process may run with."""

    def __init__(self) -> None:
        self._jobs: list[tuple[str, str]] = []

    def submit(self, source: Path, cache: Path) -> None:
        self._jobs.append((str(source), str(cache)))

    def finish(self) -> None:
        import py_compile

        for source, cache in self._jobs:
            with contextlib.suppress(Exception):  # no .pyc for what does not compile (as pip)
                py_compile.compile(source, cfile=cache, dfile=source, doraise=True, optimize=0)

    def abort(self) -> None:
        """Nothing runs in the background."""


Compiler = BytecodeCompiler | InProcessCompiler


def compiler_for(python: str) -> Compiler:
    from intoto_pip.install.target import is_this_interpreter

    return InProcessCompiler() if is_this_interpreter(Path(python)) else BytecodeCompiler(python)


@dataclass
class RecordingDestination(SchemeDictionaryDestination):
    """A scheme destination that journals writes and compiles with the target interpreter."""

    transaction: Transaction = field(default_factory=Transaction)
    compiler: Compiler | None = None
    cache_tag: str = ""
    files: list[Path] = field(default_factory=list)
    _compiled: list[tuple[Scheme, str, Path]] = field(default_factory=list)

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        target = self._path_with_destdir(scheme, path)
        self.transaction.prepare_write(target)
        try:
            entry = super().write_to_fs(scheme, path, stream, is_executable)
        finally:
            if target.exists():
                self.transaction.wrote(target)
                self.files.append(target)
        if self.compiler is not None and scheme in ("purelib", "platlib") and path.endswith(".py"):
            self._compile(scheme, path, target)
        return entry

    def _compile(self, scheme: Scheme, rel: str, source: Path) -> None:
        assert self.compiler is not None
        cache = source.parent / "__pycache__" / f"{source.stem}.{self.cache_tag}.pyc"
        self.transaction.prepare_write(cache)
        # Journaled before the compiler may write it: a rollback removes it whatever happens.
        self.transaction.wrote(cache)
        self._compiled.append((scheme, rel, cache))
        self.compiler.submit(source, cache)

    def finalize_installation(
        self,
        scheme: Scheme,
        record_file_path: str,
        records: Iterable[tuple[Scheme, RecordEntry]],
    ) -> None:
        record_list = list(records)
        if self.compiler is not None:
            self.compiler.finish()
            record_list += [self._pyc_record(*job) for job in self._compiled if job[2].exists()]
        super().finalize_installation(scheme, record_file_path, record_list)

    def _pyc_record(self, scheme: Scheme, rel: str, cache: Path) -> tuple[Scheme, RecordEntry]:
        self.files.append(cache)
        data = cache.read_bytes()
        folder = rel.rpartition("/")[0]
        rel_cache = "/".join(p for p in (folder, "__pycache__", cache.name) if p)
        digest = _record_digest(data)
        return scheme, RecordEntry(rel_cache, Hash("sha256", digest), len(data))


def _record_digest(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


class _FilteredWheel(WheelFile):
    """Leaves out ``__pycache__`` members, as pip does: bytecode is compiled on the target."""

    skipped: list[str]

    def get_contents(self) -> Iterator[WheelContentElement]:
        self.skipped = []
        for element in super().get_contents():
            name = element[0][0]
            if "__pycache__" in name.split("/")[:-1]:
                self.skipped.append(name)
                continue
            yield element


def scheme_for(target: Target, name: str) -> dict[str, str]:
    scheme = {key: target.scheme[key] for key in ("purelib", "platlib", "scripts", "data")}
    scheme["headers"] = os.path.join(target.scheme["include"], name)
    return scheme


def _extra_metadata(wheel: WheelToInstall) -> dict[str, bytes]:
    extra = {"INSTALLER": INSTALLER_NAME}
    if wheel.requested:
        extra["REQUESTED"] = b""
    if wheel.direct_url:
        info = {"url": wheel.direct_url, "archive_info": {}}
        if wheel.sha256:
            hashes = {"hashes": {"sha256": wheel.sha256}, "hash": f"sha256={wheel.sha256}"}
            info["archive_info"] = hashes
        extra["direct_url.json"] = json.dumps(info, sort_keys=True).encode()
    if wheel.verdict_record is not None:
        from intoto_pip.install.verdict_record import FILENAME

        extra[FILENAME] = wheel.verdict_record
    return extra


def install_wheel(
    wheel: WheelToInstall,
    target: Target,
    transaction: Transaction,
    *,
    compile_bytecode: bool = True,
) -> InstalledFiles:
    """Write ``wheel`` into ``target``; every change goes through ``transaction``."""
    compiler = compiler_for(target.executable) if compile_bytecode else None
    destination = RecordingDestination(
        scheme_dict=scheme_for(target, wheel.name),
        interpreter=target.executable,
        script_kind="posix" if os.name != "nt" else "win-amd64",
        transaction=transaction,
        compiler=compiler,
        cache_tag=target.cache_tag,
    )
    try:
        with _FilteredWheel.open(wheel.path) as source:
            install(source, destination, _extra_metadata(wheel))
            root = "Root-Is-Purelib: true" in source.read_dist_info("WHEEL")
            dist_info = Path(destination.scheme_dict["purelib" if root else "platlib"])
            dist_info /= source.dist_info_dir
            skipped = tuple(getattr(source, "skipped", []))
    finally:
        if compiler is not None:
            compiler.abort()  # a no-op once finished; else it must stop before any rollback
    return InstalledFiles(
        name=wheel.name,
        version=wheel.version,
        dist_info=dist_info,
        files=tuple(destination.files),
        pth_files=tuple(_pth_files(destination.files, target)),
        skipped=skipped,
    )


def _pth_files(files: Iterable[Path], target: Target) -> list[Path]:
    sites = set(target.site_dirs)
    return [f for f in files if f.suffix == ".pth" and f.parent in sites]


def remove_installed(dist: InstalledDist, target: Target, transaction: Transaction) -> int:
    """Move every file of an installed distribution aside (as ``pip uninstall`` would)."""
    roots = _allowed_roots(target)
    paths = set(_record_paths(dist.dist_info)) | set(_tree(dist.dist_info))
    moved = 0
    folders: set[Path] = set()
    for path in sorted(paths, key=lambda p: (len(p.parts), str(p)), reverse=True):
        if not any(path.is_relative_to(root) and path != root for root in roots):
            continue
        for candidate in (path, *_bytecode_of(path)):
            if candidate.is_symlink() or candidate.is_file():
                transaction.move_aside(candidate)
                folders.add(candidate.parent)
                moved += 1
    _remove_empty(folders, roots, transaction)
    return moved


def _allowed_roots(target: Target) -> list[Path]:
    keys = ("purelib", "platlib", "scripts", "data")
    roots = {Path(os.path.abspath(target.scheme[key])) for key in keys}
    return sorted(roots)


def _record_paths(dist_info: Path) -> Iterator[Path]:
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return
    for row in csv.reader(text.splitlines()):
        if row and row[0]:
            yield Path(os.path.normpath(dist_info.parent / row[0]))


def _tree(folder: Path) -> Iterator[Path]:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            yield Path(root) / name


def _bytecode_of(path: Path) -> list[Path]:
    if path.suffix != ".py":
        return []
    cache = path.parent / "__pycache__"
    try:
        return sorted(cache.glob(f"{path.stem}.*.pyc"))
    except OSError:
        return []


def _remove_empty(folders: set[Path], roots: list[Path], transaction: Transaction) -> None:
    pending = set(folders)
    while pending:
        folder = max(pending, key=lambda p: len(p.parts))
        pending.discard(folder)
        if folder in roots or not any(folder.is_relative_to(r) for r in roots):
            continue
        if transaction.remove_dir_if_empty(folder):
            pending.add(folder.parent)
