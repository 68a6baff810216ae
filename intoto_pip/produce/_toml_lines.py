"""Find the line of a key or array element in TOML source, for error messages.

``tomllib`` returns values without positions, so a light scan of the text records where
each key of each table starts, and where each top-level element of an array value starts.
It understands headers (``[t]``, ``[[t]]``), comments, all four string forms and nested
brackets and braces; it is not a parser, and a lookup it cannot answer returns None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# (table, index of [[table]] or None, key, element or None)
Location = tuple[str | None, int | None, str | None, int | None]

_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)\s*=")


@dataclass
class _Scan:
    table: str | None = None
    index: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    key: str | None = None
    depth: int = 0
    element: int = -1
    expecting: bool = False
    quote: str = ""  # the open string's delimiter, if a string spans lines
    lines: dict[Location, int] = field(default_factory=dict)


class TomlLines:
    """Line numbers (1-based) of keys and array elements in a TOML text."""

    def __init__(self, text: str) -> None:
        scan = _Scan()
        for number, line in enumerate(text.splitlines(), start=1):
            _scan_line(scan, line, number)
        self._lines = scan.lines

    def line(
        self,
        table: str | None,
        index: int | None = None,
        key: str | None = None,
        element: int | None = None,
    ) -> int | None:
        """The most precise known line: the element, else its key, else its table."""
        for location in (
            (table, index, key, element),
            (table, index, key, None),
            (table, index, None, None),
        ):
            if location in self._lines:
                return self._lines[location]
        return None


def _scan_line(scan: _Scan, line: str, number: int) -> None:
    if scan.depth == 0 and not scan.quote:
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            _enter_table(scan, header.group(2), header.group(1) == "[[", number)
            return
        key = _KEY.match(line)
        if key is None:
            return
        scan.key = key.group(1).strip("\"'")
        scan.element = -1
        scan.lines.setdefault((scan.table, scan.index, scan.key, None), number)
        line = line[key.end() :]
    _scan_value(scan, line, number)


def _enter_table(scan: _Scan, name: str, is_array: bool, number: int) -> None:
    name = name.strip().strip("\"'")
    scan.table = name
    scan.key = None
    if is_array:
        scan.index = scan.counts.get(name, -1) + 1
        scan.counts[name] = scan.index
    else:
        scan.index = None
    scan.lines.setdefault((scan.table, scan.index, None, None), number)


def _scan_value(scan: _Scan, text: str, number: int) -> None:
    i = 0
    while i < len(text):
        if scan.quote:
            i = _skip_string(scan, text, i)
            continue
        char = text[i]
        if char == "#":
            return
        if scan.depth == 1 and scan.expecting and char not in " \t,]}":
            scan.element += 1
            scan.expecting = False
            scan.lines.setdefault((scan.table, scan.index, scan.key, scan.element), number)
        if char in "[{":
            scan.depth += 1
            scan.expecting = scan.depth == 1 and char == "["
        elif char in "]}":
            scan.depth = max(0, scan.depth - 1)
        elif char == "," and scan.depth == 1:
            scan.expecting = True
        elif char in "\"'":
            triple = text.startswith(char * 3, i)
            scan.quote = char * 3 if triple else char
            i += len(scan.quote)
            continue
        i += 1


def _skip_string(scan: _Scan, text: str, i: int) -> int:
    """Advance past the end of the open string, or to the end of the line."""
    while i < len(text):
        if scan.quote[0] == '"' and text[i] == "\\":
            i += 2
            continue
        if text.startswith(scan.quote, i):
            i += len(scan.quote)
            scan.quote = ""
            return i
        i += 1
    if len(scan.quote) == 1:
        scan.quote = ""  # a one-line string cannot continue on the next line
    return i
