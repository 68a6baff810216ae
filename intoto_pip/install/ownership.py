"""Who owns which file of the target: a distribution writes only its own files (DESIGN §5).

Before anything is written, every path a wheel would write (its members, placed by scheme, and
its console and GUI scripts) is compared with:

- the target's interpreter: every path on the chain of links of the interpreter that was
  probed (and of the path the user gave), and any ``python``, ``python3`` or ``python3.X``
  beside it or in the scripts folder;
- every file another installed distribution lists in its RECORD, unless that distribution is
  replaced in the same transaction;
- every file another wheel of the same transaction writes.

Clashes are refused by name, all of them at once, with the target untouched. A file in the way
that no distribution owns (a leftover) is still moved aside and restored on rollback.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from installer.utils import parse_entrypoints

from intoto_pip.errors import InstallError
from intoto_pip.install.target import InstalledDist, Target

if TYPE_CHECKING:
    from intoto_pip.install.wheel_source import VerifiedWheel

# bin/python, bin/python3, bin/python3.12 (and their .exe); not python3-config and the like.
_INTERPRETER_NAME = re.compile(r"python(\d+(\.\d+)*)?w?(\.exe)?", re.IGNORECASE)
_SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
MAX_SHOWN = 5


class ClashError(InstallError):
    """A wheel would write the interpreter or another distribution's files (exit 1)."""


@dataclass(frozen=True, kw_only=True)
class Claims:
    """The paths nobody may write, and the files each distribution owns (absolute paths)."""

    interpreter: frozenset[str]
    interpreter_dirs: frozenset[str]
    owners: Mapping[str, str] = field(default_factory=dict)

    def owner_of(self, path: str, real_dirs: dict[str, str] | None = None) -> str | None:
        """Who may not be overwritten at ``path``: "the interpreter", a distribution, or None.

        ``path`` is compared as given and through its folder's real path (``real_dirs``
        caches those across calls: a wheel may have 10^5 files in a few folders)."""
        folder, name = os.path.split(path)
        cache = {} if real_dirs is None else real_dirs
        real_folder = cache.get(folder)
        if real_folder is None:
            real_folder = cache[folder] = os.path.realpath(folder)
        real = os.path.join(real_folder, name)
        if path in self.interpreter or real in self.interpreter:
            return "the interpreter"
        if real_folder in self.interpreter_dirs and _INTERPRETER_NAME.fullmatch(name):
            return "the interpreter"
        return self.owners.get(path) or self.owners.get(real)

    def with_owner(self, name: str, paths: Iterable[str]) -> Claims:
        owners = dict(self.owners)
        owners.update(dict.fromkeys(paths, name))
        return Claims(
            interpreter=self.interpreter, interpreter_dirs=self.interpreter_dirs, owners=owners
        )


def claims_of(target: Target, installed: Iterable[InstalledDist], replaced: set[str]) -> Claims:
    """Claims of the interpreter and of every installed distribution not in ``replaced``."""
    interpreter = set(target.interpreter.paths) | {os.path.abspath(target.executable)}
    interpreter |= {os.path.realpath(path) for path in list(interpreter)}
    dirs = {os.path.realpath(os.path.dirname(path)) for path in interpreter}
    dirs.add(os.path.realpath(target.scheme["scripts"]))
    owners: dict[str, str] = {}
    for dist in installed:
        if dist.name not in replaced:
            owners.update(dict.fromkeys(record_paths(dist.dist_info), dist.name))
    return Claims(
        interpreter=frozenset(interpreter), interpreter_dirs=frozenset(dirs), owners=owners
    )


def record_paths(dist_info: Path) -> Iterator[str]:
    """The absolute, normalised paths an installed distribution's RECORD lists."""
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for row in csv.reader(text.splitlines()):
        if row and row[0]:
            yield os.path.normpath(os.path.join(dist_info.parent, row[0]))


def planned_paths(source: VerifiedWheel, scheme: Mapping[str, str]) -> list[str]:
    """Every absolute path ``installer`` would write for ``source`` (bytecode aside)."""
    root = "purelib" if _root_is_purelib(source) else "platlib"
    paths = [_join(scheme, "scripts", name) for name in _script_names(source)]
    data = source.data_dir + "/"
    for name in source.member_names():
        if name.startswith(data):
            which, _, rest = name[len(data) :].partition("/")
            if which in _SCHEMES and rest:
                paths.append(_join(scheme, which, rest))
        else:
            paths.append(_join(scheme, root, name))
    return paths


def check_paths(name: str, paths: Iterable[str], claims: Claims) -> None:
    """ClashError naming every path ``name`` may not write, and whose each is."""
    clashes = []
    real_dirs: dict[str, str] = {}
    for path in paths:
        owner = claims.owner_of(path, real_dirs)
        if owner is not None and owner != name:
            shown = owner if owner == "the interpreter" else f"distribution {owner!r}"
            clashes.append(f"{path} (owned by {shown})")
    if clashes:
        more = f" and {len(clashes) - MAX_SHOWN} more" if len(clashes) > MAX_SHOWN else ""
        listed = ", ".join(clashes[:MAX_SHOWN])
        raise ClashError(f"{name}: refused, it would overwrite {listed}{more}")


def _root_is_purelib(source: VerifiedWheel) -> bool:
    from installer.utils import parse_metadata_file

    return parse_metadata_file(source.read_dist_info("WHEEL"))["Root-Is-Purelib"] == "true"


def _script_names(source: VerifiedWheel) -> list[str]:
    if "entry_points.txt" not in source.dist_info_filenames:
        return []
    text = source.read_dist_info("entry_points.txt")
    names = [name for name, _module, _attr, _section in parse_entrypoints(text)]
    return [f"{name}.exe" for name in names] if os.name == "nt" else names


def _join(scheme: Mapping[str, str], which: str, rel: str) -> str:
    return os.path.normpath(os.path.join(os.path.abspath(scheme[which]), *rel.split("/")))


__all__ = ["Claims", "ClashError", "check_paths", "claims_of", "planned_paths"]
