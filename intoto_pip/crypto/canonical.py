"""Canonical JSON exactly as securesystemslib encodes it.

Keys sorted by code point, no whitespace, only backslash and double quote escaped, strings
otherwise written raw (UTF-8), integers only. Anything else is refused, because a signature
over a value we cannot encode identically to the reference is a signature we cannot check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from intoto_pip.errors import MetadataError


def _encode_str(value: str, out: list[str]) -> None:
    out.append('"')
    out.append(value.replace("\\", "\\\\").replace('"', '\\"'))
    out.append('"')


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        _encode_str(value, out)
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key in sorted(value):
            if not isinstance(key, str):
                raise MetadataError(f"canonical JSON: object key {key!r} is not a string")
            if not first:
                out.append(",")
            first = False
            _encode_str(key, out)
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise MetadataError(f"canonical JSON: cannot encode a {type(value).__name__}")


def encode_canonical(value: Any) -> bytes:
    """Return the canonical JSON bytes of ``value`` (UTF-8)."""
    out: list[str] = []
    _encode(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MetadataError("canonical JSON: a string holds a lone surrogate") from exc
