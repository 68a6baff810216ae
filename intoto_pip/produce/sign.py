"""Sign a link or layout file again, or check its signatures; the envelope format is kept.

As with in-toto-sign: a link belongs to one functionary, so it takes exactly one key and
its signatures are replaced; a layout may take several keys, and ``append`` keeps the
signatures it already has. The payload is validated before anything is signed. A layout
template without ``expires`` gets one a calendar month from now, as in-toto-sign's layout
default does, and the outcome says so. A file that cannot be loaded as metadata is a usage
error (exit 2), as in in-toto-sign.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from intoto_pip.crypto.keys import Signer, VerificationKey
from intoto_pip.errors import InputError, MetadataError, SignatureError
from intoto_pip.models.envelope import (
    Envelope,
    add_signatures,
    dump_envelope,
    parse_envelope,
    sign_payload,
    verified_keys,
)
from intoto_pip.models.layout import Layout, format_expires
from intoto_pip.models.link import Link
from intoto_pip.store import link_filename, read_user_file, write_metadata

MetadataKind = Literal["link", "layout"]


@dataclass(frozen=True, kw_only=True)
class SignOutcome:
    path: Path  # where the signed file was written
    warnings: tuple[str, ...] = ()


def one_month_after(moment: datetime) -> datetime:
    """The same day and time next month, the day clamped to the month's end (31 Jan ->
    28/29 Feb), as the reference's ``relativedelta(months=1)``; whole seconds."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day, microsecond=0)


def _validate(envelope: Envelope, path: Path) -> MetadataKind:
    kind = envelope.payload.get("_type")
    if kind == "link":
        Link.from_dict(envelope.payload, where=f"{path}: link")
        return "link"
    if kind == "layout":
        Layout.from_dict(envelope.payload, where=f"{path}: layout")
        return "layout"
    raise MetadataError(f"{path}: _type must be 'link' or 'layout', got {kind!r}")


def _with_expires(envelope: Envelope, now: datetime) -> Envelope:
    payload = {**envelope.payload, "expires": format_expires(one_month_after(now))}
    # The payload changed, so earlier signatures cannot cover it: a fresh, unsigned envelope.
    return sign_payload(payload, [], dsse=envelope.kind == "dsse")


def _completed(envelope: Envelope, path: Path, now: datetime) -> tuple[Envelope, tuple[str, ...]]:
    if envelope.payload.get("_type") != "layout" or "expires" in envelope.payload:
        return envelope, ()
    envelope = _with_expires(envelope, now)
    warning = (
        f"{path}: the layout has no 'expires'; set it to {envelope.payload['expires']} "
        "(one month from now, as in-toto-sign does)"
    )
    return envelope, (warning,)


def load_metadata(
    path: Path, *, now: datetime | None = None
) -> tuple[Envelope, MetadataKind, tuple[str, ...]]:
    """Read and validate a link or layout file (classic or DSSE), completed as in-toto-sign
    completes it (see the module docstring), and the warnings that says what was added.
    InputError if it is not metadata."""
    data = read_user_file(path)
    try:
        envelope = parse_envelope(data, what=str(path))
        envelope, warnings = _completed(envelope, path, now or datetime.now(UTC))
        return envelope, _validate(envelope, path), warnings
    except MetadataError as exc:
        raise InputError(str(exc)) from exc


def sign_file(
    path: Path,
    signers: Sequence[Signer],
    *,
    output: Path | None = None,
    append: bool = False,
    now: datetime | None = None,
) -> SignOutcome:
    """Sign ``path``; write to ``output``, else a link to ``<step>.<keyid[:8]>.link`` in the
    working folder and a layout over itself."""
    if not signers:
        raise InputError("signing needs at least one key")
    envelope, kind, warnings = load_metadata(path, now=now)
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
    write_metadata(output, dump_envelope(envelope))
    return SignOutcome(path=output, warnings=warnings)


def verify_file(path: Path, keys: Sequence[VerificationKey]) -> None:
    """Raise SignatureError unless every key in ``keys`` has a valid signature on ``path``
    as it is on disk; InputError if it is not metadata."""
    if not keys:
        raise InputError("verifying needs at least one public key")
    load_metadata(path)  # validated as in-toto-sign loads it
    envelope = parse_envelope(read_user_file(path), what=str(path))
    good = verified_keys(envelope, keys)
    missing = [key.keyid[:8] for key in keys if key not in good]
    if missing:
        raise SignatureError(f"{path}: no valid signature by key(s) {', '.join(missing)}")
