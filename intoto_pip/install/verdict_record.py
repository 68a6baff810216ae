"""How a distribution got in: the verdict record written into its ``.dist-info`` (DESIGN §12).

``<dist-info>/intoto-pip.json`` is written by ``intoto-pip install`` beside INSTALLER and
listed in RECORD with its hash, so ``pip uninstall`` removes it and ``intoto-pip check``
can tell a distribution we let in from one another tool installed. Schema (version 1;
readers ignore fields they do not know, so later versions may add some)::

    {
      "schema": "intoto-pip/verdict-record/v1",
      "name": "demo-pkg",                 # PEP 503 normalised
      "version": "1.0",
      "installed_at": "2025-01-31T12:00:00Z",   # UTC
      "verdict": "verified",              # in-toto; or "publisher-verified" (PEP 740
                                          # provenance from a pinned publisher, no layout
                                          # key), or "allowed-unverified"
      "archive": {"filename": "demo_pkg-1.0-py3-none-any.whl", "sha256": "<hex>"},
      "wheel": null,                      # or {"filename", "sha256"} of the wheel built
                                          # from the verified sdist named in "archive"
      "in_toto": {                        # null unless verified with in-toto evidence
        "mode": "embedded",               # or "detached" (then none is installed)
        "layout": "<where the layout came from>",
        "layout_sha256": "<hex>",
        "layout_keys": ["<keyid>", ...],  # the keys whose signatures were verified
        "trust": "--layout-key"           # or "policy <file>"
      },
      "provenance": null                  # or {"publisher": "...", "predicate_types": [...],
                                          #     "pinned": true} when PEP 740 provenance
                                          #     verified
    }

The record says what was decided at install time; it is not evidence (anyone who can write
the environment can rewrite it). ``check`` re-verifies the installed evidence itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from intoto_pip.errors import MetadataError
from intoto_pip.models.fields import expect_object
from intoto_pip.models.strict_json import loads_strict

if TYPE_CHECKING:
    from intoto_pip.install.candidates import Candidate

FILENAME = "intoto-pip.json"
SCHEMA = "intoto-pip/verdict-record/v1"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Verdict = Literal["verified", "publisher-verified", "allowed-unverified"]
VERDICTS: tuple[Verdict, ...] = ("verified", "publisher-verified", "allowed-unverified")


@dataclass(frozen=True, kw_only=True)
class FileRef:
    filename: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class InTotoRecord:
    mode: str
    layout: str
    layout_sha256: str
    layout_keys: tuple[str, ...]
    trust: str


@dataclass(frozen=True, kw_only=True)
class ProvenanceRecord:
    """Left for PEP 740 provenance: who published it, and which predicates were checked."""

    publisher: str
    predicate_types: tuple[str, ...] = ()
    pinned: bool = False  # verified against a pin (policy, --publisher, lock or tofu store)


@dataclass(frozen=True, kw_only=True)
class VerdictRecord:
    name: str
    version: str
    installed_at: datetime
    verdict: Verdict
    archive: FileRef
    wheel: FileRef | None = None
    in_toto: InTotoRecord | None = None
    provenance: ProvenanceRecord | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "name": self.name,
            "version": self.version,
            "installed_at": self.installed_at.astimezone(UTC).strftime(TIME_FORMAT),
            "verdict": self.verdict,
            "archive": _ref(self.archive),
            "wheel": _ref(self.wheel) if self.wheel else None,
            "in_toto": _in_toto(self.in_toto) if self.in_toto else None,
            "provenance": _provenance(self.provenance) if self.provenance else None,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True).encode() + b"\n"


def _ref(ref: FileRef) -> dict[str, str]:
    return {"filename": ref.filename, "sha256": ref.sha256}


def _in_toto(record: InTotoRecord) -> dict[str, Any]:
    return {
        "mode": record.mode,
        "layout": record.layout,
        "layout_sha256": record.layout_sha256,
        "layout_keys": list(record.layout_keys),
        "trust": record.trust,
    }


def _provenance(record: ProvenanceRecord) -> dict[str, Any]:
    return {
        "publisher": record.publisher,
        "predicate_types": list(record.predicate_types),
        "pinned": record.pinned,
    }


def parse_record(data: bytes, *, where: str) -> VerdictRecord:
    """Read a record back; MetadataError (naming ``where``) when it is not one."""
    obj = expect_object(loads_strict(data, what=where), where)
    if obj.get("schema") != SCHEMA:
        raise MetadataError(f"{where}.schema: expected {SCHEMA!r}, got {obj.get('schema')!r}")
    verdict = obj.get("verdict")
    if verdict not in VERDICTS:
        raise MetadataError(f"{where}.verdict: unknown verdict {verdict!r}")
    wheel = obj.get("wheel")
    return VerdictRecord(
        name=_str(obj, "name", where),
        version=_str(obj, "version", where),
        installed_at=_time(_str(obj, "installed_at", where), f"{where}.installed_at"),
        verdict=verdict,
        archive=_file_ref(obj.get("archive"), f"{where}.archive"),
        wheel=None if wheel is None else _file_ref(wheel, f"{where}.wheel"),
        in_toto=_parse_in_toto(obj.get("in_toto"), f"{where}.in_toto"),
        provenance=_parse_provenance(obj.get("provenance"), f"{where}.provenance"),
    )


def _parse_provenance(value: object, where: str) -> ProvenanceRecord | None:
    if value is None:
        return None
    obj = expect_object(value, where)
    types = obj.get("predicate_types", [])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise MetadataError(f"{where}.predicate_types: expected a list of strings")
    return ProvenanceRecord(
        publisher=_str(obj, "publisher", where),
        predicate_types=tuple(types),
        pinned=obj.get("pinned") is True,
    )


def _parse_in_toto(value: object, where: str) -> InTotoRecord | None:
    if value is None:
        return None
    obj = expect_object(value, where)
    keys = obj.get("layout_keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise MetadataError(f"{where}.layout_keys: expected a list of strings")
    return InTotoRecord(
        mode=_str(obj, "mode", where),
        layout=_str(obj, "layout", where),
        layout_sha256=_str(obj, "layout_sha256", where),
        layout_keys=tuple(keys),
        trust=_str(obj, "trust", where),
    )


def _file_ref(value: object, where: str) -> FileRef:
    obj = expect_object(value, where)
    return FileRef(filename=_str(obj, "filename", where), sha256=_str(obj, "sha256", where))


def _str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise MetadataError(f"{where}.{key}: expected a string")
    return value


def _time(text: str, where: str) -> datetime:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise MetadataError(f"{where}: expected YYYY-MM-DDTHH:MM:SSZ, got {text!r}") from exc


def record_for(candidate: Candidate, now: datetime) -> VerdictRecord:
    """The record of how ``candidate`` was admitted (it must have been)."""
    verdict = candidate.verdict
    origin = candidate.origin
    in_toto = None
    if verdict.verified:
        in_toto = InTotoRecord(
            mode=verdict.mode,
            layout=verdict.layout_origin,
            layout_sha256=verdict.layout_sha256,
            layout_keys=verdict.layout_keys,
            trust=verdict.trust_source,
        )
    wheel = None
    if candidate.source is not None:
        wheel = FileRef(filename=candidate.fetched.filename, sha256=candidate.fetched.sha256)
    return VerdictRecord(
        name=candidate.meta.name,
        version=candidate.meta.version,
        installed_at=now,
        verdict=_verdict(candidate),
        archive=FileRef(filename=origin.filename, sha256=origin.sha256),
        wheel=wheel,
        in_toto=in_toto,
        provenance=_provenance_of(candidate),
    )


def _verdict(candidate: Candidate) -> Verdict:
    if candidate.verdict.verified:
        return "verified"
    return "publisher-verified" if candidate.publisher_verified else "allowed-unverified"


def _provenance_of(candidate: Candidate) -> ProvenanceRecord | None:
    """The publisher identity and predicates, when PEP 740 provenance verified."""
    found = candidate.provenance
    if found is None or found.status != "verified" or found.identity is None:
        return None
    return ProvenanceRecord(
        publisher=found.identity.describe(),
        predicate_types=found.predicate_types,
        pinned=found.pinned,
    )
