"""Strict JSON decoding for metadata we did not write.

The reference accepts whatever ``json.loads`` accepts. We refuse what would let two parsers
disagree or a signer be misread: duplicate keys, NaN/Infinity, floats, lone surrogates,
non-UTF-8 or BOM-prefixed input, and absurd depth or size. The caps admit a link of 100,000
artifacts (~15 MB) with room to spare, and one of 1,000,000 (~121 MB; ~146 MB in DSSE).
"""

from __future__ import annotations

import json
import re
from typing import Any

from intoto_pip.errors import MetadataError

# A link of 1,000,000 artifacts is ~121 MB (DSSE: ~146 MB) and verifies in ~1.1 GB; the
# producers (store.write_metadata) refuse to write what readers would refuse.
MAX_BYTES = 160 * 1024 * 1024
MAX_DEPTH = 64
MAX_INT_DIGITS = 64


def _no_constant(name: str) -> Any:
    raise MetadataError(f"{name} is not allowed")


def _no_float(text: str) -> Any:
    raise MetadataError(f"floating-point number {text[:40]} is not allowed")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise MetadataError(f"integer with {len(text)} digits is too large")
    return int(text)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MetadataError(f"duplicate key {key!r}")
            seen.add(key)
    return result


# A lone surrogate can only arrive as a \\uD800-\\uDFFF escape: the text itself is valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_depth(value: Any, depth: int = 1) -> None:
    # Recursion is bounded: the parser refuses past the interpreter's recursion limit, and
    # this walk stops at MAX_DEPTH. Only containers are visited, so it stays cheap.
    if depth > MAX_DEPTH:
        raise MetadataError(f"nesting deeper than {MAX_DEPTH}")
    children = value.values() if type(value) is dict else value
    for child in children:
        if type(child) is dict or type(child) is list:
            _check_depth(child, depth + 1)


def _check_strings(value: Any) -> None:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_string(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _check_string(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MetadataError("a string holds a lone surrogate") from exc


def loads_strict(data: bytes, *, what: str = "JSON") -> Any:
    """Decode ``data`` as strict JSON; raise ``MetadataError`` naming ``what`` on any refusal."""
    try:
        if len(data) > MAX_BYTES:
            raise MetadataError(f"{len(data)} bytes is over the {MAX_BYTES}-byte cap")
        if data.startswith(b"\xef\xbb\xbf"):
            raise MetadataError("a byte-order mark is not allowed")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
        try:
            value = json.loads(
                text,
                object_pairs_hook=_pairs,
                parse_constant=_no_constant,
                parse_float=_no_float,
                parse_int=_parse_int,
            )
        except json.JSONDecodeError as exc:
            raise MetadataError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        except RecursionError as exc:
            # json's C scanner guards its recursion; a document this deep is far past our cap.
            raise MetadataError(f"nesting deeper than {MAX_DEPTH}") from exc
        if type(value) is dict or type(value) is list:
            _check_depth(value)
        if _SURROGATE_ESCAPE.search(text):
            _check_strings(value)
        return value
    except MetadataError as exc:
        raise MetadataError(f"{what}: {exc}") from exc.__cause__
