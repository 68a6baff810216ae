"""What an installed distribution says it owns (its RECORD), and what is really on disk.

Paths are kept as normalised absolute strings (``os.path.normpath``), the one spelling both
RECORD rows (``pkg/mod.py``, ``../../../bin/tool``) and folder walks are turned into.
Folders are listed with ``os.scandir``, whose entries know their type without a ``stat``
per file: one walk finds both what exists and what nobody listed.
"""

from __future__ import annotations

import binascii
import csv
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

# Python writes these itself (and rewrites them whenever a source's timestamp changes).
_PYC = re.compile(r"(?P<stem>[^.]+)\.[^.]+(\.opt-[12])?\.pyc\Z")


class RecordRow(NamedTuple):
    """One row of RECORD: where the file is, and its sha256 (hex) if RECORD gives one.

    A named tuple, not a frozen dataclass: a check makes one per installed file (tens of
    thousands), and this is made in half the time.
    """

    path: str
    sha256: str | None


@dataclass(frozen=True, kw_only=True)
class DistRecord:
    """An installed distribution's RECORD, read."""

    root: str  # the folder RECORD's paths are relative to (the dist-info's parent)
    rows: tuple[RecordRow, ...]
    tops: frozenset[str] = frozenset()  # its folders directly in ``root``
    problems: tuple[str, ...] = ()  # rows that could not be read (named by line)


def read_record(dist_info: Path) -> DistRecord | None:
    """RECORD of ``dist_info``, or None when there is none to read."""
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    root = os.path.normpath(dist_info.parent)
    return _read_usual(text, root) or _read_rows(csv.reader(text.splitlines()), root)


def _read_usual(text: str, root: str) -> DistRecord | None:
    """RECORD read as ``_read_rows`` reads it, a whole list at a time, where no quote is
    used, every name is a relative one in normal form and every hash reads (a check reads
    tens of thousands of rows); None for any other RECORD."""
    if os.sep != "/" or '"' in text:
        return None
    # Without a quote, the csv module splits each line at its commas and nothing else.
    rows = [row for row in (line.split(",") for line in text.splitlines() if line) if row[0]]
    names = [row[0] for row in rows]
    block = "\n" + "\n".join(names)  # a line never holds a "\n"
    if "/." in block or "//" in block or "\n." in block or "\n/" in block:
        return None
    # Bytecode is never compared (Python rewrites it): its hash is not even decoded.
    fields = [
        row[1] if len(row) > 1 and not name.endswith(".pyc") else ""
        for name, row in zip(names, rows, strict=True)
    ]
    digests = _sha256_hexes(fields)
    if digests is None:
        return None
    prefix = root + os.sep
    paths = [prefix + name for name in names]
    firsts = {name.partition("/")[0] for name in names if "/" in name}
    return DistRecord(
        root=root,
        rows=tuple(map(_new_row, repeat(RecordRow), zip(paths, digests, strict=True))),
        tops=frozenset(prefix + first for first in firsts),
    )


def _read_rows(table: Iterable[list[str]], root: str) -> DistRecord:
    """RECORD read row by row: any name, and a problem for each hash that does not read."""
    prefix = root + os.sep
    rows: list[RecordRow] = []
    firsts: set[str] = set()
    problems: list[str] = []
    for number, row in enumerate(table, start=1):
        if not row or not (name := row[0]):
            continue
        if _plain(name):
            path = prefix + name
            slash = name.find("/")
            if slash > 0:
                firsts.add(name[:slash])
        else:
            path = os.path.normpath(os.path.join(root, name))
        field = row[1] if len(row) > 1 and not name.endswith(".pyc") else ""
        digest = _sha256_hex(field) if field else None
        if digest == "":
            problems.append(f"RECORD line {number}: hash {row[1]!r} is not sha256=<base64>")
            digest = None
        rows.append(_new_row(RecordRow, (path, digest)))
    tops = frozenset(prefix + first for first in firsts)
    return DistRecord(root=root, rows=tuple(rows), tops=tops, problems=tuple(problems))


# RecordRow((path, digest)) without the named tuple's own __new__ (a Python function): one
# call fewer for each of tens of thousands of rows.
_new_row = tuple.__new__


