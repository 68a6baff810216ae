"""Folder mode (``in-toto-verify``'s job): the engine fed from disk.

The layout is a file the user named (unreadable: exit 2; malformed: exit 1); links are read
from ``link_dir`` as ``<step>.<keyid[:8]>.link``, sublayout links from
``<step>.<keyid[:8]>/`` below it; inspections run in ``workdir``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from intoto_pip.crypto.keys import VerificationKey
from intoto_pip.errors import MetadataError
from intoto_pip.models.envelope import Envelope, parse_envelope
from intoto_pip.models.layout import Inspection
from intoto_pip.models.link import Link, normalize_artifact_name
from intoto_pip.store import link_filename, read_metadata_bytes, read_user_file, sublayout_dirname
from intoto_pip.verify.engine import verify_layout
from intoto_pip.verify.inspections import DEFAULT_TIMEOUT, InspectionOptions, run_inspection
from intoto_pip.verify.result import VerificationResult


@dataclass(frozen=True, kw_only=True)
class FolderOptions:
    layout_path: Path
    layout_keys: tuple[VerificationKey, ...]
    link_dir: Path = Path(".")
    params: Mapping[str, str] | None = None  # None: no substitution (the reference's default)
    inspection_timeout: float = DEFAULT_TIMEOUT
    workdir: Path = Path(".")  # where inspections run
    exclude_from_inspection: frozenset[str] = frozenset()  # more names to leave out
    now: datetime | None = None  # injectable clock; None: the current time


@dataclass
class FolderLinkSource:
    """Link files below ``root``; remembers every file it read (shared with sub-sources)."""

    root: Path
    read: set[Path] = field(default_factory=set)

    def location(self, step_name: str, keyid: str) -> str:
        return str(self.root / link_filename(step_name, keyid))

    def links_for(self, step_name: str, keyids: Sequence[str]) -> dict[str, Envelope]:
        found: dict[str, Envelope] = {}
        for keyid in keyids:
            path = self.root / link_filename(step_name, keyid)
            data = _read_if_present(path)
            if data is None:
                continue
            self.read.add(path)
            found[keyid] = parse_envelope(data, what=str(path))
        return found

    def sublayout_source(self, step_name: str, keyid: str) -> FolderLinkSource:
        return FolderLinkSource(self.root / sublayout_dirname(step_name, keyid), self.read)


def _read_if_present(path: Path) -> bytes | None:
    """A link that is absent is not an error (authorised is not required); others are."""
    try:
        return read_metadata_bytes(path)
    except MetadataError as exc:
        if isinstance(exc.__cause__, FileNotFoundError | NotADirectoryError):
            return None
        raise


def names_below(paths: set[Path], workdir: Path) -> frozenset[str]:
    """Artifact names (as recorded from ``workdir``) of ``paths`` that lie inside it."""
    names: set[str] = set()
    for path in paths:
        for resolve in (os.path.abspath, os.path.realpath):
            relative = os.path.relpath(resolve(path), resolve(workdir))
            if relative != ".." and not relative.startswith(".." + os.sep):
                names.add(normalize_artifact_name(relative.replace(os.sep, "/")))
    return frozenset(names)


def verify_folder(options: FolderOptions) -> VerificationResult:
    """Verify the supply chain of ``options.layout_path`` against the links on disk."""
    envelope = parse_envelope(read_user_file(options.layout_path), what=str(options.layout_path))
    source = FolderLinkSource(options.link_dir)

    def run(inspection: Inspection) -> Link:
        exclude = names_below(source.read, options.workdir) | options.exclude_from_inspection
        inspection_options = InspectionOptions(
            workdir=options.workdir, timeout=options.inspection_timeout, exclude=exclude
        )
        return run_inspection(inspection, inspection_options)

    return verify_layout(
        envelope,
        layout_keys=options.layout_keys,
        links=source,
        params=options.params,
        run_inspection=run,
        now=options.now or datetime.now(UTC),
    )
