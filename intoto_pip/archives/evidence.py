"""Finding an archive's in-toto metadata: embedded, detached, or named by the policy.

Where we look, in order:

1. ``--metadata DIR``: ``DIR/<archive filename>.intoto/``, or ``DIR`` itself when it holds a
   ``root.layout`` and only one archive is being verified;
2. embedded in the archive: a wheel's ``<name>-<ver>.dist-info/in-toto/``, an sdist's
   ``<name>-<ver>/.in-toto/``;
3. detached beside the archive: ``<archive filename>.intoto/``.

The first place that holds a ``root.layout`` wins; its folder also supplies the link files and
sublayout folders. A layout named by the policy (out of band) replaces the shipped one; the
links still come from the place found (and without any, from nowhere: the layout's steps
will then lack their links). Everything is read into memory once, with caps, so the engine's
``LinkSource`` does no I/O and nothing can change underneath it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from intoto_pip.archives.limits import DEFAULT_LIMITS
from intoto_pip.errors import MetadataError
from intoto_pip.models.envelope import Envelope, parse_envelope
from intoto_pip.store import link_filename, read_metadata_bytes, read_user_file, sublayout_dirname

LAYOUT_NAME = "root.layout"
DETACHED_SUFFIX = ".intoto"
MAX_FILES = DEFAULT_LIMITS.max_evidence_files
MAX_TOTAL_BYTES = DEFAULT_LIMITS.max_evidence_size
MAX_DEPTH = DEFAULT_LIMITS.max_evidence_depth

Mode = Literal["embedded", "detached"]


class NoMetadataError(MetadataError):
    """The archive carries no in-toto metadata at all (``--allow-unverified`` may accept it)."""


class MemberReader(Protocol):
    """The little we need from a safe archive: its member names and their bytes."""

    def names(self) -> Sequence[str]: ...

    def read(self, name: str) -> bytes: ...


@dataclass(frozen=True, kw_only=True)
class MemoryLinkSource:
    """The engine's ``LinkSource`` over metadata already read into memory.

    ``read`` collects the names of the files the engine asked for and got (shared with the
    sources of sublayouts), so that files nobody read can be refused afterwards.
    """

    files: Mapping[str, bytes]
    label: str  # where the files came from, for messages (ends with "/")
    prefix: str = ""  # "<step>.<keyid[:8]>/" inside a sublayout
    read: set[str] = field(default_factory=set, compare=False, repr=False)

    def links_for(self, step_name: str, keyids: Sequence[str]) -> Mapping[str, Envelope]:
        found: dict[str, Envelope] = {}
        for keyid in keyids:
            name = self.prefix + link_filename(step_name, keyid)
            data = self.files.get(name)
            if data is not None:
                self.read.add(name)
                found[keyid] = parse_envelope(data, what=self.location(step_name, keyid))
        return found

    def sublayout_source(self, step_name: str, keyid: str) -> MemoryLinkSource:
        prefix = f"{self.prefix}{sublayout_dirname(step_name, keyid)}/"
        return MemoryLinkSource(files=self.files, label=self.label, prefix=prefix, read=self.read)

    def location(self, step_name: str, keyid: str) -> str:
        return f"{self.label}{self.prefix}{link_filename(step_name, keyid)}"


@dataclass(frozen=True, kw_only=True)
class ArchiveMetadata:
    """The layout to verify and the files (links, sublayout folders) that go with it."""

    mode: Mode
    layout: bytes
    layout_origin: str
    files: Mapping[str, bytes]
    label: str

    def envelope(self) -> Envelope:
        return parse_envelope(self.layout, what=self.layout_origin)

    def link_source(self) -> MemoryLinkSource:
        return MemoryLinkSource(files=self.files, label=self.label)

    def unread(self, source: MemoryLinkSource) -> list[str]:
        """The files (other than the layout) that verification through ``source`` never read:
        neither a link of a step nor a sublayout's link, for any key the layouts name."""
        return sorted(name for name in self.files if name not in source.read)


@dataclass(frozen=True, kw_only=True)
class MetadataQuery:
    """Where to look for one archive's metadata."""

    archive_path: Path
    embedded_prefix: str  # e.g. "demo-1.0.dist-info/in-toto/"
    metadata_dir: Path | None = None
    metadata_dir_direct: bool = False  # accept DIR/root.layout (one archive only)
    layout_override: Path | None = None  # out-of-band layout from the policy


def find_metadata(query: MetadataQuery, archive: MemberReader) -> ArchiveMetadata:
    """Locate and read the metadata; NoMetadataError when there is none anywhere."""
    found = _find_shipped(query, archive)
    if query.layout_override is not None:
        layout = read_user_file(query.layout_override)
        origin = f"{query.layout_override} (out-of-band layout)"
        if found is None:
            label = f"{query.archive_path.name}: "
            return ArchiveMetadata(
                mode="detached", layout=layout, layout_origin=origin, files={}, label=label
            )
        return ArchiveMetadata(
            mode=found.mode,
            layout=layout,
            layout_origin=origin,
            files=found.files,
            label=found.label,
        )
    if found is None:
        raise NoMetadataError(f"{query.archive_path.name}: {_nothing_found(query)}")
    return found


