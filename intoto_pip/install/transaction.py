"""All or nothing: every change to the target is journaled so it can be undone.

The journal is written *ahead*: each change is recorded before it is made, so an interruption
(Ctrl-C, SIGTERM) between the two leaves a journal entry for a change that did not happen,
never a change without an entry. Rollback therefore tolerates entries whose change never
happened. Files of a replaced version and files in the way are moved into a private backup
folder (a rename when it is on the same file system), never deleted until ``commit``.
``rollback`` removes every file and folder written, then puts every moved file back; while it
runs, SIGINT and SIGTERM are held back so that a second Ctrl-C cannot cut it short.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from intoto_pip.errors import InstallError

# A new file: created, never opened through a link someone left at its name.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


@dataclass
class Transaction:
    """A journal of changes to the target; use as a context manager or call commit/rollback."""

    backup_parent: Path | None = None  # where the private backup folder is made, when needed
    written: list[Path] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)
    removed_dirs: list[tuple[Path, int]] = field(default_factory=list)
    _backup: Path | None = None
    # Folders seen or made: a wheel writes hundreds of files into a few folders, each looked
    # up once (a folder this transaction removes is forgotten).
    _folders: set[str] = field(default_factory=set)
    # Folders this transaction made: nothing was in them, so a new file there needs no look
    # (anything someone puts there meanwhile makes the exclusive create fail, and is undone).
    _made: set[str] = field(default_factory=set)

    @property
    def backup_root(self) -> Path:
        """A private folder for moved files, made on first use (most installs move nothing)."""
        if self._backup is None:
            self._backup = Path(
                tempfile.mkdtemp(prefix="intoto-pip-backup-", dir=self.backup_parent)
            )
        return self._backup

    def make_parents(self, path: Path) -> None:
        """Create ``path``'s missing parent folders, remembering each one (before making it)."""
        if os.path.dirname(path) in self._folders:
            return
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            self.created_dirs.append(folder)
            folder.mkdir()
            self._made.add(str(folder))
        self._folders.add(str(path.parent))

    def prepare_write(self, path: Path) -> None:
        """Make room for a new file: parents created, anything in the way moved aside.

        One ``lstat`` of ``path`` (and one look at a folder not seen yet); none in a folder
        this transaction made."""
        if os.path.dirname(path) in self._made:
            return
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            self.make_parents(path)
            return
        except NotADirectoryError:
            return  # a file where a folder must go: creating the file fails, and is undone
        if stat.S_ISDIR(mode):
            raise InstallError(f"{path}: a folder is in the way of a file to install")
        self.move_aside(path)

    def create(self, path: Path, mode: int = 0o666) -> BinaryIO:
        """Open a new file at ``path`` for writing (made room for and journaled already):
        created, never opened through a link someone left at its name since."""
        return os.fdopen(os.open(path, _NEW_FILE, mode), "wb")

    def wrote(self, path: Path) -> None:
        """Journal ``path`` as ours: call it before the file is created (write-ahead)."""
        self.written.append(path)

    def write_new(self, path: Path, data: bytes, mode: int = 0o666) -> None:
        """Write a new file at ``path`` (made room for, journaled before it exists)."""
        self.prepare_write(path)
        self.wrote(path)
        with self.create(path, mode) as out:
            out.write(data)

    def move_aside(self, path: Path) -> None:
        """Move an existing file into the backup folder; it comes back on rollback."""
        backup = self.backup_root / str(len(self.moved))
        self.moved.append((path, backup))
        shutil.move(str(path), str(backup))

    def remove_dir_if_empty(self, folder: Path) -> bool:
        try:
            mode = folder.stat().st_mode & 0o7777
        except OSError:
            return False
        self.removed_dirs.append((folder, mode))
        self._folders.discard(str(folder))
        self._made.discard(str(folder))
        try:
            folder.rmdir()
        except OSError:
            self.removed_dirs.pop()
            return False
        return True

    def rollback(self) -> list[str]:
        """Undo everything; return a description of whatever could not be undone."""
        problems: list[str] = []
        with signals_held():
            for path in reversed(self.written):
                _try(problems, _unlink_if_there, path)
            for folder in reversed(self.created_dirs):
                _try(problems, _rmdir_if_exists, folder)
            for folder, mode in reversed(self.removed_dirs):
                _try(problems, _mkdir_mode, folder, mode)
            for original, backup in reversed(self.moved):
                _try(problems, _restore, original, backup)
            if not problems:
                self._drop_backup()
            self._clear()
        return problems

    def commit(self) -> None:
        self._drop_backup()
        self._clear()

    def _drop_backup(self) -> None:
        if self._backup is not None:
            shutil.rmtree(self._backup, ignore_errors=True)
            self._backup = None

    def _clear(self) -> None:
        self.written.clear()
        self.created_dirs.clear()
        self.moved.clear()
        self.removed_dirs.clear()
        self._folders.clear()
        self._made.clear()


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (only the main thread handles signals).

    Held, not lost: a signal that arrived is delivered again, to its own handler, at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        arrived.append(signum)

    held: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, hold) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: set outside Python, and left as it was
                signal.signal(signum, handler)
        for signum in dict.fromkeys(arrived):
            signal.raise_signal(signum)


def _try(problems: list[str], action: object, *args: object, **kwargs: object) -> None:
    try:
        action(*args, **kwargs)  # type: ignore[operator]
    except OSError as exc:
        problems.append(f"{exc.filename}: {exc.strerror}")


def _unlink_if_there(path: Path) -> None:
    # Journaled ahead: the file may never have been made, even its folder may be a file.
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        path.unlink()


def _rmdir_if_exists(folder: Path) -> None:
    if folder.is_dir() and not folder.is_symlink():
        folder.rmdir()


def _mkdir_mode(folder: Path, mode: int) -> None:
    if not folder.is_dir():
        folder.mkdir(parents=True)
        os.chmod(folder, mode)


def _restore(original: Path, backup: Path) -> None:
    """Put a moved file back. A journaled move that never completed left the original in
    place (and perhaps a partial copy in the backup folder): the original stays."""
    if not (backup.is_symlink() or backup.exists()):
        return
    if original.is_symlink() or original.exists():
        return
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(backup), str(original))
