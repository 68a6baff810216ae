"""Snapshots of a directory tree, for "byte-for-byte as before" assertions."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

Entry = tuple[int, str]


def snapshot(root: Path) -> dict[str, Entry]:
    """{relative path: (mode, sha256 | '->link target' | 'dir')} for everything under root."""
    result: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                result[rel] = (info.st_mode, "->" + os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                result[rel] = (info.st_mode, "dir")
            else:
                result[rel] = (info.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return result


def diff(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """Human-readable differences (empty when the trees are equal)."""
    changes = [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    changes += [f"added {p}" for p in sorted(after.keys() - before.keys())]
    changes += [
        f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]
    ]
    return changes
