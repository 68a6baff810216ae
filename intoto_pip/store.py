"""The only place metadata touches disk: file names, loading, atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.strict_json import MAX_BYTES

LINK_SUFFIX = ".link"
MAX_METADATA_BYTES = MAX_BYTES  # one cap for reading and for writing: what we write, we read


def link_filename(step: str, keyid: str) -> str:
    return f"{step}.{keyid[:8]}{LINK_SUFFIX}"


def unfinished_link_filename(step: str, keyid: str) -> str:
    return f".{step}.{keyid[:8]}{LINK_SUFFIX}-unfinished"


def sublayout_dirname(step: str, keyid: str) -> str:
    return f"{step}.{keyid[:8]}"


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise MetadataError(f"{path}: larger than {MAX_METADATA_BYTES} bytes")
    return data


def read_metadata_bytes(path: Path) -> bytes:
    """Read metadata that is part of what is verified: a problem is a verification failure."""
    try:
        return _read(path)
    except FileNotFoundError as exc:
        raise MetadataError(f"{path}: not found") from exc
    except OSError as exc:
        raise MetadataError(f"{path}: cannot be read ({exc.strerror})") from exc


def read_user_file(path: Path) -> bytes:
    """Read a file the user named on the command line: a problem is a usage error (exit 2)."""
    try:
        return _read(path)
    except MetadataError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc


def write_metadata(path: Path, data: bytes) -> None:
    """Write signed metadata atomically, unless it is over the cap every reader applies (a
    link ``verify`` would refuse is refused here, with nothing written)."""
    if len(data) > MAX_METADATA_BYTES:
        raise MetadataTooLarge(
            f"{path}: not written, {len(data):,} bytes is over the {MAX_METADATA_BYTES:,}-byte "
            "cap that verify reads (about 1.3 million artifacts); record fewer files "
            "(--exclude) or split the step",
            size=len(data),
        )
    write_atomic(path, data)


class MetadataTooLarge(InputError):
    """Metadata over the reading cap, refused before it is written (exit 2)."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename: never a half-written file."""
    directory = path.parent
    if not directory.is_dir():
        raise InputError(f"{path}: the folder {str(directory)!r} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
