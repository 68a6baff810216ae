"""A tiny PEP 517 build backend: standard library only, reproducible output.

intoto_pip.backend wraps it the way it would wrap setuptools.build_meta. It reads the name
and version from pyproject.toml and packs the package folder of the same name; nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

# Fixed timestamps make two builds of the same tree byte-identical.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_WHEEL = "Wheel-Version: 1.0\nGenerator: demo_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _project() -> tuple[str, str]:
    table = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(table["name"]), str(table["version"])


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def _sources(name: str) -> dict[str, bytes]:
    files = sorted(Path(name).rglob("*.py"))
    return {path.as_posix(): path.read_bytes() for path in files}


def _record_line(member: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{member},sha256={digest},{len(data)}"


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name, version = _project()
    info = f"{name}-{version}.dist-info"
    members = _sources(name)
    members[f"{info}/METADATA"] = _metadata(name, version)
    members[f"{info}/WHEEL"] = _WHEEL.encode()
    record = [_record_line(member, data) for member, data in members.items()]
    members[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for member, data in members.items():
            wheel.writestr(zipfile.ZipInfo(member, _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return filename


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    name, version = _project()
    root = f"{name}-{version}"
    members = {"pyproject.toml": Path("pyproject.toml").read_bytes()}
    members["demo_backend.py"] = Path("demo_backend.py").read_bytes()
    members.update(_sources(name))
    members["PKG-INFO"] = _metadata(name, version)
    filename = f"{root}.tar.gz"
    with tarfile.open(Path(sdist_directory, filename), "w:gz") as sdist:
        for member, data in members.items():
            entry = tarfile.TarInfo(f"{root}/{member}")
            entry.size, entry.mode = len(data), 0o644
            sdist.addfile(entry, io.BytesIO(data))
    return filename
