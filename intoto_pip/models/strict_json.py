"""Strict JSON decoding for metadata we did not write.

The reference accepts whatever ``json.loads`` accepts. We refuse what would let two parsers
disagree or a signer be misread: duplicate keys, NaN/Infinity, floats, lone surrogates,
non-UTF-8 or BOM-prefixed input, and absurd depth or size. The caps admit a link of 100,000
artifacts (~15 MB) with room to spare.
"""

from __future__ import annotations

import json
from typing import Any

from intoto_pip.errors import MetadataError

MAX_BYTES = 64 * 1024 * 1024
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
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MetadataError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _check_depth_and_strings(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MetadataError(f"nesting deeper than {MAX_DEPTH}")
    if isinstance(value, str):
        _check_string(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_string(key)
            _check_depth_and_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth_and_strings(item, depth + 1)


def _check_string(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MetadataError("a string holds a lone surrogate") from exc


def _prescan_depth(text: str) -> None:
    # json's C scanner recurses per nesting level; bound depth before handing it the text so
    # that a hostile file cannot exhaust the stack. Brackets inside strings only over-count,
    # which errs on the side of refusal for pathological inputs only.
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise MetadataError(f"nesting deeper than {MAX_DEPTH}")
        elif char in "]}":
            depth -= 1


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
        if text.count("[") + text.count("{") > MAX_DEPTH:
            _prescan_depth(text)
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
            raise MetadataError("nesting too deep") from exc
        _check_depth_and_strings(value, 0)
        return value
    except MetadataError as exc:
        raise MetadataError(f"{what}: {exc}") from exc.__cause__
