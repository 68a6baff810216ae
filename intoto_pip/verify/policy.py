"""The trust policy: which layout keys (and which out-of-band layout) vouch for which project.

A TOML file (default ``$XDG_CONFIG_HOME/intoto-pip/policy.toml``)::

    allow-unverified = ["legacy-lib"]        # optional; [":all:"] allows every project

    provenance = "tofu"                      # optional: off (default), warn, tofu, require

    [projects.requests]
    layout-keys = ["keys/requests-owner.pub"]   # PEM file paths, or PEM text
    layout = "layouts/requests.layout"           # optional: replaces the shipped layout

    [projects.pypi-attestations]       # a publisher pin (PEP 740), with or without keys
    publisher = { kind = "GitHub", repository = "trailofbits/pypi-attestations",
                  workflow = "release.yml" }

Relative paths are read relative to the policy file's folder. Project names are compared after
PEP 503 normalisation. A project the policy names uses the policy's keys only; any other
project uses the ``--layout-key`` keys. A project needs layout keys, a publisher, or both; with
both, it must satisfy both. ``--publisher NAME=...`` replaces the policy's pin for NAME; an
unnamed ``--publisher`` pins every project the policy does not. Any problem with the file is a
usage error (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intoto_pip.archives.names import canonical_name
from intoto_pip.crypto.keys import (
    PublicKey,
    VerificationKey,
    load_public_key,
    public_key_from_pem,
)
from intoto_pip.errors import InputError, KeyLoadError
from intoto_pip.store import read_user_file

if TYPE_CHECKING:
    from intoto_pip.models.publisher import PublisherPin

# The provenance modes (``verify.provenance_policy`` acts on them). Here, so that reading a
# policy for in-toto trust alone (``check``) loads nothing of PEP 740.
MODES = ("off", "warn", "tofu", "require")
DEFAULT_MODE = "off"

ALL = ":all:"
_TOP_KEYS = frozenset({"allow-unverified", "projects", "provenance"})
_PROJECT_KEYS = frozenset({"layout-keys", "layout", "publisher"})
_PEM_MARK = "-----BEGIN"


@dataclass(frozen=True, kw_only=True)
class Trust:
    """What vouches for one project: the layout keys and, optionally, an out-of-band layout
    and a pinned publisher (PEP 740); ``source`` says where they were named (``--layout-key``
    or the policy file)."""

    layout_keys: tuple[VerificationKey, ...]
    layout: Path | None = None
    source: str = "--layout-key"
    publisher: PublisherPin | None = None


@dataclass(frozen=True, kw_only=True)
class Policy:
    projects: Mapping[str, Trust] = field(default_factory=dict)
    allow_unverified: frozenset[str] = frozenset()
    source: str = "no policy file"
    provenance: str = DEFAULT_MODE
    # --publisher pins: by PEP 503 name, and the one for every other project ("" key).
    publishers: Mapping[str, PublisherPin] = field(default_factory=dict)

    def trust_for(self, name: str, cli_keys: tuple[VerificationKey, ...]) -> Trust:
        """The policy's entry for ``name``, or the ``--layout-key`` keys; with the pin of
        ``--publisher NAME=...`` (or of an unnamed ``--publisher``) when one applies."""
        key = canonical_name(name)
        entry = self.projects.get(key)
        pin = self.publishers.get(key)
        if entry is None:
            entry = Trust(layout_keys=cli_keys, source="--layout-key")
            pin = pin or self.publishers.get("")
        return replace(entry, publisher=pin) if pin is not None else entry

    def pinned(self, name: str) -> bool:
        return self.trust_for(name, ()).publisher is not None

    def allows_unverified(self, name: str) -> bool:
        return ALL in self.allow_unverified or canonical_name(name) in self.allow_unverified


def default_policy_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "intoto-pip" / "policy.toml"


def load_policy(
    path: Path | None,
    *,
    extra_allowed: Iterable[str] = (),
    publishers: Mapping[str, PublisherPin] | None = None,
    provenance: str | None = None,
) -> Policy:
    """Read ``path`` (or the default file when it exists) and add ``--allow-unverified``,
    ``--publisher`` pins and the ``--provenance`` mode (which replaces the file's)."""
    allowed = _allowed_names(extra_allowed, "--allow-unverified")
    policy = Policy()
    if path is None and default_policy_path().is_file():
        path = default_policy_path()
    if path is not None:
        policy = parse_policy(read_user_file(path), where=str(path), base=path.parent)
    return replace(
        policy,
        allow_unverified=policy.allow_unverified | allowed,
        provenance=provenance or policy.provenance,
        publishers={canonical_name(k) if k else "": v for k, v in (publishers or {}).items()},
    )


def parse_policy(data: bytes, *, where: str, base: Path) -> Policy:
    import tomllib  # here: without a policy file, nothing is parsed

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"policy {where}: not valid TOML ({exc})") from exc
    _no_unknown(document, _TOP_KEYS, f"policy {where}")
    projects = _table(document.get("projects", {}), f"policy {where}: projects")
    parsed: dict[str, Trust] = {}
    for name, value in projects.items():
        at = f"policy {where}: projects.{name}"
        key = canonical_name(name)
        if key in parsed:
            raise InputError(f"{at}: names the same project as another entry ({key})")
        parsed[key] = _project(value, at=at, base=base, source=where)
    allowed = _string_list(
        document.get("allow-unverified", []), f"policy {where}: allow-unverified"
    )
    return Policy(
        projects=parsed,
        allow_unverified=_allowed_names(allowed, f"policy {where}"),
        source=where,
        provenance=_mode(document.get("provenance", DEFAULT_MODE), f"policy {where}: provenance"),
    )


