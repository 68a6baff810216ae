"""Installed files against the final product the in-toto evidence vouches for.

The final product of a wheel is its members by name (DESIGN §5). Each maps to where the
installer put it: a member ``pkg/mod.py`` to ``<root>/pkg/mod.py`` (root = the dist-info's
parent), ``<name>.data/<scheme>/rest`` to that scheme's folder. The installed file must have
the member's sha256, with exactly these exceptions, which are what an installer changes:

- ``.data/scripts`` files whose first line was ``#!python``: installed with the target's
  interpreter in it; the rest of the file must be the member's (tried with the ``#!python``
  spellings ``installer`` rewrites);
- ``__pycache__`` members: never installed (bytecode is compiled on the target);
- files the installer writes that the wheel does not have: INSTALLER, REQUESTED, RECORD,
  ``direct_url.json``, the verdict record, bytecode Python writes, the evidence folder (its
  signatures were just verified), and console scripts, which must be byte for byte what
  ``installer`` generates from the verified ``entry_points.txt`` for this interpreter.

Anything else in RECORD is not in the evidence: someone added it (and rewrote RECORD).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from intoto_pip.install.installed_files import DistRecord
from intoto_pip.install.verdict_record import FILENAME as VERDICT_RECORD

if TYPE_CHECKING:
    from installer.scripts import LauncherKind

INSTALLER_FILES = frozenset({"INSTALLER", "REQUESTED", "RECORD", "direct_url.json", VERDICT_RECORD})
EVIDENCE_FOLDER = "in-toto"
# The first lines ``installer`` rewrites start with "#!python"; what followed is lost, so
# the common spellings are tried.
_SHEBANGS = tuple(
    f"#!{exe}{end}".encode()
    for exe in ("python", "python3", "pythonw", "python2", "python.exe", "pythonw.exe")
    for end in ("\n", "\r\n")
)


@dataclass(frozen=True, kw_only=True)
class PlacedDist:
    """What the comparison needs to know about one installed distribution."""

    name: str  # PEP 503 normalised (the headers scheme folder uses it)
    dist_info: str
    record: DistRecord
    scheme: Mapping[str, str]  # purelib, platlib, scripts, data, headers
    interpreter: str


@dataclass(frozen=True, kw_only=True)
class EvidenceFindings:
    modified: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]


Placed = list[tuple[str, str, bool]]  # (installed path, sha256, a .data/scripts file)


def compare_with_product(
    dist: PlacedDist,
    product: Mapping[str, str],
    digests: Mapping[str, str],
    placed: Placed | None = None,
) -> EvidenceFindings:
    """Compare every member of ``product`` with the installed file (``digests``: sha256 of
    each file present, by path), and every RECORD row with ``product``. ``placed``:
    ``place_product(dist, product)``, if the caller has it already."""
    modified, missing = [], []
    expected: set[str] = set()
    for path, sha256, is_script in place_product(dist, product) if placed is None else placed:
        expected.add(path)
        digest = digests.get(path)
        if digest is None:
            missing.append(path)
        elif digest != sha256 and not (is_script and _rewritten_script(path, sha256, dist)):
            modified.append(path)
    others = [row.path for row in dist.record.rows if row.path not in expected]
    others = [path for path in others if not _installer_file(path, dist)]
    scripts = _entry_point_scripts(dist) if others else {}
    unexpected = [path for path in others if path not in scripts]
    # A console script must be what installer writes from the verified entry_points.txt.
    modified += [
        path
        for path in others
        if path in scripts and digests.get(path, scripts[path]) != scripts[path]
    ]
    return EvidenceFindings(
        modified=tuple(sorted(modified)),
        missing=tuple(sorted(missing)),
        unexpected=tuple(sorted(unexpected)),
    )


def place_product(dist: PlacedDist, product: Mapping[str, str]) -> Placed:
    """Where each member of ``product`` was installed, with its sha256 and whether it is a
    ``.data/scripts`` file (bytecode members never are installed: left out)."""
    data_prefix = _data_prefix(dist)
    placed = []
    for member, sha256 in product.items():
        if member.startswith("__pycache__/") or "/__pycache__/" in member:
            continue
        path, is_script = _installed_path(member, data_prefix, dist)
        placed.append((path, sha256, is_script))
    return placed


def installed_paths(dist: PlacedDist, product: Mapping[str, str]) -> list[str]:
    """Where each member of ``product`` was installed (bytecode members never are)."""
    return [path for path, _, _ in place_product(dist, product)]


def _data_prefix(dist: PlacedDist) -> str:
    return f"{os.path.basename(dist.dist_info)[: -len('.dist-info')]}.data/"


def _installed_path(member: str, data_prefix: str, dist: PlacedDist) -> tuple[str, bool]:
    """Where ``installer`` put ``member``, and whether it is a ``.data/scripts`` file."""
    if member.startswith(data_prefix):
        scheme, _, rest = member[len(data_prefix) :].partition("/")
        folder = dist.scheme.get(scheme)
        if folder is not None and rest:
            return os.path.normpath(os.path.join(folder, rest)), scheme == "scripts"
    if os.sep == "/" and not member.startswith(("/", ".")) and "/." not in member:
        return f"{dist.record.root}/{member}", False  # the usual case: already normal
    return os.path.normpath(os.path.join(dist.record.root, member)), False


def _rewritten_script(path: str, sha256: str, dist: PlacedDist) -> bool:
    """Whether ``path`` is the member with ``#!python`` turned into ``#!<interpreter>``."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    first, newline, rest = data.partition(b"\n")
    if not newline or first != f"#!{dist.interpreter}".encode():
        return False
    return any(hashlib.sha256(line + rest).hexdigest() == sha256 for line in _SHEBANGS)


def _installer_file(path: str, dist: PlacedDist) -> bool:
    """A file the installer writes itself (or Python does): not in any wheel's product."""
    if f"{os.sep}__pycache__{os.sep}" in path:
        return True
    folder, name = os.path.split(path)
    if folder == dist.dist_info and name in INSTALLER_FILES:
        return True
    # The evidence: its signatures were just verified, and RECORD vouches for its bytes.
    return path.startswith(os.path.join(dist.dist_info, EVIDENCE_FOLDER) + os.sep)


def _entry_point_scripts(dist: PlacedDist) -> dict[str, str]:
    """{path: sha256} of the console and GUI scripts ``installer`` writes for this target
    from the installed ``entry_points.txt`` (itself a member, compared like any other)."""
    from installer.scripts import Script
    from installer.utils import parse_entrypoints

    try:
        text = (Path(dist.dist_info) / "entry_points.txt").read_text(encoding="utf-8")
        entries = list(parse_entrypoints(text))
    except (OSError, UnicodeDecodeError, ValueError, AssertionError):
        return {}
    found = {}
    kind: LauncherKind = "posix" if os.name != "nt" else "win-amd64"
    for name, module, attr, section in entries:
        script_name, data = Script(name, module, attr, section).generate(dist.interpreter, kind)
        path = os.path.normpath(os.path.join(dist.scheme["scripts"], script_name))
        found[path] = hashlib.sha256(data).hexdigest()
    return found
