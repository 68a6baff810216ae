"""The verdict record: what it says, that it reads back, and that a malformed one is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from intoto_pip.errors import MetadataError
from intoto_pip.install.verdict_record import (
    SCHEMA,
    FileRef,
    InTotoRecord,
    ProvenanceRecord,
    VerdictRecord,
    parse_record,
)

WHEN = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)


def _record() -> VerdictRecord:
    return VerdictRecord(
        name="demo-pkg",
        version="1.0",
        installed_at=WHEN,
        verdict="verified",
        archive=FileRef(filename="demo_pkg-1.0-py3-none-any.whl", sha256="ab" * 32),
        in_toto=InTotoRecord(
            mode="embedded",
            layout="demo_pkg-1.0-py3-none-any.whl:demo_pkg-1.0.dist-info/in-toto/root.layout",
            layout_sha256="cd" * 32,
            layout_keys=("ef" * 32,),
            trust="--layout-key",
        ),
    )


def test_the_record_names_keys_layout_digest_time_and_archive() -> None:
    data = json.loads(_record().to_bytes())
    assert data["schema"] == SCHEMA
    assert data["installed_at"] == "2025-01-31T12:00:00Z"
    assert data["archive"] == {"filename": "demo_pkg-1.0-py3-none-any.whl", "sha256": "ab" * 32}
    assert data["in_toto"]["layout_keys"] == ["ef" * 32]
    assert data["in_toto"]["layout_sha256"] == "cd" * 32
    assert data["provenance"] is None and data["wheel"] is None


def test_a_record_reads_back_as_written() -> None:
    assert parse_record(_record().to_bytes(), where="r") == _record()


def test_fields_a_later_version_adds_are_ignored() -> None:
    data = json.loads(_record().to_bytes())
    data["provenance"] = {"publisher": "github:o/r", "predicate_types": ["x"], "new": 1}
    data["something_new"] = True
    record = parse_record(json.dumps(data).encode(), where="r")
    assert record.provenance == ProvenanceRecord(publisher="github:o/r", predicate_types=("x",))


def test_a_publisher_verified_record_reads_back() -> None:
    record = replace(
        _record(),
        verdict="publisher-verified",
        in_toto=None,
        provenance=ProvenanceRecord(
            publisher="github:o/r@release.yml",
            predicate_types=("https://docs.pypi.org/attestations/publish/v1",),
            pinned=True,
        ),
    )
    assert parse_record(record.to_bytes(), where="r") == record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "other"}, "r.schema"),
        ({"verdict": "trusted"}, "r.verdict"),
        ({"installed_at": "yesterday"}, "r.installed_at"),
        ({"archive": "x.whl"}, "r.archive"),
        ({"in_toto": {"mode": "embedded"}}, "r.in_toto"),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(
    change: dict[str, object], message: str
) -> None:
    data = {**json.loads(_record().to_bytes()), **change}
    with pytest.raises(MetadataError, match=message):
        parse_record(json.dumps(data).encode(), where="r")
