"""A fingerprint of a folder tree, to prove that a refused install left the target untouched."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """Every entry below ``root``: kind, permission bits, modification time, content or target.

    Symbolic links are described, never followed (a venv's ``bin/python`` is one). The
    modification time catches even a file written and then removed again (a folder's
    time changes), which content alone would miss.
    """
    entries = {".": _describe(root)}
    for folder, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in [*dirnames, *filenames]:
            path = Path(folder, name)
            entries[path.relative_to(root).as_posix()] = _describe(path)
    return entries


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What changed between two snapshots, one line per path (empty when nothing did)."""
    lines = [f"added {name}" for name in sorted(after.keys() - before.keys())]
    lines += [f"removed {name}" for name in sorted(before.keys() - after.keys())]
    lines += [
        f"changed {name}"
        for name in sorted(before.keys() & after.keys())
        if before[name] != after[name]
    ]
    return lines


def _describe(path: Path) -> str:
    info = path.lstat()
    mode = f"{stat.S_IMODE(info.st_mode):o} {info.st_mtime_ns}"
    if stat.S_ISLNK(info.st_mode):
        return f"link {mode} -> {os.readlink(path)}"
    if stat.S_ISDIR(info.st_mode):
        return f"dir {mode}"
    if stat.S_ISREG(info.st_mode):
        return f"file {mode} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return f"other {stat.S_IFMT(info.st_mode):o}"
