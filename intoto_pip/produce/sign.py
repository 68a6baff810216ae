"""Sign a link or layout file again, or check its signatures; the envelope format is kept.

As with in-toto-sign: a link belongs to one functionary, so it takes exactly one key and
its signatures are replaced; a layout may take several keys, and ``append`` keeps the
signatures it already has. The payload is validated before anything is signed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from intoto_pip.crypto.keys import Signer, VerificationKey
from intoto_pip.errors import InputError, MetadataError, SignatureError
from intoto_pip.models.envelope import (
    Envelope,
    add_signatures,
    dump_envelope,
    parse_envelope,
    verified_keys,
)
from intoto_pip.models.layout import Layout
from intoto_pip.models.link import Link
from intoto_pip.store import link_filename, read_user_file, write_atomic

MetadataKind = Literal["link", "layout"]


def load_metadata(path: Path) -> tuple[Envelope, MetadataKind]:
    """Read and validate a link or layout file (classic or DSSE)."""
    envelope = parse_envelope(read_user_file(path), what=str(path))
    kind = envelope.payload.get("_type")
    if kind == "link":
        Link.from_dict(envelope.payload, where=f"{path}: link")
        return envelope, "link"
    if kind == "layout":
        Layout.from_dict(envelope.payload, where=f"{path}: layout")
        return envelope, "layout"
    raise MetadataError(f"{path}: _type must be 'link' or 'layout', got {kind!r}")


def sign_file(
    path: Path, signers: Sequence[Signer], *, output: Path | None = None, append: bool = False
) -> Path:
    """Sign ``path``; write to ``output``, else a link to ``<step>.<keyid[:8]>.link`` in the
    working folder and a layout over itself. Return where it was written."""
    if not signers:
        raise InputError("signing needs at least one key")
    envelope, kind = load_metadata(path)
    if kind == "link" and (len(signers) > 1 or append):
        raise InputError(
            "a link is signed by its one functionary: give exactly one key and no --append"
        )
    if not append:
        envelope = dataclasses.replace(envelope, signatures=())
    envelope = add_signatures(envelope, signers)
    if output is None:
        step = str(envelope.payload["name"]) if kind == "link" else ""
        output = Path(link_filename(step, signers[0].public_key.keyid)) if kind == "link" else path
    write_atomic(output, dump_envelope(envelope))
    return output


def verify_file(path: Path, keys: Sequence[VerificationKey]) -> None:
    """Raise SignatureError unless every key in ``keys`` has a valid signature on ``path``."""
    if not keys:
        raise InputError("verifying needs at least one public key")
    envelope, _ = load_metadata(path)
    good = verified_keys(envelope, keys)
    missing = [key.keyid[:8] for key in keys if key not in good]
    if missing:
        raise SignatureError(f"{path}: no valid signature by key(s) {', '.join(missing)}")
