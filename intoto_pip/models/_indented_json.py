"""``json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True)``, only faster.

That is how in-toto 3.x writes a Metablock, and CPython 3.11 produces it with its pure-Python
encoder (the C encoder ignores ``indent``): about 3 µs per artifact of a link. Here the C
encoder writes every container whose shape is simple, and plain string replacements indent
its output:

* a *flat* container, whose members are all scalars;
* a *map of flat objects*, whose values are all non-empty objects of scalars (a link's
  ``materials`` and ``products``: ``{name: {"sha256": hex}}``).

The C encoder is run with separators ``",\\x01"`` and ``":\\x02"``. Its ASCII output escapes
every control character inside strings, so a raw ``\\x01`` or ``\\x02`` marks a separator
and nothing else, and what follows a marker tells a nested container (``{`` or ``[``) from a
scalar. Both encoders write scalars, keys and key order alike (same string escaper,
``int.__repr__``, ``float.__repr__``, sorted items), so only the layout differs, and the
shape checks below make sure the layout of a container is what the replacements assume.
Other containers are walked here; anything unusual (a non-string key, a float, a cycle, an
unknown type) hands the whole document to ``json.dumps``.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any, Final

_ITEM: Final = ",\x01"
_KEY: Final = ":\x02"
_MARKED_ENCODE: Final = json.JSONEncoder(sort_keys=True, separators=(_ITEM, _KEY)).encode


class _Unusual(Exception):
    """A value this module leaves to json.dumps."""


def dumps_indented(value: Any) -> str:
    """Exactly ``json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True)``."""
    try:
        return _indented(value, 0)
    except (_Unusual, RecursionError, TypeError, ValueError):
        return json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True)


def _newline(level: int) -> str:
    return "\n" + " " * level


def _indented(value: Any, level: int) -> str:
    # The same order of type tests as json's pure-Python encoder.
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, list | tuple):
        return _indented_list(value, level) if value else "[]"
    if isinstance(value, dict):
        return _indented_dict(value, level) if value else "{}"
    raise _Unusual  # a float, or a type only json.dumps' default() could refuse


def _is_container(value: object) -> bool:
    # What both encoders treat as a container (the C one with the same isinstance checks).
    return isinstance(value, list | tuple | dict)


def _indented_list(value: list[Any] | tuple[Any, ...], level: int) -> str:
    inner = _newline(level + 1)
    if any(map(_is_container, value)):
        body = ("," + inner).join(_indented(item, level + 1) for item in value)
    else:
        body = _MARKED_ENCODE(value)[1:-1].replace(_ITEM, "," + inner)
    return "[" + inner + body + _newline(level) + "]"


def _indented_dict(value: dict[Any, Any], level: int) -> str:
    values = value.values()
    if not any(map(_is_container, values)):
        return _flat_dict(_MARKED_ENCODE(value), level)
    if all(isinstance(item, dict) for item in values):
        text = _MARKED_ENCODE(value)
        # Each value puts one ":\x02{" in the text; any more, or a ":\x02[", is a container
        # below the values, and ":\x02{}" an empty value: shapes the replacements do not fit.
        nested = text.count(_KEY + "{")
        if nested == len(value) and _KEY + "[" not in text and _KEY + "{}" not in text:
            return _map_of_flat_dicts(text, level)
    inner = _newline(level + 1)
    parts: list[str] = []
    for key, item in sorted(value.items()):
        if not isinstance(key, str):
            raise _Unusual
        parts.append(encode_basestring_ascii(key) + ": " + _indented(item, level + 1))
    return "{" + inner + ("," + inner).join(parts) + _newline(level) + "}"


def _flat_dict(text: str, level: int) -> str:
    inner = _newline(level + 1)
    body = text[1:-1].replace(_ITEM, "," + inner).replace(_KEY, ": ")
    return "{" + inner + body + _newline(level) + "}"


def _map_of_flat_dicts(text: str, level: int) -> str:
    outer, inner = _newline(level + 1), _newline(level + 2)
    body = (
        text[1:-2]  # the text ends with the last value's "}" and then the map's "}"
        .replace(_KEY + "{", ": {" + inner)
        .replace(_KEY, ": ")
        .replace("}" + _ITEM, outer + "}," + outer)
        .replace(_ITEM, "," + inner)
    )
    return "{" + outer + body + outer + "}" + _newline(level) + "}"
