"""Private folders for unpacked distributions, and the only code that writes into them.

A sandbox is a fresh folder only the current user can enter (mode 0700). ``PrivateWriter``
creates every folder and file in it itself, with ``O_EXCL`` and ``O_NOFOLLOW``, so nothing the
archive names can make it write through a link or over an earlier file. Names reaching it have
already been checked by :mod:`intoto_pip.archives.names`; the writer still refuses what would
escape, as a second line of defence.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_FILE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def make_sandbox(parent: Path | None = None) -> Path:
    """Create a fresh private (0700) folder under ``parent`` (default: the temp folder)."""
    return Path(tempfile.mkdtemp(prefix="intoto-pip-", dir=parent))


@contextmanager
def sandbox(parent: Path | None = None) -> Iterator[Path]:
    """A fresh private folder, removed with everything in it on exit."""
    path = make_sandbox(parent)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def check_private_empty_dir(path: Path) -> None:
    """Raise ValueError unless ``path`` is an empty folder (not a link) only we can enter.

    A caller handing over anything else is a bug, not a bad archive.
    """
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{path} is not a directory (or is a symbolic link)")
    if os.name == "posix" and (info.st_mode & 0o077 or info.st_uid != os.getuid()):
        raise ValueError(f"{path} is not private (mode 0700, owned by the current user)")
    if any(path.iterdir()):
        raise ValueError(f"{path} is not empty")


class PrivateWriter:
    """Writes files below one private, initially empty folder, creating parents as needed."""

    def __init__(self, root: Path) -> None:
        check_private_empty_dir(root)
        self._root = root
        self._made: set[str] = set()

    def write(self, name: str, chunks: Iterable[bytes], *, executable: bool = False) -> None:
        """Create ``root/name`` (it must not exist) from ``chunks``.

        On an error the file may be left partly written: the caller discards the sandbox.
        """
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts) or "\\" in name:
            raise ValueError(f"refusing to write unclean name {name!r}")
        self._make_parents(parts[:-1])
        mode = 0o700 if executable else 0o600
        fd = os.open(self._root.joinpath(*parts), _FILE_FLAGS, mode)
        with open(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)

    def _make_parents(self, parts: list[str]) -> None:
        for depth in range(1, len(parts) + 1):
            key = "/".join(parts[:depth])
            if key not in self._made:
                # mkdir fails on anything already there, links included: we made every folder.
                os.mkdir(self._root.joinpath(*parts[:depth]), 0o700)
                self._made.add(key)
