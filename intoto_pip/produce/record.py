"""Record a step in two commands: ``start`` signs the materials, ``stop`` adds the products.

Between the two, the step's state lives in ``.<step>.<keyid[:8]>.link-unfinished`` in the
working folder, signed by the functionary. ``stop`` accepts it only if it names the same
step and carries a valid signature by the same key, then signs the finished link in the
same envelope format and removes the unfinished file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intoto_pip.artifacts.collect import RecordOptions, record_artifacts_report
from intoto_pip.crypto.keys import Signer
from intoto_pip.errors import InputError, MetadataError, SignatureError
from intoto_pip.models.envelope import Envelope, parse_envelope, verified_keys
from intoto_pip.models.link import Link
from intoto_pip.produce.common import (
    check_directory,
    check_step_name,
    link_payload,
    sign_and_write,
)
from intoto_pip.store import link_filename, read_user_file, unfinished_link_filename


@dataclass(frozen=True, kw_only=True)
class RecordStartOptions:
    step: str
    materials: tuple[str, ...] = ()
    record: RecordOptions = field(default_factory=RecordOptions)
    use_dsse: bool = False
    # The unfinished link is a link in DSSE; the attestation is written by stop.
    attestation: bool = False
    workdir: Path = Path()  # where the unfinished link is kept


@dataclass(frozen=True, kw_only=True)
class RecordStopOptions:
    step: str
    products: tuple[str, ...] = ()
    record: RecordOptions = field(default_factory=RecordOptions)
    metadata_dir: Path = Path()
    workdir: Path = Path()
    attestation: bool = False  # write an in-toto Statement v1 (link predicate), in DSSE


@dataclass(frozen=True, kw_only=True)
class RecordResult:
    link_path: Path
    skipped: tuple[str, ...] = ()


def record_start(options: RecordStartOptions, signer: Signer) -> RecordResult:
    """Write the signed, unfinished link holding the materials."""
    check_step_name(options.step)
    materials = record_artifacts_report(options.materials, options.record)
    payload = link_payload(options.step, materials=materials.artifacts, products={}, byproducts={})
    path = options.workdir / unfinished_link_filename(options.step, signer.public_key.keyid)
    dsse = options.use_dsse or options.attestation
    sign_and_write(payload, [signer], dsse=dsse, path=path)
    return RecordResult(link_path=path, skipped=materials.skipped)


def record_stop(options: RecordStopOptions, signer: Signer) -> RecordResult:
    """Check the unfinished link, add the products, re-sign, write the link, remove the rest."""
    check_step_name(options.step)
    check_directory(options.metadata_dir, "metadata directory")
    keyid = signer.public_key.keyid
    unfinished = options.workdir / unfinished_link_filename(options.step, keyid)
    if not unfinished.exists():
        raise InputError(
            f"no unfinished link {str(unfinished)!r} for step {options.step!r} and key "
            f"{keyid[:8]}: run 'intoto-pip record start' with the same step and key first"
        )
    envelope = _load_unfinished(unfinished, options.step, signer)
    products = record_artifacts_report(options.products, options.record)
    payload: dict[str, Any] = dict(envelope.payload)
    payload["products"] = products.artifacts
    path = options.metadata_dir / link_filename(options.step, keyid)
    dsse = envelope.kind == "dsse"
    sign_and_write(payload, [signer], dsse=dsse, path=path, attestation=options.attestation)
    unfinished.unlink()
    return RecordResult(link_path=path, skipped=products.skipped)


def _load_unfinished(path: Path, step: str, signer: Signer) -> Envelope:
    envelope = parse_envelope(read_user_file(path), what=str(path))
    if not verified_keys(envelope, [signer.public_key]):
        raise SignatureError(
            f"{path}: not signed by key {signer.public_key.keyid[:8]}; "
            "start the recording again with 'intoto-pip record start'"
        )
    link = Link.from_dict(envelope.payload, where=f"{path}: link")
    if link.name != step:
        raise MetadataError(f"{path}: records step {link.name!r}, not {step!r}")
    return envelope
