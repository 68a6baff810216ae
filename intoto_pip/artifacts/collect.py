"""Recording artifacts: walk, exclude, hash in parallel, name them as the verifier does.

Semantics follow the reference's ``record_artifacts_as_dict``: each given path is
normalised (``os.path.normpath``) and matched against the exclude patterns; directories are
walked and every file below them is recorded under its walked path; symlinked files are
hashed through their target; paths that do not exist are skipped. Names are then
left-stripped by the first matching ``lstrip_paths`` prefix and normalised with
:func:`normalize_artifact_name`, so a producer and a verifier always agree on a name.

Where the reference would loop or silently overwrite, we stop: a directory symlink that
leads back to one of its own ancestors is not walked again (and reported), and two
different files stripped to the same name are refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from intoto_pip.artifacts.digests import DigestCache, hash_files
from intoto_pip.artifacts.excludes import ExcludeMatcher
from intoto_pip.errors import InputError
from intoto_pip.models.link import normalize_artifact_name

DEFAULT_EXCLUDES: tuple[str, ...] = ("*.link*", ".git", "*.pyc", "*~")
HASH_ALGORITHM = "sha256"


@dataclass(frozen=True, kw_only=True)
class RecordOptions:
    """How to record. ``exclude=()`` records everything (no default patterns)."""

    base_path: Path | None = None
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    lstrip_paths: tuple[str, ...] = ()
    normalize_line_endings: bool = False
    follow_symlinks: bool = True  # descend into symlinked directories (files are always followed)
    workers: int | None = None  # hashing threads; None: twice the CPU count; 1: no helper


@dataclass(frozen=True)
class RecordReport:
    """The recorded artifacts, and one message per path that was skipped."""

    artifacts: dict[str, dict[str, str]]
    skipped: tuple[str, ...] = ()


@dataclass
class _Walk:
    matcher: ExcludeMatcher
    base: str | None
    follow_symlinks: bool
    files: list[tuple[str, str]] = field(default_factory=list)  # (walked path, fs path)
    skipped: list[str] = field(default_factory=list)

    def fs_path(self, walked: str) -> str:
        return os.path.join(self.base, walked) if self.base else walked


def record_artifacts(paths: Sequence[str], options: RecordOptions) -> dict[str, dict[str, str]]:
    """Return ``{name: {"sha256": hex}}`` for ``paths`` (see :func:`record_artifacts_report`)."""
    return record_artifacts_report(paths, options).artifacts


def record_artifacts_report(
    paths: Sequence[str], options: RecordOptions, *, cache: DigestCache | None = None
) -> RecordReport:
    """Record ``paths`` (relative to ``options.base_path`` or the working directory).

    With a ``cache``, a file recorded earlier through the same cache is not read again
    when it is provably unchanged (see :mod:`intoto_pip.artifacts.digests`).

    Raises InputError for bad options (overlapping ``lstrip_paths``, an invalid pattern, a
    base path that is not a directory), for names that collide after stripping, and for a
    file that cannot be read.
    """
    _check_lstrip_paths(options.lstrip_paths)
    base = _check_base_path(options.base_path)
    walk = _Walk(ExcludeMatcher(options.exclude), base, options.follow_symlinks)
    for path in paths:
        _collect(walk, path)
    names = _name_files(walk.files, options.lstrip_paths)
    digests = hash_files(
        [fs for _, fs in walk.files],
        normalize=options.normalize_line_endings,
        workers=options.workers,
        cache=cache,
    )
    artifacts = {
        name: {HASH_ALGORITHM: digest} for name, digest in zip(names, digests, strict=True)
    }
    return RecordReport(dict(sorted(artifacts.items())), tuple(walk.skipped))


def _check_lstrip_paths(prefixes: Sequence[str]) -> None:
    for first, second in combinations(prefixes, 2):
        if first.startswith(second) or second.startswith(first):
            raise InputError(
                f"--lstrip-paths {first!r} and {second!r} overlap: one is a prefix of the other"
            )


def _check_base_path(base_path: Path | None) -> str | None:
    if base_path is None or str(base_path) == "":
        return None
    if not base_path.is_dir():
        raise InputError(f"base path {str(base_path)!r} is not a directory")
    return os.fspath(base_path)


def _collect(walk: _Walk, path: str) -> None:
    walked = os.path.normpath(path)
    if walk.matcher.excluded(walked):
        return
    fs_path = walk.fs_path(walked)
    try:
        info = os.stat(fs_path)
    except OSError:
        walk.skipped.append(f"{path!r} does not exist, skipped")
        return
    if stat.S_ISREG(info.st_mode):
        walk.files.append((walked, fs_path))
    elif stat.S_ISDIR(info.st_mode):
        _walk_tree(walk, walked, fs_path, (info.st_dev, info.st_ino))
    else:
        walk.skipped.append(f"{path!r} is not a regular file or directory, skipped")


def _walk_tree(walk: _Walk, walked: str, fs_path: str, identity: tuple[int, int]) -> None:
    # Iterative, depth-first; each folder carries the identities of its ancestors so a
    # symlink back up the tree is noticed instead of followed forever.
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [
        (walked, fs_path, frozenset([identity]))
    ]
    # The loop below runs once per file: calls are inlined, and no pattern means no match.
    excluded = None if walk.matcher.empty else walk.matcher.excluded
    files = walk.files
    while stack:
        walked_dir, fs_dir, ancestors = stack.pop()
        prefix = _child_prefix(walked_dir)
        for entry in _scandir(walk, walked_dir, fs_dir):
            child_walked = prefix + entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                child = _descend(walk, child_walked, entry, ancestors)
                if child is not None:
                    stack.append((child_walked, entry.path, ancestors | {child}))
                continue
            if excluded is not None and excluded(child_walked):
                continue
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            if regular:
                files.append((child_walked, entry.path))
            else:
                _skip_file(walk, child_walked, entry)


def _child_prefix(walked_dir: str) -> str:
    """What goes before an entry's name to make its walked path."""
    if walked_dir == ".":
        return ""
    if walked_dir.endswith("/"):
        return walked_dir  # a root: "/" (or POSIX's own "//")
    return walked_dir + "/"


