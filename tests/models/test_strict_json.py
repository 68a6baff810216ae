"""Strict JSON: what the reference's json.loads accepts and we refuse, each with its reason."""

from __future__ import annotations

import json

import pytest

from intoto_pip.errors import MetadataError
from intoto_pip.models.strict_json import MAX_DEPTH, loads_strict

REFUSED = [
    pytest.param(b'{"a": 1, "a": 2}', "duplicate key 'a'", id="duplicate-key"),
    pytest.param(b'{"a": NaN}', "NaN is not allowed", id="nan"),
    pytest.param(b'{"a": Infinity}', "Infinity is not allowed", id="infinity"),
    pytest.param(b'{"a": -Infinity}', "-Infinity is not allowed", id="minus-infinity"),
    pytest.param(b'{"a": 1.5}', "floating-point number 1.5", id="float"),
    pytest.param(b'{"a": 1e3}', "floating-point number 1e3", id="exponent"),
    pytest.param(b'{"a": "\\ud800"}', "lone surrogate", id="lone-surrogate"),
    pytest.param(b'{"\\udc00": 1}', "lone surrogate", id="lone-surrogate-key"),
    pytest.param(b'{"a": "\xff"}', "not UTF-8", id="bad-utf8"),
    pytest.param(b'\xef\xbb\xbf{"a": 1}', "byte-order mark", id="bom"),
    pytest.param(b'{"a": 1', "Expecting", id="truncated"),
    pytest.param(b'{"a": 1' + b"0" * 70 + b"}", "too large", id="huge-int"),
    pytest.param(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nesting deeper", id="deep"),
    pytest.param(b"[" * 100_000, "nesting deeper", id="very-deep-unclosed"),
]


@pytest.mark.parametrize(("data", "reason"), REFUSED)
def test_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(MetadataError, match=r"^thing\.link: .*") as info:
        loads_strict(data, what="thing.link")
    assert reason in str(info.value)
    # The reference parser accepts some of these; the point is that we do not.


def test_reference_parser_accepts_what_we_refuse() -> None:
    # Documents the laxness we are stricter than: json.loads takes duplicates and NaN.
    assert json.loads('{"a": 1, "a": 2}') == {"a": 2}


def test_accepts_plain_metadata() -> None:
    value = loads_strict('{"a": [1, -2, true, null, "é\\u00e9"], "b": {}}'.encode())
    assert value == {"a": [1, -2, True, None, "éé"], "b": {}}


def test_depth_cap_admits_brackets_inside_strings() -> None:
    text = '{"a": "' + "[" * 500 + '"}'
    assert loads_strict(text.encode()) == {"a": "[" * 500}


def test_admits_a_link_of_100000_artifacts() -> None:
    digest = "ab" * 32
    products = {f"pkg/module_{i:06d}.py": {"sha256": digest} for i in range(100_000)}
    data = json.dumps({"signed": {"products": products}}).encode()
    assert len(data) > 9_000_000
    assert len(loads_strict(data)["signed"]["products"]) == 100_000
