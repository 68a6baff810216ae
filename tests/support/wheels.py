"""Tiny wheels for tests: members in, a valid ``.whl`` (with a correct RECORD) out."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name


def dist_info(name: str, version: str) -> str:
    """The dist-info folder name a wheel of ``name`` ``version`` uses."""
    return f"{canonicalize_name(name).replace('-', '_')}-{version}.dist-info"


def wheel_filename(name: str, version: str, tag: str = "py3-none-any") -> str:
    return f"{canonicalize_name(name).replace('-', '_')}-{version}-{tag}.whl"


def metadata_text(
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    requires_python: str | None = None,
) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {req}" for req in requires]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return ("\n".join(lines) + "\n\n").encode()


def wheel_members(
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    requires: Sequence[str] = (),
    entry_points: str | None = None,
    tag: str = "py3-none-any",
    requires_python: str | None = None,
) -> dict[str, bytes]:
    """Every member but RECORD: the files, METADATA, WHEEL and entry points."""
    info = dist_info(name, version)
    members = dict(files)
    members[f"{info}/METADATA"] = metadata_text(
        name, version, requires=requires, requires_python=requires_python
    )
    members[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n\n".encode()
    )
    if entry_points is not None:
        members[f"{info}/entry_points.txt"] = entry_points.encode()
    return members


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def record_bytes(members: Mapping[str, bytes], record_name: str) -> bytes:
    rows = [f"{name},{record_hash(data)},{len(data)}" for name, data in members.items()]
    rows.append(f"{record_name},,")
    return ("\n".join(rows) + "\n").encode()


def write_wheel(
    path: Path, members: Mapping[str, bytes], record_name: str, *, record: bool = True
) -> Path:
    """Write ``members`` plus a RECORD that lists them all (unless ``record`` is False)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if record:
            archive.writestr(record_name, record_bytes(members, record_name))
    return path
