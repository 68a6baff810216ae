"""TOML text for a PEP 751 lock: the dictionary ``packaging.pylock`` gives, written out.

The standard library reads TOML but does not write it, and a lock needs only a small part of
TOML: top-level scalars and arrays, an array of ``[[packages]]`` tables, inline tables for
files, hashes and identities. Strings are written as JSON strings, whose escapes are a subset
of TOML's basic strings. The writer checks what it wrote by reading it back
(``lock_write``), so a value this module cannot write is never silently changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def render(document: Mapping[str, Any]) -> str:
    """The TOML text of a lock dictionary (``Pylock.to_dict()``)."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in document.items() if not _is_tables(v)]
    for key, value in document.items():
        if _is_tables(value):
            for table in value:
                lines += ["", f"[[{_key(key)}]]", *_table_lines(table)]
    return "\n".join(lines) + "\n"


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table_lines(table: Mapping[str, Any]) -> list[str]:
    lines = []
    for key, value in table.items():
        if _is_tables(value):  # one inline table a line: diffs of a lock stay readable
            items = [f"    {_value(item)}," for item in value]
            lines += [f"{_key(key)} = [", *items, "]"]
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    return lines


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a lock")
