"""A wheel's RECORD, checked strictly (PEP 376, PEP 427).

Every member is listed exactly once with ``sha256=<urlsafe base64, no padding>`` and its size
in bytes, and every row names a member. Exceptions: the RECORD row itself (optional, hash and
size empty) and the signature files ``RECORD.jws`` / ``RECORD.p7s`` (may be left out, or listed
with empty fields). Other algorithms are refused: the product hashes we compare are sha256.
All problems are collected; the error names the first and counts the rest.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from intoto_pip.errors import ArchiveError

_B64_SHA256 = re.compile(r"[A-Za-z0-9_-]{43}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
SIGNATURE_SUFFIXES = (".jws", ".p7s")


@dataclass(frozen=True, kw_only=True)
class RecordRow:
    """One RECORD line: the path, its sha256 (hex) and size, or None where left empty."""

    path: str
    sha256: str | None
    size: int | None


def parse_record(data: bytes, *, where: str, record_name: str) -> tuple[RecordRow, ...]:
    """Parse RECORD bytes into rows; ArchiveError naming the row on any malformed field."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveError(f"{where}: {record_name} is not UTF-8") from None
    rows = []
    try:
        for number, fields in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            rows.append(_parse_row(fields, f"{where}: {record_name} row {number}"))
    except csv.Error as exc:
        raise ArchiveError(f"{where}: {record_name} is not valid CSV ({exc})") from None
    return tuple(rows)


def _parse_row(fields: list[str], at: str) -> RecordRow:
    if len(fields) != 3:
        raise ArchiveError(f"{at} has {len(fields)} fields, expected 3 (path,hash,size)")
    path, hash_field, size_field = fields
    if not path:
        raise ArchiveError(f"{at} has an empty path")
    return RecordRow(
        path=path,
        sha256=_parse_hash(hash_field, f"{at} ({path!r})"),
        size=_parse_size(size_field, f"{at} ({path!r})"),
    )


def _parse_hash(field: str, at: str) -> str | None:
    if not field:
        return None
    algorithm, _, encoded = field.partition("=")
    if algorithm != "sha256":
        raise ArchiveError(f"{at} uses hash {algorithm!r}; sha256 is required")
    if not _B64_SHA256.fullmatch(encoded):
        raise ArchiveError(f"{at} has a sha256 that is not unpadded urlsafe base64 of 32 bytes")
    try:
        return base64.urlsafe_b64decode(encoded + "=").hex()
    except (binascii.Error, ValueError):
        raise ArchiveError(f"{at} has a malformed sha256") from None


def _parse_size(field: str, at: str) -> int | None:
    if not field:
        return None
    if not _SIZE.fullmatch(field):
        raise ArchiveError(f"{at} has size {field!r}, not a plain decimal number")
    return int(field)


def check_record(
    rows: tuple[RecordRow, ...],
    *,
    sizes: Mapping[str, int],
    hashes: Mapping[str, str],
    record_name: str,
    where: str,
) -> None:
    """Compare RECORD rows with the members (name -> size, name -> sha256 hex), in order.

    ArchiveError names the first problem and how many others there are.
    """
    problems = _row_problems(rows, sizes, hashes, record_name)
    listed = {row.path for row in rows}
    optional = {record_name} | {record_name + suffix for suffix in SIGNATURE_SUFFIXES}
    problems += [
        f"member {name!r} is not listed in {record_name}"
        for name in sizes
        if name not in listed and name not in optional
    ]
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ArchiveError(f"{where}: {problems[0]}{more}")


def _row_problems(
    rows: tuple[RecordRow, ...],
    sizes: Mapping[str, int],
    hashes: Mapping[str, str],
    record_name: str,
) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    signatures = {record_name + suffix for suffix in SIGNATURE_SUFFIXES}
    for row in rows:
        if row.path in seen:
            problems.append(f"{record_name} lists {row.path!r} twice")
            continue
        seen.add(row.path)
        empty = row.sha256 is None and row.size is None
        if row.path == record_name or (row.path in signatures and empty):
            if not empty:
                problems.append(f"{record_name} gives a hash or size for itself")
            if row.path not in sizes:
                problems.append(f"{record_name} lists {row.path!r}, which is not a member")
            continue
        problem = _member_problem(row, sizes, hashes, record_name)
        if problem:
            problems.append(problem)
    return problems


def _member_problem(
    row: RecordRow, sizes: Mapping[str, int], hashes: Mapping[str, str], record_name: str
) -> str | None:
    name = row.path
    if name not in sizes:
        return f"{record_name} lists {name!r}, which is not a member"
    if row.sha256 is None:
        return f"member {name!r} has no sha256 in {record_name}"
    if row.size is None:
        return f"member {name!r} has no size in {record_name}"
    if row.size != sizes[name]:
        return f"member {name!r} has {sizes[name]} bytes, {record_name} says {row.size}"
    if row.sha256 != hashes[name]:
        return f"member {name!r} does not match its sha256 in {record_name}"
    return None
