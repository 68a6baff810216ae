"""record start / stop: the unfinished link is checked, re-signed and removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intoto_pip.errors import InputError, MetadataError, SignatureError
from intoto_pip.models.envelope import parse_envelope, verified_keys
from intoto_pip.models.link import Link
from intoto_pip.produce.record import (
    RecordStartOptions,
    RecordStopOptions,
    record_start,
    record_stop,
)
from tests.produce._keys import write_key


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "doc.txt").write_bytes(b"draft\n")
    return tmp_path


@pytest.mark.parametrize("dsse", [False, True])
def test_start_then_stop(workdir: Path, dsse: bool) -> None:
    signer = write_key(workdir, "alice").signer()
    started = record_start(
        RecordStartOptions(step="edit", materials=("doc.txt",), use_dsse=dsse), signer
    )
    assert started.link_path.name == f".edit.{signer.public_key.keyid[:8]}.link-unfinished"
    (workdir / "doc.txt").write_bytes(b"final\n")
    (workdir / "out").mkdir()
    stopped = record_stop(
        RecordStopOptions(step="edit", products=("doc.txt",), metadata_dir=Path("out")), signer
    )
    assert not started.link_path.exists()
    assert stopped.link_path == Path("out") / f"edit.{signer.public_key.keyid[:8]}.link"
    envelope = parse_envelope(stopped.link_path.read_bytes(), what="link")
    assert envelope.kind == ("dsse" if dsse else "metablock")
    assert verified_keys(envelope, [signer.public_key])
    link = Link.from_dict(envelope.payload)
    assert link.materials != link.products
    assert set(link.materials) == set(link.products) == {"doc.txt"}


def test_stop_without_start(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    with pytest.raises(InputError, match="no unfinished link"):
        record_stop(RecordStopOptions(step="edit"), signer)


def test_stop_refuses_an_unfinished_link_changed_after_signing(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    started = record_start(RecordStartOptions(step="edit", materials=("doc.txt",)), signer)
    document = json.loads(started.link_path.read_bytes())
    document["signed"]["materials"]["doc.txt"]["sha256"] = "0" * 64
    started.link_path.write_text(json.dumps(document))
    with pytest.raises(SignatureError, match="not signed by key"):
        record_stop(RecordStopOptions(step="edit"), signer)
    assert started.link_path.exists()


def test_stop_refuses_a_renamed_unfinished_link(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    started = record_start(RecordStartOptions(step="edit"), signer)
    renamed = started.link_path.with_name(started.link_path.name.replace("edit", "other"))
    started.link_path.rename(renamed)
    with pytest.raises(MetadataError, match="records step 'edit', not 'other'"):
        record_stop(RecordStopOptions(step="other"), signer)


def test_stop_with_another_key_finds_nothing(workdir: Path) -> None:
    alice = write_key(workdir, "alice").signer()
    bob = write_key(workdir, "bob", variant=1).signer()
    record_start(RecordStartOptions(step="edit"), alice)
    with pytest.raises(InputError, match="no unfinished link"):
        record_stop(RecordStopOptions(step="edit"), bob)
