"""Typed getters for untrusted JSON objects; every error names its location."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intoto_pip.errors import MetadataError


def expect_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def check_members(
    obj: Mapping[str, Any], where: str, *, required: set[str], optional: set[str]
) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise MetadataError(f"{where}: missing value for {missing[0]!r}")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        raise MetadataError(f"{where}.{unknown[0]}: unknown field")


def get_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise MetadataError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def get_str_list(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataError(f"{where}.{key}: expected a list of strings")
    return tuple(value)


def check_type(obj: Mapping[str, Any], expected: str, where: str) -> None:
    if obj.get("_type") != expected:
        raise MetadataError(f"{where}._type: expected {expected!r}, got {obj.get('_type')!r}")


def check_name(name: str, where: str) -> None:
    """Step, inspection and link names end up in file names: keep them plain."""
    if not name or any(bad in name for bad in ("/", "\\", "\x00")) or ".." in name:
        raise MetadataError(
            f"{where}: name {name!r} must be non-empty without '/', '\\', NUL, '..'"
        )
