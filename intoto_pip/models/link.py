"""The link: what a functionary attests a step consumed and produced."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from intoto_pip.errors import MetadataError
from intoto_pip.models.fields import (
    check_members,
    check_name,
    check_type,
    expect_object,
    get_str,
    get_str_list,
)

Artifacts = Mapping[str, Mapping[str, str]]
_LINK_FIELDS = {"_type", "name", "materials", "products"}
_LINK_OPTIONAL = {"byproducts", "command", "environment"}


def normalize_artifact_name(name: str) -> str:
    """``a/../b`` -> ``b``, ``./b`` -> ``b``, ``a//b`` -> ``a/b``; ``../x`` stays as recorded.

    Producer and verifier share this, so a path recorded one way and matched another cannot
    slip past a rule.
    """
    if not name:
        return name
    normalized = posixpath.normpath(name)
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    return normalized


def parse_artifacts(value: object, where: str) -> dict[str, dict[str, str]]:
    obj = expect_object(value, where)
    result: dict[str, dict[str, str]] = {}
    for name, hashes in obj.items():
        if "\x00" in name or not name:
            raise MetadataError(f"{where}: artifact name {name!r} is empty or holds NUL")
        digest = expect_object(hashes, f"{where}[{name!r}]")
        if not digest or not all(
            isinstance(algo, str) and isinstance(hexval, str) and hexval
            for algo, hexval in digest.items()
        ):
            raise MetadataError(f"{where}[{name!r}]: expected a non-empty {{algorithm: hex}} map")
        normalized = normalize_artifact_name(name)
        if normalized in result:
            raise MetadataError(
                f"{where}: artifact names {name!r} and another both normalise to {normalized!r}"
            )
        result[normalized] = dict(digest)
    return result


@dataclass(frozen=True, kw_only=True)
class Link:
    name: str
    command: tuple[str, ...] = ()
    materials: Artifacts = field(default_factory=dict)
    products: Artifacts = field(default_factory=dict)
    byproducts: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, value: object, *, where: str = "link") -> Link:
        obj = expect_object(value, where)
        check_members(obj, where, required=_LINK_FIELDS, optional=_LINK_OPTIONAL)
        check_type(obj, "link", where)
        name = get_str(obj, "name", where)
        check_name(name, f"{where}.name")
        return cls(
            name=name,
            command=get_str_list(obj, "command", where),
            materials=parse_artifacts(obj["materials"], f"{where}.materials"),
            products=parse_artifacts(obj["products"], f"{where}.products"),
            byproducts=expect_object(obj.get("byproducts", {}), f"{where}.byproducts"),
            environment=expect_object(obj.get("environment", {}), f"{where}.environment"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": "link",
            "name": self.name,
            "command": list(self.command),
            "materials": {k: dict(v) for k, v in self.materials.items()},
            "products": {k: dict(v) for k, v in self.products.items()},
            "byproducts": dict(self.byproducts),
            "environment": dict(self.environment),
        }
