"""Our canonical JSON must equal securesystemslib's byte for byte: signatures depend on it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical as reference_encode_canonical

from intoto_pip.crypto.canonical import encode_canonical
from intoto_pip.errors import MetadataError

TABLE: list[Any] = [
    {},
    [],
    "",
    0,
    -1,
    2**63,
    -(2**70),
    True,
    False,
    None,
    "plain",
    'quote " and backslash \\',
    "control \n\t\r\b\f \x00 \x1f \x7f",
    "unicode é ü 中文 😀 \u2028 \u00ff",
    {"b": 1, "a": 2, "A": 3, "é": 4, "😀": 5, "\uffff": 6, "": 7},
    {"nested": {"list": [1, "two", None, True, {"z": [], "y": {}}]}},
    [[[]], [{}], [{"k": [False]}]],
    {"_type": "link", "name": "step", "materials": {"a/b.txt": {"sha256": "ab" * 32}}},
    ("tuple", "is", "an", "array"),
]


@pytest.mark.parametrize("value", TABLE, ids=[repr(v)[:40] for v in TABLE])
def test_table_matches_securesystemslib(value: Any) -> None:
    assert encode_canonical(value) == reference(value)


def reference(value: Any) -> bytes:
    text = reference_encode_canonical(value)
    assert isinstance(text, str)
    return text.encode("utf-8")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_any_json_value_matches_securesystemslib(value: Any) -> None:
    try:
        ours = encode_canonical(value)
    except MetadataError:
        # Only a lone surrogate is refused; the reference would write invalid UTF-8.
        assert _has_surrogate(value)
        return
    assert ours == reference(value)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    return False


@pytest.mark.parametrize("value", [1.5, {"a": 0.0}, [float("nan")], b"bytes", {1: "x"}])
def test_refuses_what_has_no_canonical_form(value: Any) -> None:
    with pytest.raises(MetadataError, match="canonical JSON"):
        encode_canonical(value)
