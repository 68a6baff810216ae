"""Hypothesis strategies that spoil valid inputs: bytes mutated, JSON trees with a node replaced."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

# Values a hostile JSON document may hold where a field is expected (no floats: the strict
# reader refuses them before any schema code could see one).
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**70), max_value=10**70),
    st.sampled_from(["", "*", "..", "a/../b", "/etc/passwd", "\x00", "build", "link", "layout"]),
    st.text(max_size=20),
)
JSON = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def mutated_bytes(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few byte-level edits: flips, inserts, deletes, truncation, repeats."""
    data = bytearray(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "repeat"]))
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set":
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=8))]
        elif kind == "truncate":
            del data[at:]
        else:
            end = min(len(data), at + draw(st.integers(min_value=1, max_value=64)))
            data[at:at] = data[at:end]
    return bytes(data)


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


@st.composite
def mutated_tree(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with one node replaced, removed, or given a sibling."""
    tree = copy.deepcopy(base)
    parent: Any = tree
    key = draw(st.sampled_from(_children(tree)))
    while _children(parent[key]):
        descend: bool = draw(st.booleans())
        if not descend:
            break
        parent, key = parent[key], draw(st.sampled_from(_children(parent[key])))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[key] = draw(JSON)
    elif action == "remove":
        del parent[key]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=8))] = draw(JSON)
    else:
        parent.insert(key, draw(JSON))
    return tree