def _mode(value: object, where: str) -> str:
    if value not in MODES:
        raise InputError(f"{where}: expected one of {', '.join(MODES)}, got {value!r}")
    return str(value)


def _project(value: object, *, at: str, base: Path, source: str) -> Trust:
    table = _table(value, at)
    _no_unknown(table, _PROJECT_KEYS, at)
    keys = tuple(
        _key(item, f"{at}.layout-keys[{i}]", base)
        for i, item in enumerate(_string_list(table.get("layout-keys", []), f"{at}.layout-keys"))
    )
    publisher = None
    if "publisher" in table:
        from intoto_pip.models.publisher import publisher_from_table

        publisher = publisher_from_table(
            _table(table["publisher"], f"{at}.publisher"), where=f"{at}.publisher"
        )
    if not keys and publisher is None:
        raise InputError(f"{at}: needs at least one entry in layout-keys, or a publisher")
    layout = table.get("layout")
    if layout is not None and not isinstance(layout, str):
        raise InputError(f"{at}.layout: expected a path")
    return Trust(
        layout_keys=keys,
        layout=None if layout is None else base / layout,
        source=f"policy {source}",
        publisher=publisher,
    )


def read_layout_key(item: str, at: str, base: Path) -> PublicKey:
    """A layout key given as PEM text or as a path relative to ``base``; InputError names
    ``at`` (the place in the file that gave it)."""
    return _key(item, at, base)


def _key(item: str, at: str, base: Path) -> PublicKey:
    try:
        if item.lstrip().startswith(_PEM_MARK):
            return public_key_from_pem(item.encode("ascii"), source=at)
        return load_public_key(base / item)
    except (KeyLoadError, UnicodeEncodeError) as exc:
        raise InputError(f"{at}: {exc}") from exc


def _allowed_names(names: Iterable[str], where: str) -> frozenset[str]:
    result = set()
    for name in names:
        if name != ALL and not name.strip():
            raise InputError(f"{where}: empty project name in allow-unverified")
        result.add(name if name == ALL else canonical_name(name))
    return frozenset(result)


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a table")
    return value


def _string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"{where}: expected a list of strings")
    return value


def _no_unknown(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
