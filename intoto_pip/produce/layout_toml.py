"""Write a layout as TOML instead of Python (the format is documented in docs/layout-toml.md).

Functionaries are named by their public key files, rules are written as one string each
(``"MATCH * WITH PRODUCTS FROM build"``), and ``expires`` is a date, a date-time or a
duration from now (``"30d"``). Every problem is reported as ``FILE:LINE: where: what``.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from intoto_pip.crypto.keys import VerificationKey, load_public_key
from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.fields import check_name
from intoto_pip.models.layout import Inspection, Layout, Step, parse_expires
from intoto_pip.models.rules import MatchRule, Rule, parse_rule
from intoto_pip.produce._toml_lines import TomlLines
from intoto_pip.produce.gpg_signer import GpgOptions, export_key

_TOP_KEYS = {"expires", "readme", "keys", "steps", "inspections"}
_STEP_KEYS = {
    "name",
    "functionaries",
    "threshold",
    "expected_command",
    "expected_materials",
    "expected_products",
}
_INSPECTION_KEYS = {"name", "run", "expected_materials", "expected_products"}
_DURATION = re.compile(r"\s*(?:\d+\s*[ywdh]\s*)+", re.ASCII)
_DURATION_PART = re.compile(r"(\d+)\s*([ywdh])", re.ASCII)
_UNIT_DAYS = {"y": 365.0, "w": 7.0, "d": 1.0, "h": 1.0 / 24}


@dataclass(frozen=True)
class _Where:
    """A place in the TOML document, for messages and line lookup."""

    table: str | None = None
    index: int | None = None
    key: str | None = None
    element: int | None = None

    def label(self) -> str:
        parts = [self.table or ""]
        if self.index is not None:
            parts.append(f"[{self.index}]")
        if self.key:
            parts.append(f".{self.key}" if self.table else self.key)
        if self.element is not None:
            parts.append(f"[{self.element}]")
        return "".join(parts) or "document"

    def at(self, key: str, element: int | None = None) -> _Where:
        return _Where(self.table, self.index, key, element)


@dataclass(frozen=True)
class _GpgEntry:
    """``NAME = { gpg = "FINGERPRINT", gpg-home = "DIR" }``: a key read from a keyring."""

    keyid: str
    home: Path | None


@dataclass
class _Context:
    source: str
    base_dir: Path
    lines: TomlLines
    now: datetime
    aliases: dict[str, str | _GpgEntry] = field(default_factory=dict)
    keys: dict[str, VerificationKey] = field(default_factory=dict)  # keyid -> key, first use

    def fail(self, where: _Where, message: str) -> NoReturn:
        line = self.lines.line(where.table, where.index, where.key, where.element)
        position = f"{self.source}:{line}" if line else self.source
        raise InputError(f"{position}: {where.label()}: {message}")


def load_layout_toml(path: Path, *, now: datetime | None = None) -> Layout:
    """Read a TOML layout file; raise InputError naming the file and line of any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc
    return layout_from_toml(text, source=str(path), base_dir=path.parent, now=now)


