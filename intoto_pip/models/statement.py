"""in-toto Statements v1 carrying the link predicate (v0.3), read and written as links.

The attestation framework's link predicate is a link in another shape: ``subject`` holds the
products, ``predicate.materials`` the materials (both as ResourceDescriptors with ``name``
and ``digest``), and ``predicate.name``, ``command``, ``byproducts`` and ``environment`` are
the link's. We convert exactly as the predicate's specification says, so every rule sees the
same artifacts it would see in the classic link. What the framework leaves open we close:

- names must be unique among subjects and among materials (the predicate says MUST);
- every subject has a ``sha256`` digest (what our rules and the reference record);
- digests follow the link rules (lowercase hex of the algorithm's length);
- a Statement comes only in a DSSE envelope (payloadType ``application/vnd.in-toto+json``);
- fields the framework does not define are ignored, as its parsing rules require
  (``uri``, ``annotations`` ... are not artifacts), except where a type is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from intoto_pip.errors import MetadataError
from intoto_pip.models.fields import expect_object
from intoto_pip.models.link import Link, parse_digest

STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
LINK_PREDICATE_TYPE: Final = "https://in-toto.io/attestation/link/v0.3"


def is_statement(payload: Mapping[str, Any]) -> bool:
    return payload.get("_type") == STATEMENT_TYPE


def _descriptors(value: object, where: str, *, need_sha256: bool) -> dict[str, dict[str, str]]:
    """``[{name, digest}, ...]`` -> ``{name: digest}``; names unique, each named and hashed."""
    if not isinstance(value, list):
        raise MetadataError(f"{where}: expected a list of resource descriptors")
    result: dict[str, dict[str, str]] = {}
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        entry = expect_object(item, at)
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise MetadataError(f"{at}.name: a link attestation names every artifact")
        if "digest" not in entry:
            raise MetadataError(f"{at}.digest: missing for {name!r}")
        digest = parse_digest(entry["digest"], f"{at}.digest")
        if need_sha256 and "sha256" not in digest:
            raise MetadataError(f"{at}.digest: {name!r} has no sha256")
        if name in result:
            raise MetadataError(f"{at}.name: {name!r} is repeated")
        result[name] = digest
    return result


def _predicate(statement: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = statement.get("predicateType")
    if kind != LINK_PREDICATE_TYPE:
        raise MetadataError(
            f"{where}.predicateType: {kind!r} is not a link attestation "
            f"(expected {LINK_PREDICATE_TYPE!r})"
        )
    return expect_object(statement.get("predicate"), f"{where}.predicate")


def link_from_statement(statement: Mapping[str, Any], *, where: str) -> Link:
    """The link a Statement v1 with the link predicate stands for (MetadataError if none)."""
    if not is_statement(statement):
        raise MetadataError(f"{where}._type: expected {STATEMENT_TYPE!r}")
    predicate = _predicate(statement, where)
    products = _descriptors(statement.get("subject"), f"{where}.subject", need_sha256=True)
    if not products:
        raise MetadataError(f"{where}.subject: a Statement needs at least one subject")
    link = {
        "_type": "link",
        "name": predicate.get("name"),
        "command": predicate.get("command", []),
        "materials": _descriptors(
            predicate.get("materials", []), f"{where}.predicate.materials", need_sha256=False
        ),
        "products": products,
        "byproducts": predicate.get("byproducts", {}),
        "environment": predicate.get("environment", {}),
    }
    if link["name"] is None:
        raise MetadataError(f"{where}.predicate: missing value for 'name'")
    # The remaining checks (names, normalisation, types) are the link's own.
    return Link.from_dict(link, where=f"{where} (as a link)")


def statement_from_link(link: Link) -> dict[str, Any]:
    """The Statement v1 payload for ``link``; ValueError when it cannot be one (a Statement
    needs a subject, so a link without products cannot)."""
    if not link.products:
        raise ValueError("a link attestation needs at least one product (its subject)")
    missing = [name for name, digest in link.products.items() if "sha256" not in digest]
    if missing:
        raise ValueError(f"product {missing[0]!r} has no sha256 digest")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": dict(digest)} for name, digest in sorted(link.products.items())
        ],
        "predicateType": LINK_PREDICATE_TYPE,
        "predicate": {
            "name": link.name,
            "command": list(link.command),
            "materials": [
                {"name": name, "digest": dict(digest)}
                for name, digest in sorted(link.materials.items())
            ],
            "byproducts": dict(link.byproducts),
            "environment": dict(link.environment),
        },
    }