def _find_shipped(query: MetadataQuery, archive: MemberReader) -> ArchiveMetadata | None:
    name = query.archive_path.name
    if query.metadata_dir is not None:
        for folder in _given_dirs(query):
            if (folder / LAYOUT_NAME).is_file():
                return _read_folder(folder)
    embedded = _read_embedded(archive, query.embedded_prefix, name)
    if embedded is not None:
        return embedded
    beside = query.archive_path.parent / f"{name}{DETACHED_SUFFIX}"
    if (beside / LAYOUT_NAME).is_file():
        return _read_folder(beside)
    return None


def _given_dirs(query: MetadataQuery) -> list[Path]:
    assert query.metadata_dir is not None
    dirs = [query.metadata_dir / f"{query.archive_path.name}{DETACHED_SUFFIX}"]
    if query.metadata_dir_direct:
        dirs.append(query.metadata_dir)
    return dirs


def _nothing_found(query: MetadataQuery) -> str:
    name = query.archive_path.name
    places = [f"{query.embedded_prefix} inside the archive", f"{name}{DETACHED_SUFFIX}/ beside it"]
    if query.metadata_dir is not None:
        places.insert(0, f"{query.metadata_dir / (name + DETACHED_SUFFIX)}/")
    return f"no in-toto metadata ({LAYOUT_NAME} not found in {', '.join(places)})"


def _read_embedded(archive: MemberReader, prefix: str, filename: str) -> ArchiveMetadata | None:
    names = [name for name in archive.names() if name.startswith(prefix)]
    files: dict[str, bytes] = {}
    total = 0
    for name in names:
        if name.endswith("/"):
            continue
        data = archive.read(name)
        total += len(data)
        _check_caps(len(files) + 1, total, f"{filename}: {prefix}")
        files[name[len(prefix) :]] = data
    layout = files.pop(LAYOUT_NAME, None)
    if layout is None:
        if files:
            raise MetadataError(f"{filename}: {prefix} holds metadata but no {LAYOUT_NAME}")
        return None
    label = f"{filename}:{prefix}"
    origin = f"{label}{LAYOUT_NAME}"
    return ArchiveMetadata(
        mode="embedded", layout=layout, layout_origin=origin, files=files, label=label
    )


def read_evidence_folder(folder: Path) -> ArchiveMetadata | None:
    """The evidence an installed distribution keeps (``<dist-info>/in-toto/``), read once
    with the same caps as any metadata folder; None when there is no such folder."""
    if not folder.is_dir():
        return None
    if not (folder / LAYOUT_NAME).is_file():
        raise MetadataError(f"{folder}{os.sep}: holds no {LAYOUT_NAME}")
    found = _read_folder(folder)
    return ArchiveMetadata(
        mode="embedded",
        layout=found.layout,
        layout_origin=found.layout_origin,
        files=found.files,
        label=found.label,
    )


def _read_folder(folder: Path) -> ArchiveMetadata:
    files: dict[str, bytes] = {}
    total = 0
    for rel, path in _walk(folder, "", 0):
        data = read_metadata_bytes(path)
        total += len(data)
        _check_caps(len(files) + 1, total, f"{folder}/")
        files[rel] = data
    layout = files.pop(LAYOUT_NAME)
    label = f"{folder}{os.sep}"
    return ArchiveMetadata(
        mode="detached",
        layout=layout,
        layout_origin=f"{label}{LAYOUT_NAME}",
        files=files,
        label=label,
    )


def _walk(folder: Path, prefix: str, depth: int) -> list[tuple[str, Path]]:
    if depth > MAX_DEPTH:
        raise MetadataError(f"{folder}: metadata folders nested deeper than {MAX_DEPTH} levels")
    found: list[tuple[str, Path]] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        raise MetadataError(f"{folder}: cannot be read ({exc.strerror})") from exc
    for entry in entries:
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            found += _walk(Path(entry.path), f"{prefix}{entry.name}/", depth + 1)
        elif stat.S_ISREG(mode):
            found.append((f"{prefix}{entry.name}", Path(entry.path)))
        # Links, sockets and devices are ignored: metadata is plain files.
    return found


def _check_caps(count: int, total: int, where: str) -> None:
    if count > MAX_FILES:
        raise MetadataError(f"{where}: more than {MAX_FILES} metadata files")
    if total > MAX_TOTAL_BYTES:
        raise MetadataError(f"{where}: metadata larger than {MAX_TOTAL_BYTES} bytes in total")