def layout_from_toml(
    text: str, *, source: str, base_dir: Path, now: datetime | None = None
) -> Layout:
    """Build a Layout from TOML text; key files are found relative to ``base_dir``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from exc
    ctx = _Context(source, base_dir, TomlLines(text), now or datetime.now(UTC))
    top = _Where()
    _check_keys(ctx, document, _TOP_KEYS, top)
    ctx.aliases = _aliases(ctx, document.get("keys", {}))
    steps = tuple(
        _step(ctx, item, _Where("steps", i))
        for i, item in enumerate(_tables(ctx, document, "steps", required=True))
    )
    inspections = tuple(
        _inspection(ctx, item, _Where("inspections", i))
        for i, item in enumerate(_tables(ctx, document, "inspections", required=False))
    )
    _check_names(ctx, steps, inspections)
    layout = Layout(
        steps=steps,
        inspect=inspections,
        keys=dict(ctx.keys),
        expires=_expires(ctx, document.get("expires"), top.at("expires")),
        readme=_string(ctx, document.get("readme", ""), top.at("readme")),
    )
    try:
        # The same checks a verifier makes, so what we write is what it accepts.
        return Layout.from_dict(layout.to_dict())
    except MetadataError as exc:
        raise InputError(f"{source}: {exc}") from exc


def _check_keys(ctx: _Context, table: Mapping[str, Any], allowed: set[str], where: _Where) -> None:
    for key in table:
        if key not in allowed:
            ctx.fail(where.at(key), f"unknown key (expected one of {', '.join(sorted(allowed))})")


def _tables(
    ctx: _Context, document: Mapping[str, Any], name: str, *, required: bool
) -> list[dict[str, Any]]:
    value = document.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        ctx.fail(_Where(key=name), f"expected [[{name}]] tables")
    if required and not value:
        ctx.fail(_Where(), f"a layout needs at least one [[{name}]] table")
    return value


def _aliases(ctx: _Context, value: object) -> dict[str, str | _GpgEntry]:
    if not isinstance(value, dict):
        ctx.fail(_Where(key="keys"), 'expected a table of NAME = "key file"')
    found: dict[str, str | _GpgEntry] = {}
    for name, entry in value.items():
        where = _Where("keys", None, name)
        if isinstance(entry, dict):
            found[name] = _gpg_entry(ctx, entry, where)
        elif isinstance(entry, str):
            found[name] = entry
        else:
            ctx.fail(where, 'expected the path of a public key file or { gpg = "FINGERPRINT" }')
        # Read each named key here, so a typo in its path is reported at its entry in [keys],
        # not at the first step that uses the name.
        _load_key(ctx, found[name], where)
    return found


def _gpg_entry(ctx: _Context, entry: dict[str, Any], where: _Where) -> _GpgEntry:
    _check_keys(ctx, entry, {"gpg", "gpg-home"}, where)
    keyid = entry.get("gpg")
    if not isinstance(keyid, str) or not re.fullmatch(r"(?:0x)?[0-9A-Fa-f]{8,40}", keyid):
        ctx.fail(where, 'expected gpg = "FINGERPRINT" (or keyid) of a key in the keyring')
    home = entry.get("gpg-home")
    if home is not None and not isinstance(home, str):
        ctx.fail(where, "expected gpg-home to be the path of a GnuPG home folder")
    return _GpgEntry(keyid, ctx.base_dir / Path(home).expanduser() if home else None)


def _string(ctx: _Context, value: object, where: _Where) -> str:
    if not isinstance(value, str):
        ctx.fail(where, f"expected a string, got {_toml_type(value)}")
    return value


def _name(ctx: _Context, item: Mapping[str, Any], where: _Where) -> str:
    if "name" not in item:
        ctx.fail(where, "missing key 'name'")
    name = _string(ctx, item["name"], where.at("name"))
    try:
        check_name(name, "name")
    except MetadataError as exc:
        ctx.fail(where.at("name"), str(exc))
    return name


def _step(ctx: _Context, item: dict[str, Any], where: _Where) -> Step:
    _check_keys(ctx, item, _STEP_KEYS, where)
    name = _name(ctx, item, where)
    pubkeys = _functionaries(ctx, item.get("functionaries"), where.at("functionaries"))
    return Step(
        name=name,
        pubkeys=pubkeys,
        threshold=_threshold(ctx, item.get("threshold", 1), pubkeys, where.at("threshold")),
        expected_materials=_rules(ctx, item, "expected_materials", where),
        expected_products=_rules(ctx, item, "expected_products", where),
        expected_command=_command(
            ctx, item.get("expected_command", []), where.at("expected_command")
        ),
    )


def _inspection(ctx: _Context, item: dict[str, Any], where: _Where) -> Inspection:
    _check_keys(ctx, item, _INSPECTION_KEYS, where)
    name = _name(ctx, item, where)
    if "run" not in item:
        ctx.fail(where, "missing key 'run' (the inspection's command)")
    run = _command(ctx, item["run"], where.at("run"))
    if not run:
        ctx.fail(where.at("run"), "an inspection needs a command to run")
    return Inspection(
        name=name,
        run=run,
        expected_materials=_rules(ctx, item, "expected_materials", where),
        expected_products=_rules(ctx, item, "expected_products", where),
    )


def _functionaries(ctx: _Context, value: object, where: _Where) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        ctx.fail(where, "expected a non-empty list of public key files (or names from [keys])")
    keyids: list[str] = []
    for position, entry in enumerate(value):
        at = where.at(where.key or "", position)
        key = _public_key(ctx, _string(ctx, entry, at), at)
        if key.keyid in keyids:
            ctx.fail(at, "the same key is listed twice")
        keyids.append(key.keyid)
    return tuple(keyids)


def _public_key(ctx: _Context, entry: str, where: _Where) -> VerificationKey:
    key = _load_key(ctx, ctx.aliases.get(entry, entry), where)
    ctx.keys.setdefault(key.keyid, key)  # a layout lists the keys its steps use, in that order
    return key


def _load_key(ctx: _Context, named: str | _GpgEntry, where: _Where) -> VerificationKey:
    try:
        if isinstance(named, _GpgEntry):
            return export_key(named.keyid, GpgOptions(home=named.home))
        return load_public_key(ctx.base_dir / named)
    except InputError as exc:
        ctx.fail(where, str(exc))
    except MetadataError as exc:
        ctx.fail(where, f"{named}: {exc}")


def _threshold(ctx: _Context, value: object, pubkeys: tuple[str, ...], where: _Where) -> int:
    if type(value) is not int or value < 1:
        ctx.fail(where, f"expected an integer >= 1, got {value!r}")
    if value > len(pubkeys):
        ctx.fail(where, f"{value} is more than the {len(pubkeys)} functionary key(s) of this step")
    return value


def _command(ctx: _Context, value: object, where: _Where) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:
            ctx.fail(where, f"cannot split the command into words ({exc})")
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        ctx.fail(where, "expected a command as a string or a list of strings")
    return tuple(value)


def _rules(ctx: _Context, item: Mapping[str, Any], key: str, where: _Where) -> tuple[Rule, ...]:
    value = item.get(key, [])
    if not isinstance(value, list):
        ctx.fail(where.at(key), "expected a list of rules")
    rules: list[Rule] = []
    for position, entry in enumerate(value):
        at = where.at(key, position)
        words = entry.split() if isinstance(entry, str) else entry
        try:
            rules.append(parse_rule(words, where="rule"))
        except MetadataError as exc:
            ctx.fail(at, str(exc).removeprefix("rule: "))
    return tuple(rules)


def _check_names(
    ctx: _Context, steps: tuple[Step, ...], inspections: tuple[Inspection, ...]
) -> None:
    items: list[tuple[_Where, Step | Inspection]] = [
        (_Where("steps", i), step) for i, step in enumerate(steps)
    ]
    items += [(_Where("inspections", i), insp) for i, insp in enumerate(inspections)]
    seen: set[str] = set()
    for where, item in items:
        if item.name in seen:
            ctx.fail(where.at("name"), f"{item.name!r} is already used")
        seen.add(item.name)
    for where, item in items:
        _check_match_sources(ctx, item, where, seen)


def _check_match_sources(
    ctx: _Context, item: Step | Inspection, where: _Where, names: set[str]
) -> None:
    # A MATCH from a name that is not in the layout can never match: almost surely a typo.
    for key in ("expected_materials", "expected_products"):
        rules: tuple[Rule, ...] = getattr(item, key)
        for position, rule in enumerate(rules):
            if isinstance(rule, MatchRule) and rule.dest_name not in names:
                ctx.fail(
                    where.at(key, position), f"MATCH ... FROM {rule.dest_name!r}: no such step"
                )


def _expires(ctx: _Context, value: object, where: _Where) -> datetime:
    if value is None:
        ctx.fail(where, 'missing: give a date, a date-time or a duration such as "90d"')
    moment = _moment(ctx, value, where)
    if moment <= ctx.now:
        ctx.fail(where, f"{moment:%Y-%m-%dT%H:%M:%SZ} is not in the future")
    return moment.replace(microsecond=0)


def _moment(ctx: _Context, value: object, where: _Where) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            ctx.fail(where, "a date-time needs a zone: end it with Z (UTC) or an offset")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and _DURATION.fullmatch(value):
        days = sum(int(n) * _UNIT_DAYS[unit] for n, unit in _DURATION_PART.findall(value))
        return ctx.now.astimezone(UTC) + timedelta(days=days)
    if isinstance(value, str):
        try:
            return parse_expires(value, "expires")
        except MetadataError:
            pass
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:  # a TOML date is written bare: quoted, it is a string
            ctx.fail(where, f"write the date without quotes (expires = {value}), got {value!r}")
    ctx.fail(where, f'expected a date, a date-time or a duration such as "90d", got {value!r}')


def _toml_type(value: object) -> str:
    names = {dict: "a table", list: "an array", bool: "a boolean", int: "an integer"}
    return names.get(type(value), type(value).__name__)
