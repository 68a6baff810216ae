"""The layout: the project owner's signed plan of steps, functionaries and inspections."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from intoto_pip.crypto.keys import VerificationKey, count_distinct, key_from_keydict
from intoto_pip.errors import MetadataError
from intoto_pip.models.fields import (
    check_members,
    check_name,
    check_type,
    expect_object,
    get_str,
    get_str_list,
)
from intoto_pip.models.rules import Rule, parse_rules, rule_to_list

_EXPIRES = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z\Z", re.ASCII)
_STEP_REQUIRED = {"_type", "name", "pubkeys", "threshold"}
_STEP_OPTIONAL = {"expected_materials", "expected_products", "expected_command"}
_INSPECTION_REQUIRED = {"_type", "name", "run"}
_INSPECTION_OPTIONAL = {"expected_materials", "expected_products"}
_LAYOUT_REQUIRED = {"_type", "steps", "keys", "expires"}
_LAYOUT_OPTIONAL = {"inspect", "readme"}


def parse_expires(value: object, where: str) -> datetime:
    if not isinstance(value, str) or not (match := _EXPIRES.match(value)):
        raise MetadataError(f"{where}: expected 'YYYY-MM-DDTHH:MM:SSZ', got {value!r}")
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise MetadataError(f"{where}: {value!r} is not a real date and time ({exc})") from exc


def format_expires(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item_rules(obj: Mapping[str, Any], where: str) -> dict[str, tuple[Rule, ...]]:
    """The two rule lists every step and inspection has, parsed with their locations."""
    return {
        field: parse_rules(obj.get(field, []), where=f"{where}.{field}")
        for field in ("expected_materials", "expected_products")
    }


def _item_rules_dict(item: Step | Inspection) -> dict[str, list[list[str]]]:
    return {
        "expected_materials": [rule_to_list(rule) for rule in item.expected_materials],
        "expected_products": [rule_to_list(rule) for rule in item.expected_products],
    }


@dataclass(frozen=True, kw_only=True)
class Step:
    name: str
    pubkeys: tuple[str, ...]
    threshold: int = 1
    expected_materials: tuple[Rule, ...] = ()
    expected_products: tuple[Rule, ...] = ()
    expected_command: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, value: object, *, where: str) -> Step:
        obj = expect_object(value, where)
        check_members(obj, where, required=_STEP_REQUIRED, optional=_STEP_OPTIONAL)
        check_type(obj, "step", where)
        name = get_str(obj, "name", where)
        check_name(name, f"{where}.name")
        threshold = obj["threshold"]
        if type(threshold) is not int or threshold < 1:
            raise MetadataError(f"{where}.threshold: expected an integer >= 1, got {threshold!r}")
        return cls(
            name=name,
            pubkeys=get_str_list(obj, "pubkeys", where),
            threshold=threshold,
            expected_command=get_str_list(obj, "expected_command", where),
            **_item_rules(obj, where),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": "step",
            "name": self.name,
            "pubkeys": list(self.pubkeys),
            "threshold": self.threshold,
            **_item_rules_dict(self),
            "expected_command": list(self.expected_command),
        }


@dataclass(frozen=True, kw_only=True)
class Inspection:
    name: str
    run: tuple[str, ...]
    expected_materials: tuple[Rule, ...] = ()
    expected_products: tuple[Rule, ...] = ()

    @classmethod
    def from_dict(cls, value: object, *, where: str) -> Inspection:
        obj = expect_object(value, where)
        check_members(obj, where, required=_INSPECTION_REQUIRED, optional=_INSPECTION_OPTIONAL)
        check_type(obj, "inspection", where)
        name = get_str(obj, "name", where)
        check_name(name, f"{where}.name")
        run = get_str_list(obj, "run", where)
        if not run:
            raise MetadataError(f"{where}.run: an inspection needs a command to run")
        return cls(
            name=name,
            run=run,
            **_item_rules(obj, where),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": "inspection",
            "name": self.name,
            "run": list(self.run),
            **_item_rules_dict(self),
        }


def _parse_keys(value: object, where: str) -> dict[str, VerificationKey]:
    obj = expect_object(value, where)
    keys: dict[str, VerificationKey] = {}
    for keyid, keydict in obj.items():
        key = key_from_keydict(keydict, where=f"{where}[{keyid[:16]!r}]")
        # keyids are recomputed: a layout cannot name a key by someone else's id.
        if keyid not in (key.keyid, key.legacy_keyid):
            raise MetadataError(f"{where}[{keyid[:16]!r}]: keyid does not match the key it names")
        keys[keyid] = key
    return keys


@dataclass(frozen=True, kw_only=True)
class Layout:
    steps: tuple[Step, ...]
    inspect: tuple[Inspection, ...] = ()
    keys: Mapping[str, VerificationKey] = field(default_factory=dict)
    expires: datetime
    readme: str = ""

    @classmethod
    def from_dict(cls, value: object, *, where: str = "layout") -> Layout:
        obj = expect_object(value, where)
        check_members(obj, where, required=_LAYOUT_REQUIRED, optional=_LAYOUT_OPTIONAL)
        check_type(obj, "layout", where)
        if not isinstance(obj["steps"], list):
            raise MetadataError(f"{where}.steps: expected a list")
        inspect_value = obj.get("inspect", [])
        if not isinstance(inspect_value, list):
            raise MetadataError(f"{where}.inspect: expected a list")
        keys = _parse_keys(obj["keys"], f"{where}.keys")
        steps = tuple(
            Step.from_dict(item, where=f"{where}.steps[{i}]") for i, item in enumerate(obj["steps"])
        )
        inspect = tuple(
            Inspection.from_dict(item, where=f"{where}.inspect[{i}]")
            for i, item in enumerate(inspect_value)
        )
        layout = cls(
            steps=steps,
            inspect=inspect,
            keys=keys,
            expires=parse_expires(obj["expires"], f"{where}.expires"),
            readme=get_str(obj, "readme", where) if "readme" in obj else "",
        )
        layout._check_names(where)
        layout._check_step_keys(where)
        return layout

    def _check_names(self, where: str) -> None:
        seen: set[str] = set()
        named: list[tuple[str, int, str]] = [
            *(("steps", index, step.name) for index, step in enumerate(self.steps)),
            *(("inspect", index, item.name) for index, item in enumerate(self.inspect)),
        ]
        for kind, index, name in named:
            if name in seen:
                raise MetadataError(f"{where}.{kind}[{index}].name: {name!r} is repeated")
            seen.add(name)

    def _check_step_keys(self, where: str) -> None:
        for index, step in enumerate(self.steps):
            at = f"{where}.steps[{index}]"
            # Thresholds count key material, so two keyids of one key are one functionary;
            # a keyid missing from keys can never sign (see unknown_pubkeys).
            known = (self.keys[k] for k in dict.fromkeys(step.pubkeys) if k in self.keys)
            distinct = count_distinct(known)
            if step.threshold > distinct:
                raise MetadataError(
                    f"{at}.threshold: {step.threshold} is more than the {distinct} "
                    f"distinct key(s) authorised for step {step.name!r}"
                )

    def unknown_pubkeys(self) -> tuple[tuple[str, str], ...]:
        """(step name, keyid) for each keyid a step authorises that ``keys`` does not hold.

        The reference and in-toto-golang ignore such a keyid, as we do: no link can be
        verified with a key that is not there. The verifier reports each as a warning.
        """
        return tuple(
            (step.name, keyid)
            for step in self.steps
            for keyid in dict.fromkeys(step.pubkeys)
            if keyid not in self.keys
        )

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": "layout",
            "expires": format_expires(self.expires),
            "keys": {keyid: key.to_keydict() for keyid, key in self.keys.items()},
            "readme": self.readme,
            "steps": [step.to_dict() for step in self.steps],
            "inspect": [inspection.to_dict() for inspection in self.inspect],
        }
