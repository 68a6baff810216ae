"""The only place metadata touches disk: file names, loading, atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from intoto_pip.errors import InputError, MetadataError

LINK_SUFFIX = ".link"
MAX_METADATA_BYTES = 64 * 1024 * 1024


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
