"""The trust store of first-seen publishers (tofu): ``$XDG_DATA_HOME/intoto-pip/publishers.toml``.

One table per project (PEP 503 name), holding the identity the certificate of its first
verified release named, the file it came with, and when::

    [projects.pypi-attestations]
    kind = "GitHub"
    repository = "trailofbits/pypi-attestations"
    workflow = "release.yml"
    issuer = "https://token.actions.githubusercontent.com"
    first-file = "pypi_attestations-0.0.19.tar.gz"
    recorded = "2026-01-01T00:00:00Z"

Written atomically (a temp file and a rename), mode 0600, in a 0700 folder. A file that cannot
be read or parsed is a usage error (exit 2) naming it: the user can fix or remove it.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from intoto_pip.archives.names import canonical_name
from intoto_pip.errors import InputError
from intoto_pip.models.publisher import PublisherIdentity
from intoto_pip.store import read_user_file, write_atomic

_IDENTITY_KEYS = ("kind", "repository", "workflow", "email", "issuer")
_HEADER = (
    "# intoto-pip: the publisher first seen for each project (--provenance tofu).\n"
    "# `intoto-pip trust list` shows them; `intoto-pip trust forget NAME` removes one.\n"
)


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """One project's first verified publisher."""

    name: str
    identity: PublisherIdentity
    first_file: str = ""
    recorded: str = ""


def default_store_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "intoto-pip" / "publishers.toml"


def load_store(path: Path) -> dict[str, Recorded]:
    """Every recorded project; an absent file is an empty store."""
    if not path.exists():
        return {}
    data = read_user_file(path)
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"trust store {path}: not valid TOML ({exc})") from exc
    projects = document.get("projects", {})
    if not isinstance(projects, dict):
        raise InputError(f"trust store {path}: projects: expected a table")
    return {
        canonical_name(name): _entry(name, table, f"trust store {path}: projects.{name}")
        for name, table in projects.items()
    }


def _entry(name: str, table: object, where: str) -> Recorded:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputError(f"{where}: expected a table of strings")
    kind = table.get("kind", "")
    if not kind:
        raise InputError(f"{where}: no kind")
    identity = PublisherIdentity(**{key: table.get(key, "") for key in _IDENTITY_KEYS})
    return Recorded(
        name=canonical_name(name),
        identity=identity,
        first_file=table.get("first-file", ""),
        recorded=table.get("recorded", ""),
    )


def record_first(path: Path, entries: Iterable[tuple[str, PublisherIdentity, str]]) -> list[str]:
    """Record (name, identity, file) for each project not yet in the store; return the names
    recorded. A project already recorded keeps its first publisher."""
    store = load_store(path)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = []
    for name, identity, filename in entries:
        key = canonical_name(name)
        if key not in store:
            store[key] = Recorded(name=key, identity=identity, first_file=filename, recorded=now)
            added.append(key)
    if added:
        _write(path, store)
    return added


def forget(path: Path, name: str) -> bool:
    """Remove ``name`` from the store; False when it was not there."""
    store = load_store(path)
    if store.pop(canonical_name(name), None) is None:
        return False
    _write(path, store)
    return True


def _write(path: Path, store: Mapping[str, Recorded]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, render(store).encode("utf-8"), mode=0o600)


def render(store: Mapping[str, Recorded]) -> str:
    """The file's text; strings as JSON strings (valid TOML basic strings, ASCII-only)."""
    lines = [_HEADER]
    for name in sorted(store):
        entry = store[name]
        lines.append(f"\n[projects.{json.dumps(name)}]\n")
        values = entry.identity.to_dict() | {
            "first-file": entry.first_file,
            "recorded": entry.recorded,
        }
        lines += [f"{key} = {json.dumps(value)}\n" for key, value in values.items() if value]
    return "".join(lines)
