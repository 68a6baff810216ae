"""Canonical JSON exactly as securesystemslib encodes it.

Keys sorted by code point, no whitespace, only backslash and double quote escaped, strings
otherwise written raw (UTF-8), integers only. Anything else is refused, because a signature
over a value we cannot encode identically to the reference is a signature we cannot check.

Two encoders give the same bytes. The fast one is json's C encoder (sorted keys, compact
separators, ``ensure_ascii=False``); its output is used only when it provably equals the
canonical form, which holds when both of these are true:

* the tree holds only exact ``dict`` (with ``str`` keys), ``list``, ``str``, ``int``, ``bool``
  and ``None``. The C encoder would write a float, turn an int or bool key into a string,
  and print an ``int`` subclass with ``int.__repr__`` where the canonical form refuses or
  calls ``str()``; a walk over the containers (only after the C encoder has proved the tree
  acyclic) rules all of that out.
* its text holds no escape but ``\\\\`` and ``\\"``. With ``ensure_ascii=False`` the C
  encoder escapes exactly three things: backslash, double quote (as the canonical form
  does) and characters below U+0020 (which the canonical form writes raw).

Anything else goes to the slow encoder, which writes the canonical form or refuses. Lone
surrogates pass through both encoders raw and are refused when the text becomes UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from intoto_pip.errors import MetadataError

_FAST_ENCODE = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


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


def is_plain_json(value: Any) -> bool:
    """True if ``value`` is built only of exact dict (str keys), list, str, int, bool, None.

    The value must be acyclic (a cycle would make this walk run forever).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif not (kind is str or kind is int or kind is bool or item is None):
            return False
    return True


def _fast_text(value: Any, plain: bool = False) -> str | None:
    """The canonical text from json's C encoder, or None where it could differ."""
    try:
        # The C encoder refuses cycles (ValueError) before the walk could loop on one.
        text = _FAST_ENCODE(value)
    except (TypeError, ValueError, RecursionError):
        return None
    # Escapes are tokens that each start with a backslash; pairs are removed left to right,
    # so a remaining backslash starts an escape the canonical form lacks.
    if "\\" in text and "\\" in text.replace("\\\\", "").replace('\\"', ""):
        return None
    return text if plain or is_plain_json(value) else None


def encode_canonical(value: Any, *, parsed: bool = False) -> bytes:
    """Return the canonical JSON bytes of ``value`` (UTF-8).

    ``parsed``: ``value`` is what ``models.strict_json.loads_strict`` returned, so it is built
    only of exact dict, list, str, int, bool and None (floats and constants are refused
    there), and the walk that makes sure of that is skipped.
    """
    text = _fast_text(value, parsed)
    if text is None:
        out: list[str] = []
        _encode(value, out)
        text = "".join(out)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MetadataError("canonical JSON: a string holds a lone surrogate") from exc
