"""Write small pure-Python wheels, deterministically, with only the standard library.

Signed metadata is added by the caller as extra members (``<dist-info>/in-toto/...``) before
the wheel is written; RECORD then lists every member, the in-toto files included.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path

# A fixed timestamp keeps the archive bytes identical from run to run.
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def wheel_filename(name: str, version: str) -> str:
    return f"{name}-{version}-py3-none-any.whl"


def dist_info(name: str, version: str) -> str:
    return f"{name}-{version}.dist-info"


def base_members(name: str, version: str, sources: Mapping[str, bytes]) -> dict[str, bytes]:
    """The package files plus METADATA and WHEEL; RECORD comes last, in ``write_wheel``."""
    info = dist_info(name, version)
    members = dict(sources)
    members[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        "Summary: intoto-pip benchmark package\n"
    ).encode()
    members[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: intoto-pip-benchmarks\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    return members


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_wheel(path: Path, name: str, version: str, members: Mapping[str, bytes]) -> None:
    """Write the members and a RECORD that lists them all with their hashes and sizes."""
    record_name = f"{dist_info(name, version)}/RECORD"
    lines = [
        f"{member},sha256={_urlsafe_digest(data)},{len(data)}" for member, data in members.items()
    ]
    lines.append(f"{record_name},,")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in [*members.items(), (record_name, ("\n".join(lines) + "\n").encode())]:
            info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _urlsafe_digest(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
