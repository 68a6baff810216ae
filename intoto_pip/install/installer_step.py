"""Put a verified wheel into the target with ``installer``, journaling every file written.

The wheel is read through ``wheel_source.VerifiedWheel``: our own reader, the listing that
verification used, never a second zip parser. Before anything is written, every path the wheel
would write is checked against the interpreter and other distributions' files
(``ownership``). The destination wraps ``installer``'s ``SchemeDictionaryDestination``: before
each file is written, anything in the way is moved aside, missing folders are created and the
file is journaled, all through the ``Transaction``, so a failure or an interruption anywhere
can be undone. Bytecode is compiled by the *target* interpreter (``bytecode``) as the files
are written, each ``.pyc`` into a place the transaction made room for and journaled first;
once every wheel is in place and compiled (``WheelWriter``), each RECORD is written, listing
the ``.pyc`` files, so ``pip uninstall`` removes them.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.utils import Scheme, make_file_executable

from intoto_pip.errors import InstallError
from intoto_pip.install.bytecode import BytecodeCompiler, Compiled, compiler_for
from intoto_pip.install.file_writes import LARGEST_HANDED_OVER, FileWrites
from intoto_pip.install.ownership import Claims, check_paths, claims_of, planned_paths
from intoto_pip.install.target import InstalledDist, Target, interpreter_unchanged, scheme_for
from intoto_pip.install.transaction import Transaction
from intoto_pip.install.wheel_source import VerifiedWheel, open_wheel

INSTALLER_NAME = b"intoto-pip\n"
CHUNK = 256 * 1024


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
    bytecode_files: int = 0  # .pyc files written (0: --no-compile, or no module compiled)


@dataclass
class RecordingDestination(SchemeDictionaryDestination):
    """A scheme destination that journals writes and queues modules for the target's compiler.

    With a compiler, RECORD waits: ``finish`` places the wheel's ``.pyc`` files (compiled with
    every other wheel's) and then writes RECORD listing them."""

    transaction: Transaction = field(default_factory=Transaction)
    compiler: BytecodeCompiler | None = None
    writes: FileWrites | None = None  # else each file is written here
    cache_tag: str = ""
    files: list[Path] = field(default_factory=list)
    bytecode_files: int = 0
    _compiled: list[tuple[int, Scheme, str]] = field(default_factory=list)
    _record: tuple[Scheme, str, list[tuple[Scheme, RecordEntry]]] | None = None

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        target = self._target_path(scheme, path)
        self.transaction.prepare_write(target)
        self.transaction.wrote(target)  # before the file exists: an interruption may come
        self.files.append(target)
        # Read to its end before a thread may write it: the member's size, CRC and verified
        # hash are checked at its end, so no thread is handed a byte that was not verified.
        data = _head(stream, LARGEST_HANDED_OVER + 1)
        hashed = hashlib.new(self.hash_algorithm, data)
        compile_it = self._to_compile(scheme, path, target)
        # Scripts stay here: installer looks at a script's mode right after writing it.
        library = scheme in ("purelib", "platlib")
        if self.writes is not None and library and len(data) <= LARGEST_HANDED_OVER:
            self.writes.write(target, data, executable=is_executable, then=compile_it)
            return _entry(path, hashed, len(data))
        size = len(data)  # a large member: streamed from here, never whole in memory
        with self.transaction.create(target) as out:
            out.write(data)
            for chunk in iter(partial(stream.read, CHUNK), b""):
                hashed.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if is_executable:
            make_file_executable(target)
        if compile_it is not None:
            compile_it()
        return _entry(path, hashed, size)

    def _to_compile(self, scheme: Scheme, path: str, target: Path) -> Callable[[], None] | None:
        """For a module to compile: its ``.pyc`` made room for and journaled now, and what
        hands the module to the compilers once it is written."""
        if self.compiler is None or scheme not in ("purelib", "platlib"):
            return None
        if not path.endswith(".py"):
            return None
        cache = target.parent / "__pycache__" / f"{target.stem}.{self.cache_tag}.pyc"
        self.transaction.prepare_write(cache)
        self.transaction.wrote(cache)
        number = self.compiler.reserve(cache)
        self._compiled.append((number, scheme, path))
        return partial(self.compiler.send, number, target)

    def _target_path(self, scheme: Scheme, path: str) -> Path:
        """``path`` placed in ``scheme``'s folder, as ``installer`` places it (and refused, as
        there, outside it); parsed once, with no look at the file system (that is ours)."""
        root = os.path.abspath(self.scheme_dict[scheme])
        target = os.path.abspath(os.path.join(root, path))
        if not target.startswith(root.rstrip(os.sep) + os.sep):
            raise ValueError(f"Attempting to write {path} outside of the target directory")
        return Path(target)

    def finalize_installation(
        self,
        scheme: Scheme,
        record_file_path: str,
        records: Iterable[tuple[Scheme, RecordEntry]],
    ) -> None:
        if self.compiler is None:
            super().finalize_installation(scheme, record_file_path, records)
        else:
            self._record = (scheme, record_file_path, list(records))

    def finish(self, compiled: Sequence[Compiled | None]) -> None:
        """Write RECORD, listing this wheel's compiled modules (``compiled``: every module of
        the installation, by the number the compiler gave it; None: it did not compile)."""
        if self._record is None:
            return
        scheme, record_file_path, record_list = self._record
        for number, where, rel in self._compiled:
            pyc = compiled[number]
            if pyc is not None:  # else no .pyc, as pip
                record_list.append((where, self._listed(pyc, rel)))
        self._record = None
        super().finalize_installation(scheme, record_file_path, record_list)

    def _listed(self, pyc: Compiled, rel: str) -> RecordEntry:
        self.files.append(pyc.cache)
        self.bytecode_files += 1
        folder = rel.rpartition("/")[0]
        rel_cache = "/".join(p for p in (folder, "__pycache__", pyc.cache.name) if p)
        return RecordEntry(rel_cache, Hash("sha256", _record_digest(pyc.sha256)), pyc.size)


