"""In-memory supply chains for the engine: keys, signed layouts and links, a link source."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from intoto_pip.crypto.keys import PrivateKeySigner, PublicKey, signer_from_private_key
from intoto_pip.models.envelope import Envelope, dump_envelope, sign_payload
from intoto_pip.models.layout import Inspection
from intoto_pip.models.link import Link
from intoto_pip.store import link_filename, sublayout_dirname
from intoto_pip.verify.engine import verify_layout
from intoto_pip.verify.result import VerificationResult

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LATER = "2031-01-01T00:00:00Z"
Hashes = dict[str, str]


@functools.cache
def signer(name: str) -> PrivateKeySigner:
    """One ed25519 key per name for the whole test run (``name`` only tells them apart)."""
    return signer_from_private_key(ed25519.Ed25519PrivateKey.generate(), source=name)


def key(name: str) -> PublicKey:
    return signer(name).public_key


def digest(content: str) -> Hashes:
    return {"sha256": hashlib.sha256(content.encode()).hexdigest()}


def arts(**files: str) -> dict[str, Hashes]:
    """``arts(a="x")`` -> ``{"a": {"sha256": sha256("x")}}``; use ``dict`` for paths with '/'."""
    return {name: digest(content) for name, content in files.items()}


def files(mapping: Mapping[str, str]) -> dict[str, Hashes]:
    return {name: digest(content) for name, content in mapping.items()}


def rules(*texts: str) -> list[list[str]]:
    return [text.split() for text in texts]


def step(
    name: str,
    signers: Sequence[str],
    *,
    threshold: int = 1,
    materials: Sequence[str] = (),
    products: Sequence[str] = (),
    command: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "_type": "step",
        "name": name,
        "pubkeys": [key(who).keyid for who in signers],
        "threshold": threshold,
        "expected_materials": rules(*materials),
        "expected_products": rules(*products),
        "expected_command": list(command),
    }


def inspection(
    name: str, run: Sequence[str], *, materials: Sequence[str] = (), products: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "_type": "inspection",
        "name": name,
        "run": list(run),
        "expected_materials": rules(*materials),
        "expected_products": rules(*products),
    }


def layout(
    steps: Iterable[dict[str, Any]],
    *,
    functionaries: Iterable[str] = (),
    inspect: Iterable[dict[str, Any]] = (),
    expires: str = LATER,
) -> dict[str, Any]:
    steps = list(steps)
    names = list(functionaries)
    return {
        "_type": "layout",
        "expires": expires,
        "keys": {key(who).keyid: key(who).to_keydict() for who in names},
        "readme": "",
        "steps": steps,
        "inspect": list(inspect),
    }


def sign(payload: Mapping[str, Any], *who: str, dsse: bool = False) -> Envelope:
    return sign_payload(payload, [signer(name) for name in who], dsse=dsse)


def link(
    name: str,
    *,
    materials: Mapping[str, Hashes] | None = None,
    products: Mapping[str, Hashes] | None = None,
    command: Sequence[str] = (),
) -> dict[str, Any]:
    return Link(
        name=name, command=tuple(command), materials=materials or {}, products=products or {}
    ).to_dict()


@dataclass
class MemorySource:
    """A link folder in memory: file name -> envelope, sublayout folders below."""

    files: dict[str, Envelope] = field(default_factory=dict)
    folders: dict[str, MemorySource] = field(default_factory=dict)

    def add(self, step_name: str, who: str, envelope: Envelope) -> MemorySource:
        self.files[link_filename(step_name, key(who).keyid)] = envelope
        return self

    def add_link(self, who: str, payload: Mapping[str, Any], *, dsse: bool = False) -> MemorySource:
        return self.add(str(payload["name"]), who, sign(payload, who, dsse=dsse))

    def folder(self, step_name: str, who: str) -> MemorySource:
        return self.folders.setdefault(sublayout_dirname(step_name, key(who).keyid), MemorySource())

    def links_for(self, step_name: str, keyids: Sequence[str]) -> dict[str, Envelope]:
        found = {keyid: self.files.get(link_filename(step_name, keyid)) for keyid in keyids}
        return {keyid: envelope for keyid, envelope in found.items() if envelope is not None}

    def sublayout_source(self, step_name: str, keyid: str) -> MemorySource:
        return self.folders.get(sublayout_dirname(step_name, keyid), MemorySource())

    def location(self, step_name: str, keyid: str) -> str:
        return link_filename(step_name, keyid)


@dataclass
class FakeInspections:
    """Inspection runner returning prepared artifacts; records what it was asked to run."""

    results: dict[str, tuple[dict[str, Hashes], dict[str, Hashes], int]] = field(
        default_factory=dict
    )
    ran: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def __call__(self, item: Inspection) -> Link:
        self.ran.append((item.name, item.run))
        materials, products, code = self.results[item.name]
        return Link(
            name=item.name,
            command=item.run,
            materials=materials,
            products=products,
            byproducts={"return-value": code, "stderr": "", "stdout": ""},
        )


def verify(
    layout_envelope: Envelope,
    source: MemorySource,
    *,
    owners: Sequence[str] = ("owner",),
    params: Mapping[str, str] | None = None,
    inspections: FakeInspections | None = None,
    now: datetime = NOW,
) -> VerificationResult:
    return verify_layout(
        layout_envelope,
        layout_keys=[key(who) for who in owners],
        links=source,
        params=params,
        run_inspection=inspections,
        now=now,
    )


def later(days: int) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_source(folder: Path, source: MemorySource) -> None:
    """Write an in-memory link folder (and its sublayout folders) to disk."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, envelope in source.files.items():
        (folder / name).write_bytes(dump_envelope(envelope))
    for name, sub in source.folders.items():
        write_source(folder / name, sub)
