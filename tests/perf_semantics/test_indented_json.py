"""The fast indented dump must write json.dumps(indent=1, ...)'s bytes for every value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intoto_pip.models import _indented_json
from intoto_pip.models._indented_json import dumps_indented


def reference(value: Any) -> str:
    return json.dumps(value, indent=1, separators=(",", ": "), sort_keys=True)


def outcome(dump: Any, value: Any) -> tuple[str, str]:
    try:
        return ("ok", dump(value))
    except (TypeError, ValueError, RecursionError) as exc:
        return ("error", type(exc).__name__)


class _Dict(dict[Any, Any]):
    pass


class _List(list[Any]):
    pass


class _Int(int):
    def __str__(self) -> str:
        return "not used by json"


class _Str(str):
    pass


_chars = st.characters(codec=None, categories=None)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(_chars, max_size=8)
    | st.text(st.sampled_from('{}[]",:\\\x01\x02\n é'), max_size=6)
    | st.builds(_Int, st.integers(-3, 3))
    | st.builds(_Str, st.text(max_size=3))
)
_keys = st.text(_chars, max_size=6) | st.text(st.sampled_from("{}:\x02"), max_size=3)
_odd_keys = _keys | st.integers(-2, 2) | st.floats(allow_nan=False) | st.booleans() | st.none()


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.lists(children, max_size=3).map(_List)
        | st.dictionaries(_keys, children, max_size=4)
        | st.dictionaries(_odd_keys, children, max_size=3)
        | st.dictionaries(_keys, children, max_size=3).map(_Dict)
    )


_values = st.recursive(_scalars, _containers, max_leaves=30)
# Link-like maps: {name: {algorithm: digest}}, sometimes with odd members mixed in.
_hashes = st.dictionaries(_keys, st.text(max_size=4) | st.integers(), min_size=1, max_size=3)
_maps = st.dictionaries(
    _keys, _hashes | st.dictionaries(_keys, _values, max_size=2) | _values, min_size=1, max_size=6
)


@settings(max_examples=800, deadline=None)
@given(_values)
def test_any_value_dumps_as_json_dumps_does(value: Any) -> None:
    assert outcome(dumps_indented, value) == outcome(reference, value)


@settings(max_examples=500, deadline=None)
@given(_maps, st.integers(0, 3))
def test_maps_of_objects_at_any_depth(value: Any, depth: int) -> None:
    for _ in range(depth):
        value = {"level": value, "other": [value]}
    assert outcome(dumps_indented, value) == outcome(reference, value)


LINK: dict[str, Any] = {
    "signatures": [{"keyid": "ab" * 32, "sig": "cd" * 64}],
    "signed": {
        "_type": "link",
        "name": "build",
        "command": ["python", "-m", "build"],
        "materials": {},
        "products": {f"dist/é{i}.whl": {"sha256": f"{i:064x}"} for i in range(30)}
        | {'quote " {"sha256": x}': {"sha256": "00", "sha512": "11"}},
        "byproducts": {"return-value": 0, "stdout": "out\n", "stderr": ""},
        "environment": {},
    },
}


def test_a_link_is_written_without_falling_back() -> None:
    assert _indented_json._indented(LINK, 0) == reference(LINK)


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1.5},
        {1: "int key", 2: "another"},
        {"a": {"b": {"c": []}}, "d": {"e": 1}},
        {"a": {}, "b": {"c": 1}},
        [[], {}, [[]]],
        {"a": {"k": [1]}, "b": {"k": 2}},
        {"a": {"b": "c"}, "d": "e"},
        {"a": "scalar", "b": {"c": {"d": 1}}},
        {"a": [], "b": {"c": {"d": 1}}},
    ],
    ids=repr,
)
def test_tricky_shapes(value: Any) -> None:
    assert dumps_indented(value) == reference(value)


def test_a_cycle_is_refused_as_json_dumps_refuses_it() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = {"again": cycle}
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(cycle)