def _head(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``, read in chunks: one read of ``limit`` would
    allocate that much for every file, most of them a few KiB."""
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := stream.read(min(CHUNK, limit - size))):
        chunks.append(chunk)
        size += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _entry(path: str, hashed: hashlib._Hash, size: int) -> RecordEntry:
    digest = base64.urlsafe_b64encode(hashed.digest()).decode("ascii").rstrip("=")
    return RecordEntry(path, Hash(hashed.name, digest), size)


def _record_digest(sha256_hex: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(sha256_hex)).decode().rstrip("=")


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


def check_interpreter(target: Target) -> None:
    """InstallError unless the target's interpreter is as it was when probed."""
    if not interpreter_unchanged(target):
        raise InstallError(
            f"{target.executable}: the interpreter changed since it was probed; not running it"
        )


def check_wheel_paths(source: VerifiedWheel, name: str, target: Target, claims: Claims) -> None:
    """ClashError when the wheel would write the interpreter or another distribution's file."""
    check_paths(name, planned_paths(source, scheme_for(target, name)), claims)


def install_wheel(
    wheel: WheelToInstall,
    target: Target,
    transaction: Transaction,
    *,
    compile_bytecode: bool = True,
    claims: Claims | None = None,
    source: VerifiedWheel | None = None,
) -> InstalledFiles:
    """Write ``wheel`` into ``target``; every change goes through ``transaction``.

    ``claims``: the files no one else may write (default: the interpreter and every installed
    distribution but this one). ``source``: the wheel already open (else it is opened here)."""
    writer = WheelWriter(target, transaction, compile_bytecode=compile_bytecode)
    try:
        with _opened(wheel.path, source) as opened:
            if claims is None:
                claims = claims_of(target, target.installed().values(), {wheel.name})
            check_wheel_paths(opened, wheel.name, target, claims)
            writer.write(wheel, opened)
        [installed] = writer.finish()
    finally:
        writer.abort()  # a no-op once finished; else it must stop before any rollback
    return installed


class WheelWriter:
    """Wheels written one after another into one transaction, their modules compiled as they
    are written (one pool of the target's compilers for the whole installation), then each
    wheel's RECORD written, listing its ``.pyc`` files.

    ``abort`` must run (in a ``finally``) before any rollback: it stops compilers still running."""

    def __init__(
        self, target: Target, transaction: Transaction, *, compile_bytecode: bool = True
    ) -> None:
        def check() -> None:
            check_interpreter(target)

        self._target, self._transaction = target, transaction
        self._compiler = compiler_for(target.executable, check) if compile_bytecode else None
        self._writes = FileWrites(transaction.create)
        self._written: list[tuple[WheelToInstall, RecordingDestination, Path, tuple[str, ...]]]
        self._written = []

    def write(self, wheel: WheelToInstall, source: VerifiedWheel) -> None:
        """Write every file of ``source`` (its paths already checked against the claims)."""
        destination = RecordingDestination(
            scheme_dict=scheme_for(self._target, wheel.name),
            interpreter=self._target.executable,
            script_kind="posix" if os.name != "nt" else "win-amd64",
            transaction=self._transaction,
            compiler=self._compiler,
            writes=self._writes,
            cache_tag=self._target.cache_tag,
        )
        install(source, destination, _extra_metadata(wheel))
        root = "Root-Is-Purelib: true" in source.read_dist_info("WHEEL")
        dist_info = Path(destination.scheme_dict["purelib" if root else "platlib"])
        self._written.append(
            (wheel, destination, dist_info / source.dist_info_dir, tuple(source.skipped))
        )

    def finish(self) -> list[InstalledFiles]:
        """Wait for every module written to be compiled (each ``.pyc`` written in place by the
        compiler), then write each wheel's RECORD, listing them."""
        self._writes.wait()  # every module is with the compilers
        compiled = self._compiler.wait() if self._compiler else []
        for _wheel, destination, _info, _skipped in self._written:
            destination.finish(compiled)
        self._writes.wait()  # the RECORDs
        return [self._installed(*written) for written in self._written]

    def abort(self) -> None:
        """Stop file writes and compilers still running (a no-op twice)."""
        self._writes.close()
        if self._compiler is not None:
            self._compiler.close()

    def _installed(
        self,
        wheel: WheelToInstall,
        destination: RecordingDestination,
        dist_info: Path,
        skipped: tuple[str, ...],
    ) -> InstalledFiles:
        return InstalledFiles(
            name=wheel.name,
            version=wheel.version,
            dist_info=dist_info,
            files=tuple(destination.files),
            pth_files=tuple(_pth_files(destination.files, self._target)),
            skipped=skipped,
            bytecode_files=destination.bytecode_files,
        )


@contextlib.contextmanager
def _opened(path: Path, source: VerifiedWheel | None) -> Iterator[VerifiedWheel]:
    if source is not None:
        yield source
    else:
        with open_wheel(path) as opened:
            yield opened


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