def _plain(name: str) -> bool:
    """A relative name already in normal form (most rows): no join or normpath needed."""
    if os.sep != "/":
        return False
    if "/." not in name and "//" not in name and not name.startswith((".", "/")):
        return True  # the usual row, decided in three looks
    return (
        not name.startswith(("/", "./", "../"))
        and "/./" not in name
        and "/../" not in name
        and "//" not in name
        and not name.endswith(("/.", "/.."))
        and name not in (".", "..")
    )


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _sha256_hex(field: str) -> str | None:
    """RECORD's ``sha256=<urlsafe base64>`` as hex; None if no hash, "" if unreadable."""
    if not field:
        return None
    algorithm, _, value = field.partition("=")
    if algorithm != "sha256":
        return ""
    # What base64.urlsafe_b64decode does (characters outside the alphabet are dropped),
    # without its per-call overhead.
    try:
        data = (value + "=" * (-len(value) % 4)).encode("ascii").translate(_URLSAFE)
        raw = binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == 32 else ""


_SHA256_FIELD = len("sha256=") + 43  # 32 bytes: 43 base64 characters, unpadded
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _sha256_hexes(fields: list[str]) -> list[str | None] | None:
    """``_sha256_hex`` of each field ("": None); None if any does not read.

    The usual fields (``sha256=`` and 43 characters of the URL-safe alphabet) are decoded
    in one call: each is followed by an "A" (six zero bits), so each decodes to its 32 bytes
    and a 33rd that takes the bits after them, which a decoder of the field alone drops too.
    """
    present = [field for field in fields if field]
    count = len(present)
    usual = set(map(len, present)) <= {_SHA256_FIELD} and all(
        map(str.startswith, present, repeat("sha256="))
    )
    values = b""
    if usual and count:
        try:
            values = ("A".join(present) + "A").encode("ascii").replace(b"sha256=", b"")
        except UnicodeEncodeError:
            values = b""
    if len(values) == 44 * count and not values.translate(None, _ALPHABET):
        raw = binascii.a2b_base64(values.translate(_URLSAFE)).hex()
        decoded = iter([raw[start : start + 64] for start in range(0, 66 * count, 66)])
        return [next(decoded) if field else None for field in fields]
    digests = [_sha256_hex(field) for field in fields]
    return None if "" in digests else digests


def is_bytecode(path: str) -> bool:
    """Whether ``path`` is a ``.pyc`` in a ``__pycache__`` folder (or an old-style ``.pyc``)."""
    return path.endswith((".pyc", ".pyo"))


def in_pycache(path: str) -> bool:
    """Whether ``path`` is a ``__pycache__`` folder or inside one (virtualenv's RECORD lists
    the folders themselves, some of them never made)."""
    return f"{os.sep}__pycache__{os.sep}" in path or path.endswith(f"{os.sep}__pycache__")


def is_generated_bytecode(path: str, present: set[str]) -> bool:
    """A ``__pycache__/<stem>.<tag>.pyc`` whose ``<stem>.py`` is present beside the folder:
    what Python writes when it imports that module. Anything else there is not its work."""
    folder, name = os.path.split(path)
    if os.path.basename(folder) != "__pycache__":
        return False
    match = _PYC.match(name)
    if match is None:
        return False
    return os.path.join(os.path.dirname(folder), match["stem"] + ".py") in present


def top_folders(record: DistRecord) -> frozenset[str]:
    """The folders directly in ``record.root`` that the distribution has files in."""
    return record.tops


def walk_files(folder: str) -> Iterator[str]:
    """Every regular file below ``folder`` (links are not followed, and not files)."""
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.is_file(follow_symlinks=False):  # most entries: one look
                yield entry.path
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)


def top_files(folder: str) -> Iterator[str]:
    """The regular files directly in ``folder``."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_file(follow_symlinks=False):
            yield entry.path


def regular_files(paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` that are regular files (a ``stat`` each: for the few outside the
    walked folders, such as scripts)."""
    found = set()
    for path in paths:
        try:
            if os.path.isfile(path) and not os.path.islink(path):
                found.add(path)
        except OSError:
            continue
    return found
