"""Statements v1 with the link predicate v0.3: converted to links as the predicate's
specification says; what it forbids (or leaves to us) is refused with its location."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from intoto_pip.errors import MetadataError
from intoto_pip.models.link import Link
from intoto_pip.models.statement import (
    LINK_PREDICATE_TYPE,
    STATEMENT_TYPE,
    link_from_statement,
    statement_from_link,
)

A = {"sha256": "aa" * 32}
B = {"sha256": "bb" * 32, "sha512": "cc" * 64}


def statement(**predicate: Any) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "dist/pkg.whl", "digest": B}],
        "predicateType": LINK_PREDICATE_TYPE,
        "predicate": {
            "name": "build",
            "command": ["python", "-m", "build"],
            "materials": [{"name": "src/a.py", "digest": A}],
            "byproducts": {"return-value": 0, "stdout": "", "stderr": ""},
            "environment": {"PATH": "/usr/bin"},
            **predicate,
        },
    }


def test_converts_as_the_predicate_specification_says() -> None:
    link = link_from_statement(statement(), where="s")
    assert link == Link(
        name="build",
        command=("python", "-m", "build"),
        materials={"src/a.py": A},
        products={"dist/pkg.whl": B},
        byproducts={"return-value": 0, "stdout": "", "stderr": ""},
        environment={"PATH": "/usr/bin"},
    )


def test_optional_predicate_fields_default_to_empty() -> None:
    value = statement()
    value["predicate"] = {"name": "build"}
    link = link_from_statement(value, where="s")
    assert (link.command, link.materials, link.byproducts, link.environment) == ((), {}, {}, {})


def test_fields_the_framework_does_not_define_as_artifacts_are_ignored() -> None:
    # Its parsing rules: consumers MUST ignore unrecognised fields.
    value = statement()
    value["subject"][0].update(uri="https://example.org/pkg.whl", annotations={"x": 1})
    value["predicate"]["materials"][0]["mediaType"] = "text/x-python"
    value["https://example.org/extension"] = {"any": "thing"}
    assert link_from_statement(value, where="s") == link_from_statement(statement(), where="s")


@pytest.mark.parametrize(
    "link",
    [
        Link(name="build", products={"a": A}),
        Link(
            name="build",
            command=("make", "all"),
            materials={"src/x": A, "src/y": B},
            products={"out/z": B, "a": A},
            byproducts={"return-value": 2, "stderr": "boom\n"},
            environment={"k": ["v"]},
        ),
    ],
)
def test_a_link_round_trips_through_a_statement(link: Link) -> None:
    assert link_from_statement(statement_from_link(link), where="s") == link


def test_a_statement_needs_products() -> None:
    with pytest.raises(ValueError, match="at least one product"):
        statement_from_link(Link(name="build", materials={"a": A}))
    with pytest.raises(ValueError, match="'a' has no sha256"):
        statement_from_link(Link(name="build", products={"a": {"sha512": "cc" * 64}}))


def _changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(statement())
    target: Any = result
    for part in path[:-1]:
        target = target[part]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


_DROP = object()
TWICE = [{"name": "x", "digest": A}, {"name": "x", "digest": B}]

REFUSED: list[tuple[tuple[Any, ...], Any, str]] = [
    (("predicateType",), "https://slsa.dev/provenance/v1", "s.predicateType: 'https://slsa"),
    (("predicateType",), "https://in-toto.io/Link/v1", "is not a link attestation"),
    (("predicateType",), _DROP, "s.predicateType: None is not a link attestation"),
    (("predicate",), _DROP, "s.predicate: expected an object"),
    (("predicate", "name"), _DROP, "s.predicate: missing value for 'name'"),
    (("predicate", "name"), "a/b", "name 'a/b' must be non-empty"),
    (("subject",), TWICE, "s.subject[1].name: 'x' is repeated"),
    (("predicate", "materials"), TWICE, "s.predicate.materials[1].name: 'x' is repeated"),
    (("subject", 0, "digest"), {"sha512": "cc" * 64}, "s.subject[0].digest: 'dist/pkg.whl' has no"),
    (("subject", 0, "digest"), _DROP, "s.subject[0].digest: missing for 'dist/pkg.whl'"),
    (("subject", 0, "digest"), {"sha256": "AA" * 32}, "s.subject[0].digest: sha256: expected"),
    (("subject", 0, "name"), _DROP, "s.subject[0].name: a link attestation names every"),
    (("subject", 0, "name"), "", "s.subject[0].name: a link attestation names every"),
    (("subject",), [], "s.subject: a Statement needs at least one subject"),
    (("subject",), {"name": "x"}, "s.subject: expected a list of resource descriptors"),
    (("subject", 0), "x", "s.subject[0]: expected an object"),
    (("predicate", "materials", 0, "digest"), _DROP, "s.predicate.materials[0].digest: missing"),
    (("predicate", "materials", 0, "digest"), {"sha256": "x"}, "materials[0].digest: sha256:"),
    (("predicate", "command"), "make", "s (as a link).command: expected a list of strings"),
    (("predicate", "byproducts"), [], "s (as a link).byproducts: expected an object"),
    (("_type",), "https://in-toto.io/Statement/v0.1", "s._type: expected"),
    (
        ("subject",),
        [{"name": "a/b", "digest": A}, {"name": "a//b", "digest": A}],
        "s (as a link).products: artifact names 'a//b' and another both normalise to 'a/b'",
    ),
]


@pytest.mark.parametrize(("path", "value", "reason"), REFUSED)
def test_refuses_with_location(path: tuple[Any, ...], value: Any, reason: str) -> None:
    with pytest.raises(MetadataError) as caught:
        link_from_statement(_changed(path, value), where="s")
    assert reason in str(caught.value)
