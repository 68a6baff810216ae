"""All or nothing: every change to the target is journaled so it can be undone.

Files of a replaced version and files in the way are moved into a private backup folder
(a rename when it is on the same file system), never deleted until ``commit``. ``rollback``
removes every file and folder written, then puts every moved file back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from intoto_pip.errors import InstallError


@dataclass
class Transaction:
    """A journal of changes to the target; use as a context manager or call commit/rollback."""

    backup_parent: Path | None = None  # where the private backup folder is made, when needed
    written: list[Path] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)
    removed_dirs: list[tuple[Path, int]] = field(default_factory=list)
    _backup: Path | None = None

    @property
    def backup_root(self) -> Path:
        """A private folder for moved files, made on first use (most installs move nothing)."""
        if self._backup is None:
            self._backup = Path(
                tempfile.mkdtemp(prefix="intoto-pip-backup-", dir=self.backup_parent)
            )
        return self._backup

    def make_parents(self, path: Path) -> None:
        """Create ``path``'s missing parent folders, remembering each one."""
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir()
            self.created_dirs.append(folder)

    def prepare_write(self, path: Path) -> None:
        """Make room for a new file: parents created, anything in the way moved aside."""
        self.make_parents(path)
        if path.is_symlink() or path.exists():
            if path.is_dir() and not path.is_symlink():
                raise InstallError(f"{path}: a folder is in the way of a file to install")
            self.move_aside(path)

    def wrote(self, path: Path) -> None:
        self.written.append(path)

    def move_aside(self, path: Path) -> None:
        """Move an existing file into the backup folder; it comes back on rollback."""
        backup = self.backup_root / str(len(self.moved))
        shutil.move(str(path), str(backup))
        self.moved.append((path, backup))

    def remove_dir_if_empty(self, folder: Path) -> bool:
        try:
            mode = folder.stat().st_mode & 0o7777
            folder.rmdir()
        except OSError:
            return False
        self.removed_dirs.append((folder, mode))
        return True

    def rollback(self) -> list[str]:
        """Undo everything; return a description of whatever could not be undone."""
        problems: list[str] = []
        for path in reversed(self.written):
            _try(problems, path.unlink, missing_ok=True)
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


def _try(problems: list[str], action: object, *args: object, **kwargs: object) -> None:
    try:
        action(*args, **kwargs)  # type: ignore[operator]
    except OSError as exc:
        problems.append(f"{exc.filename}: {exc.strerror}")


def _rmdir_if_exists(folder: Path) -> None:
    if folder.is_dir():
        folder.rmdir()


def _mkdir_mode(folder: Path, mode: int) -> None:
    if not folder.is_dir():
        folder.mkdir(parents=True)
        os.chmod(folder, mode)


def _restore(original: Path, backup: Path) -> None:
    original.parent.mkdir(parents=True, exist_ok=True)
    if original.is_symlink() or original.exists():
        original.unlink()
    shutil.move(str(backup), str(original))