def _scandir(walk: _Walk, walked_dir: str, fs_dir: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(fs_dir) as iterator:
            return list(iterator)
    except OSError as exc:
        walk.skipped.append(f"{walked_dir!r} cannot be listed ({exc.strerror}), skipped")
        return []


def _descend(
    walk: _Walk,
    walked: str,
    entry: os.DirEntry[str],
    ancestors: frozenset[tuple[int, int]],
) -> tuple[int, int] | None:
    """Return the directory's identity if the walk should go into it, else None."""
    is_link = entry.is_symlink()
    if (is_link and not walk.follow_symlinks) or walk.matcher.excluded(walked):
        return None
    if not is_link:
        info = entry.stat()
        return (info.st_dev, info.st_ino)
    try:
        info = os.stat(entry.path)
    except OSError:
        return None
    identity = (info.st_dev, info.st_ino)
    if identity in ancestors:
        walk.skipped.append(f"{walked!r} links back to a directory above it, not walked again")
        return None
    return identity


def _skip_file(walk: _Walk, walked: str, entry: os.DirEntry[str]) -> None:
    if entry.is_symlink():
        walk.skipped.append(f"{walked!r} is a broken symlink, skipped")
    else:
        walk.skipped.append(f"{walked!r} is not a regular file, skipped")


def _name_files(files: list[tuple[str, str]], lstrip_paths: Sequence[str]) -> list[str]:
    if not lstrip_paths and os.sep == "/":
        # Walked paths are already normal: a normalised root joined with plain entry names.
        return [walked for walked, _ in files]
    names: list[str] = []
    origin: dict[str, str] = {}
    for walked, _ in files:
        name = walked.replace(os.sep, "/") if os.sep != "/" else walked
        name = _lstrip(name, lstrip_paths)
        if not name:
            raise InputError(f"--lstrip-paths leaves no name for {walked!r}")
        name = normalize_artifact_name(name)
        first = origin.setdefault(name, walked)
        if first != walked:
            raise InputError(
                f"{first!r} and {walked!r} would both be recorded as {name!r}: "
                "choose --lstrip-paths that keep names unique"
            )
        names.append(name)
    return names


def _lstrip(name: str, prefixes: Sequence[str]) -> str:
    for prefix in prefixes:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
