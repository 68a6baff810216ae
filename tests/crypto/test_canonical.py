"""Our canonical JSON must equal securesystemslib's byte for byte: signatures depend on it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical as reference_encode_canonical

from intoto_pip.crypto import canonical
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


# --- the fast path (json's C encoder) must give the slow path's bytes or step aside -------


class _OddInt(int):
    def __str__(self) -> str:
        return "odd"


class _OddStr(str):
    pass


def _slow(value: Any) -> bytes:
    out: list[str] = []
    canonical._encode(value, out)
    return "".join(out).encode("utf-8")


def _outcome(encode: Any, value: Any) -> tuple[str, bytes | str]:
    try:
        return ("ok", encode(value))
    except (MetadataError, TypeError, ValueError, UnicodeEncodeError) as exc:
        return ("error", type(exc).__name__)


_any_char = st.characters(codec=None, categories=None)  # control characters, surrogates too
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=True)
    | st.text(_any_char, max_size=8)
    | st.text(st.sampled_from('\\"\x00\x1f\n é😀'), max_size=6)
    | st.builds(_OddInt, st.integers(-5, 5))
    | st.builds(_OddStr, st.text(max_size=3))
)
_keys = st.text(_any_char, max_size=6) | st.integers(-3, 3) | st.booleans() | st.none()
_wild = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(_wild)
def test_fast_path_gives_the_slow_paths_bytes_or_the_same_refusal(value: Any) -> None:
    ours = _outcome(encode_canonical, value)
    slow = _outcome(_slow, value)
    if slow[0] == "error" and slow[1] == "UnicodeEncodeError":
        slow = ("error", "MetadataError")  # the public function names the lone surrogate
    assert ours == slow


@settings(max_examples=300, deadline=None)
@given(_json)
def test_fast_path_matches_securesystemslib_including_control_characters(value: Any) -> None:
    if _has_surrogate(value):
        return
    assert encode_canonical(value) == reference(value)


LINK_LIKE: dict[str, Any] = {
    "_type": "link",
    "name": "build",
    "command": ["python", "-m", "build"],
    "materials": {f"src/é{i}.py": {"sha256": f"{i:064x}"} for i in range(50)},
    "products": {'odd "name" \\ here': {"sha256": "ab" * 32}},
    "byproducts": {"return-value": 0, "stdout": "", "stderr": ""},
    "environment": {},
}


def test_fast_path_is_taken_for_an_ordinary_link() -> None:
    text = canonical._fast_text(LINK_LIKE)
    assert text is not None
    assert text.encode("utf-8") == reference(LINK_LIKE)


@pytest.mark.parametrize(
    "value",
    [
        {"a": "line\nbreak"},
        ["\x00"],
        {"a": 1.0},
        [2**64, 0.5],
        {1: "int key"},
        {True: "bool key"},
        [_OddInt(3)],
        {_OddStr("k"): 1},
        ("a", "tuple"),
        {"big": float("inf")},
    ],
    ids=repr,
)
def test_fast_path_steps_aside_where_it_could_differ(value: Any) -> None:
    assert canonical._fast_text(value) is None


def test_a_cycle_is_refused_not_walked_forever() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(RecursionError):
        encode_canonical(cycle)


def test_only_exact_json_types_are_plain() -> None:
    assert canonical.is_plain_json({"a": [1, True, None, "x", {"b": []}]})
    assert not canonical.is_plain_json({"a": [1, 2.0]})
    assert not canonical.is_plain_json({"a": (1,)})
    assert not canonical.is_plain_json({2: "x"})
