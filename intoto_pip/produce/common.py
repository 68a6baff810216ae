"""Helpers shared by the producer operations: names, paths, signing, writing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from intoto_pip.crypto.keys import Signer
from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.envelope import Envelope, dump_envelope, sign_payload
from intoto_pip.models.fields import check_name
from intoto_pip.models.link import Link
from intoto_pip.models.statement import statement_from_link
from intoto_pip.store import write_metadata


def check_step_name(name: str) -> None:
    """A step name becomes part of a file name: refuse what would escape the folder."""
    try:
        check_name(name, "step name")
    except MetadataError as exc:
        raise InputError(str(exc)) from exc


def check_directory(path: Path, what: str) -> None:
    if not path.is_dir():
        raise InputError(f"{what} {str(path)!r} is not an existing directory")


def link_payload(
    name: str,
    *,
    command: Sequence[str] = (),
    materials: Mapping[str, Mapping[str, str]],
    products: Mapping[str, Mapping[str, str]],
    byproducts: Mapping[str, Any],
) -> dict[str, Any]:
    """A link's ``signed`` part with every field the reference writes."""
    return {
        "_type": "link",
        "name": name,
        "command": list(command),
        "materials": {key: dict(value) for key, value in materials.items()},
        "products": {key: dict(value) for key, value in products.items()},
        "byproducts": dict(byproducts),
        "environment": {},
    }


def as_attestation(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A link payload as an in-toto Statement v1 with the link predicate (v0.3)."""
    try:
        return statement_from_link(Link.from_dict(payload))
    except ValueError as exc:
        raise InputError(f"cannot write an in-toto attestation: {exc}") from exc


def sign_and_write(
    payload: Mapping[str, Any],
    signers: Sequence[Signer],
    *,
    dsse: bool,
    path: Path,
    attestation: bool = False,
) -> Envelope:
    """Sign and write atomically: a reader never sees a half-written file. An attestation
    (a Statement v1) always comes in DSSE."""
    if attestation:
        payload, dsse = as_attestation(payload), True
    envelope = sign_payload(payload, signers, dsse=dsse)
    write_metadata(path, dump_envelope(envelope))
    return envelope
