"""The adversarial base chain in memory: signed envelopes and a link source for the engine."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fixtures.adversarial_cases.common import Keys, base_layout, build_link, write_code_link
from intoto_pip.models.envelope import Envelope, sign_payload
from intoto_pip.store import link_filename

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@functools.cache
def keys() -> Keys:
    return Keys()


def sign(payload: Mapping[str, Any], signer: str, *, dsse: bool = False) -> Envelope:
    return sign_payload(payload, [keys()[signer]], dsse=dsse)


@dataclass
class MemorySource:
    """Link envelopes by file name; sublayout folders are empty."""

    files: dict[str, Envelope] = field(default_factory=dict)

    def put(self, step_name: str, signer: str, envelope: Envelope) -> None:
        self.files[link_filename(step_name, keys().pub(signer).keyid)] = envelope

    def links_for(self, step_name: str, keyids: Sequence[str]) -> dict[str, Envelope]:
        found = {keyid: self.files.get(link_filename(step_name, keyid)) for keyid in keyids}
        return {keyid: envelope for keyid, envelope in found.items() if envelope is not None}

    def sublayout_source(self, step_name: str, keyid: str) -> MemorySource:
        return MemorySource()

    def location(self, step_name: str, keyid: str) -> str:
        return link_filename(step_name, keyid)


def base_payloads() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(layout without inspections, write-code link, build link) of the base chain."""
    layout = base_layout(keys())
    layout["inspect"] = []
    return layout, write_code_link(), build_link()


def base_source(code: Mapping[str, Any], build: Mapping[str, Any]) -> MemorySource:
    source = MemorySource()
    source.put("write-code", "carol", sign(code, "carol"))
    source.put("build", "dave", sign(build, "dave"))
    return source
