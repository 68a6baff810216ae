"""Links: strict parsing and artifact-name normalisation (DESIGN §4)."""

from __future__ import annotations

from typing import Any

import pytest

from intoto_pip.errors import MetadataError
from intoto_pip.models.link import Link, normalize_artifact_name

DIGEST = {"sha256": "ab" * 32}


def link_dict(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "_type": "link",
        "name": "build",
        "command": ["make"],
        "materials": {"src/a.c": DIGEST},
        "products": {"a.out": DIGEST},
        "byproducts": {"return-value": 0, "stderr": "", "stdout": ""},
        "environment": {},
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("recorded", "normalized"),
    [
        ("a/../b", "b"),
        ("./b", "b"),
        ("a//b", "a/b"),
        ("a/./b/", "a/b"),
        ("../x", "../x"),
        ("a/../../x", "../x"),
        ("//abs", "/abs"),
        ("plain", "plain"),
    ],
)
def test_normalizes_artifact_names(recorded: str, normalized: str) -> None:
    assert normalize_artifact_name(recorded) == normalized
    link = Link.from_dict(link_dict(products={recorded: DIGEST}))
    assert list(link.products) == [normalized]


def test_round_trips() -> None:
    data = link_dict()
    assert Link.from_dict(data).to_dict() == data


def test_optional_fields_default() -> None:
    data = link_dict()
    for key in ("byproducts", "environment", "command"):
        del data[key]
    link = Link.from_dict(data)
    assert link.command == ()
    assert link.byproducts == {}


REFUSED: list[tuple[dict[str, Any], str]] = [
    (link_dict(_type="layout"), "link._type: expected 'link'"),
    (link_dict(name=7), "link.name: expected a string"),
    (link_dict(name="a/b"), "link.name: name 'a/b'"),
    (link_dict(name=""), "link.name: name ''"),
    (link_dict(name="a..b"), "must be non-empty"),
    (link_dict(command="make"), "link.command: expected a list of strings"),
    (link_dict(materials=[]), "link.materials: expected an object"),
    (link_dict(products={"a": "ab"}), "link.products['a']: expected an object"),
    (link_dict(products={"a": {}}), "expected a non-empty {algorithm: hex} map"),
    (link_dict(products={"a": {"sha256": 1}}), "expected a non-empty {algorithm: hex} map"),
    (link_dict(products={"a\x00b": DIGEST}), "holds NUL"),
    (link_dict(products={"a/b": DIGEST, "a//b": DIGEST}), "both normalise to 'a/b'"),
    (link_dict(products={"b": DIGEST, "./b": DIGEST}), "both normalise to 'b'"),
    (link_dict(extra=1), "link.extra: unknown field"),
]


@pytest.mark.parametrize(("data", "reason"), REFUSED)
def test_refuses(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(MetadataError) as info:
        Link.from_dict(data)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "digest",
    [
        {"sha256": "not-hex"},
        {"sha256": "ab"},  # hex, but not a sha256's length
        {"sha256": "AB" * 32},  # the reference writes lowercase; one value, one spelling
        {"sha256": "ab" * 32 + "\n"},
        {"sha512": "ab" * 32},
        {"sha1": "ab" * 32},
        {"md5": "ab" * 32},
        {"sha384": "ab" * 32},
        {"sha224": "ab" * 32},
        {"sha256": "ab" * 32, "sha512": "zz" * 64},
        {"blake2b": "abc"},  # unknown algorithm: still whole bytes of hex
        {"blake2b": "xy"},
        {"": "ab"},
    ],
)
def test_refuses_digests_that_are_not_hex_of_the_algorithms_length(
    digest: dict[str, str],
) -> None:
    with pytest.raises(MetadataError, match=r"^link\.products\['a'\]: "):
        Link.from_dict(link_dict(products={"a": digest}))


@pytest.mark.parametrize(
    "digest",
    [
        {"sha256": "0f" * 32},
        {"sha512": "0f" * 64, "sha256": "0f" * 32},
        {"sha384": "0f" * 48},
        {"sha224": "0f" * 28},
        {"sha1": "0f" * 20},
        {"md5": "0f" * 16},
        {"blake2b": "0f" * 64},
        {"gitCommit": "0f" * 20},
    ],
)
def test_accepts_lowercase_hex_digests(digest: dict[str, str]) -> None:
    assert Link.from_dict(link_dict(products={"a": digest})).products["a"] == digest


def test_missing_required_field() -> None:
    data = link_dict()
    del data["products"]
    with pytest.raises(MetadataError, match=r"^link: missing value for 'products'$"):
        Link.from_dict(data)
