"""Layouts: strict parsing; every refusal names its location (DESIGN §3-4)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from fixtures.generate import FROZEN_NOW, KEYS, layout_payload, signers
from intoto_pip.crypto.keys import load_public_key
from intoto_pip.errors import MetadataError
from intoto_pip.models.layout import Layout, format_expires, parse_expires
from intoto_pip.models.rules import DisallowRule, MatchRule


@pytest.fixture(scope="module")
def payload() -> dict[str, Any]:
    return layout_payload(signers(), FROZEN_NOW)


def test_parses_the_fixture_layout(payload: dict[str, Any]) -> None:
    layout = Layout.from_dict(payload)
    assert [step.name for step in layout.steps] == ["write-code", "build"]
    build = layout.steps[1]
    assert isinstance(build.expected_materials[0], MatchRule)
    assert build.expected_materials[1] == DisallowRule("*")
    assert layout.expires == datetime(2035, 12, 30, tzinfo=UTC)
    assert set(layout.keys) == {
        load_public_key(KEYS / "alice.pub").keyid,
        load_public_key(KEYS / "bob.pub").keyid,
    }


def test_round_trips(payload: dict[str, Any]) -> None:
    assert Layout.from_dict(payload).to_dict() == payload


def _changed(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    target: Any = result
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


_DELETE = object()

REFUSED: list[tuple[tuple[Any, ...], Any, str]] = [
    (("_type",), "link", "layout._type: expected 'layout'"),
    (("expires",), "2030-01-01", "layout.expires: expected 'YYYY-MM-DDTHH:MM:SSZ'"),
    (("expires",), "2030-01-01T00:00:00+00:00", "layout.expires: expected"),
    (("expires",), "2030-01-01T00:00:00.5Z", "layout.expires: expected"),
    (("expires",), "２０３０-01-01T00:00:00Z", "layout.expires: expected"),
    (("expires",), "2030-02-30T00:00:00Z", "layout.expires: '2030-02-30T00:00:00Z' is not a real"),
    (("expires",), 1, "layout.expires: expected"),
    (("steps", 0, "threshold"), 0, "layout.steps[0].threshold: expected an integer >= 1"),
    (("steps", 0, "threshold"), -1, "layout.steps[0].threshold: expected an integer >= 1"),
    (("steps", 0, "threshold"), True, "layout.steps[0].threshold: expected an integer >= 1"),
    (("steps", 0, "threshold"), "1", "layout.steps[0].threshold: expected an integer >= 1"),
    (("steps", 0, "threshold"), 2, "layout.steps[0].threshold: 2 is more than the 1 distinct"),
    (("steps", 1, "name"), "write-code", "layout.steps[1].name: 'write-code' is repeated"),
    (("steps", 1, "name"), "a/b", "layout.steps[1].name: name 'a/b'"),
    (("steps", 1, "name"), "..", "layout.steps[1].name: name '..'"),
    (("steps", 1, "name"), "a\\b", "layout.steps[1].name: name"),
    (("steps", 1, "name"), "a\x00b", "layout.steps[1].name: name"),
    (("steps", 1, "_type"), "inspection", "layout.steps[1]._type: expected 'step'"),
    (
        ("steps", 1, "expected_materials", 1),
        ["DENY", "*"],
        "layout.steps[1].expected_materials[1]:",
    ),
    (("steps", 1, "pubkeys"), ["00" * 32], "layout.steps[1].threshold: 1 is more than the 0"),
    (("steps", 1, "pubkeys"), "abc", "layout.steps[1].pubkeys: expected a list of strings"),
    (("steps", 1, "surprise"), 1, "layout.steps[1].surprise: unknown field"),
    (("steps", 1, "pubkeys", _DELETE), None, "layout.steps[1]: missing value for 'pubkeys'"),
    (("steps",), {}, "layout.steps: expected a list"),
    (("inspect",), [{"_type": "inspection", "name": "x", "run": []}], "layout.inspect[0].run:"),
    (("keys",), [], "layout.keys: expected an object"),
    (("readme",), 5, "layout.readme: expected a string"),
]


@pytest.mark.parametrize(("path", "value", "reason"), REFUSED)
def test_refuses(payload: dict[str, Any], path: tuple[Any, ...], value: Any, reason: str) -> None:
    if path[-1] is _DELETE:
        changed = _changed(payload, path[:-1], _DELETE)
    else:
        changed = _changed(payload, path, value)
    with pytest.raises(MetadataError) as info:
        Layout.from_dict(changed)
    assert reason in str(info.value)


def test_keyid_is_recomputed(payload: dict[str, Any]) -> None:
    changed = copy.deepcopy(payload)
    keyid, keydict = next(iter(changed["keys"].items()))
    del changed["keys"][keyid]
    changed["keys"]["ff" * 32] = keydict
    with pytest.raises(MetadataError, match="keyid does not match the key it names"):
        Layout.from_dict(changed)


def test_threshold_counts_key_material_not_keyids(payload: dict[str, Any]) -> None:
    # The same key listed under its current and its legacy keyid is one functionary.
    changed = copy.deepcopy(payload)
    bob = load_public_key(KEYS / "bob.pub")
    changed["keys"][bob.legacy_keyid] = bob.to_keydict()
    changed["steps"][1]["pubkeys"] = [bob.keyid, bob.legacy_keyid]
    changed["steps"][1]["threshold"] = 2
    with pytest.raises(MetadataError, match=r"2 is more than the 1 distinct key"):
        Layout.from_dict(changed)


def test_expires_format_round_trips() -> None:
    moment = parse_expires("2031-07-04T12:30:59Z", "x")
    assert format_expires(moment) == "2031-07-04T12:30:59Z"


def test_a_pubkey_missing_from_keys_is_accepted_and_named(payload: dict[str, Any]) -> None:
    # As the reference and in-toto-golang: such a keyid can never sign, so it is ignored.
    changed = copy.deepcopy(payload)
    changed["steps"][1]["pubkeys"].append("00" * 32)
    layout = Layout.from_dict(changed)
    assert layout.unknown_pubkeys() == (("build", "00" * 32),)
    assert Layout.from_dict(payload).unknown_pubkeys() == ()
