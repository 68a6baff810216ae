"""The link: what a functionary attests a step consumed and produced."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

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
# Hex digits per algorithm the reference and in-toto-golang record. Any other algorithm must
# still be whole bytes of lowercase hex: a rule compares digests as strings, so one value must
# have one spelling, and a value no hash function could produce is a forgery or a bug.
DIGEST_HEX_LENGTHS: Final = {
    "md5": 32,
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
}
_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})+")


def normalize_artifact_name(name: str) -> str:
    """``a/../b`` -> ``b``, ``./b`` -> ``b``, ``a//b`` -> ``a/b``; ``../x`` stays as recorded.

    Producer and verifier share this, so a path recorded one way and matched another cannot
    slip past a rule.
    """
    if not name:
        return name
    plain = "/." not in name and "//" not in name and not name.startswith((".", "/"))
    if plain and not name.endswith("/"):
        return name  # already normal (most names): normpath would return it unchanged
    normalized = posixpath.normpath(name)
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    return normalized


def digest_problem(algorithm: str, value: str) -> str | None:
    """Why ``value`` is not a digest by ``algorithm`` (None: it is one)."""
    if not algorithm:
        return "empty algorithm name"
    if not _LOWER_HEX.fullmatch(value):
        return f"{algorithm}: expected lowercase hex, got {value!r:.80}"
    expected = DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is not None and len(value) != expected:
        return f"{algorithm}: expected {expected} hex digits, got {len(value)}"
    return None


def parse_digest(value: object, where: str) -> dict[str, str]:
    """A non-empty ``{algorithm: lowercase hex}`` map, each of its algorithm's length."""
    if type(value) is dict and len(value) == 1:  # the usual ``{"sha256": hex}``, in one look
        sha256 = value.get("sha256")
        if type(sha256) is str and len(sha256) == 64 and _LOWER_HEX.fullmatch(sha256):
            return {"sha256": sha256}
    digest = expect_object(value, where)
    if not digest:
        raise MetadataError(f"{where}: expected a non-empty {{algorithm: hex}} map")
    for algorithm, hexval in digest.items():
        if not isinstance(hexval, str):
            raise MetadataError(f"{where}: expected a non-empty {{algorithm: hex}} map")
        problem = digest_problem(algorithm, hexval)
        if problem is not None:
            raise MetadataError(f"{where}: {problem}")
    return dict(digest)


def parse_artifacts(value: object, where: str) -> dict[str, dict[str, str]]:
    obj = expect_object(value, where)
    result: dict[str, dict[str, str]] = {}
    for name, hashes in obj.items():
        if "\x00" in name or not name:
            raise MetadataError(f"{where}: artifact name {name!r} is empty or holds NUL")
        digest = parse_digest(hashes, f"{where}[{name!r}]")
        normalized = normalize_artifact_name(name)
        if normalized in result:
            raise MetadataError(
                f"{where}: artifact names {name!r} and another both normalise to {normalized!r}"
            )
        result[normalized] = digest
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
