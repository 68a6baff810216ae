"""The attacker's tool: swap one file of a wheel and make the wheel look untouched again.

After the swap the wheel is a perfectly valid wheel: its RECORD lists the new file's hash and
size, so pip or ``installer`` would install it without a murmur. Only the in-toto evidence,
which the attacker cannot re-sign, still describes the original bytes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from pathlib import Path

from intoto_pip.errors import InputError


def record_digest(data: bytes) -> str:
    """A RECORD hash field (``sha256=`` and unpadded urlsafe base64)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def swap_member(source: Path, target: Path, member: str, data: bytes) -> None:
    """Copy the wheel ``source`` to ``target`` with ``member`` replaced by ``data``.

    Raises InputError when ``source`` has no such member or no RECORD.
    """
    with zipfile.ZipFile(source) as wheel:
        members = {info.filename: wheel.read(info) for info in wheel.infolist()}
    if member not in members:
        raise InputError(f"{source.name} has no member {member!r}; pick one of its files")
    members[member] = data
    record = _record_name(members, source)
    members[record] = rewrite_record(members, record)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, content in members.items():
            wheel.writestr(name, content)


def rewrite_record(members: dict[str, bytes], record: str) -> bytes:
    """A RECORD listing every member with its hash and size (RECORD itself without)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, content in members.items():
        if name == record:
            writer.writerow([name, "", ""])
        else:
            writer.writerow([name, record_digest(content), len(content)])
    return out.getvalue().encode()


def record_matches(wheel_path: Path) -> bool:
    """Whether every file of the wheel is listed in RECORD with its true hash and size."""
    with zipfile.ZipFile(wheel_path) as wheel:
        members = {info.filename: wheel.read(info) for info in wheel.infolist()}
    record = _record_name(members, wheel_path)
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(members[record].decode()))}
    expected = {
        name: [record_digest(data), str(len(data))]
        for name, data in members.items()
        if name != record
    }
    return rows.pop(record, None) is not None and rows == expected


def _record_name(members: dict[str, bytes], source: Path) -> str:
    records = [
        name for name in members if name.count("/") == 1 and name.endswith(".dist-info/RECORD")
    ]
    if len(records) != 1:
        raise InputError(f"{source.name} is not a wheel with one RECORD")
    return records[0]
