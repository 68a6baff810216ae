"""The links of each step: which are present, which are validly signed, and whether enough
distinct functionaries agree.

The reference loads ``<step>.<keyid[:8]>.link`` for every authorised keyid, drops links whose
signature does not verify with that keyid's key, and counts what is left by keyid. We count
distinct key material instead, so one key listed under two keyids is one functionary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from intoto_pip.crypto.gpg_keys import GpgExpiredError, GpgKey
from intoto_pip.crypto.keys import count_distinct
from intoto_pip.errors import MetadataError, RuleError, SignatureError
from intoto_pip.models.envelope import Envelope, signature_problems, verified_keys
from intoto_pip.models.layout import Layout, Step
from intoto_pip.models.link import Artifacts, Link
from intoto_pip.models.statement import STATEMENT_TYPE, link_from_statement
from intoto_pip.verify.result import RejectedLink, show_names


class LinkSource(Protocol):
    """Where the engine finds link files; the façade reads them from disk."""

    def links_for(self, step_name: str, keyids: Sequence[str]) -> Mapping[str, Envelope]:
        """The envelopes present for ``keyids`` (missing ones left out); MetadataError if
        a present file is not a well-formed envelope."""
        ...

    def sublayout_source(self, step_name: str, keyid: str) -> LinkSource:
        """The source for the links of a sublayout a functionary signed for ``step_name``."""
        ...

    def location(self, step_name: str, keyid: str) -> str:
        """How to name the link file of ``step_name`` by ``keyid`` in a message."""
        ...


@dataclass(frozen=True, kw_only=True)
class SignedLink:
    """A link (or sublayout) validly signed by an authorised key of its step."""

    keyid: str
    envelope: Envelope
    link: Link | None  # None: the payload is a sublayout


@dataclass(frozen=True, kw_only=True)
class StepLinks:
    step: Step
    valid: tuple[SignedLink, ...]
    missing: tuple[str, ...]
    rejected: tuple[RejectedLink, ...]


def _parse_payload(envelope: Envelope, where: str) -> Link | None:
    kind = envelope.payload.get("_type")
    if kind == "link":
        return Link.from_dict(envelope.payload, where=where)
    if kind == "layout":
        return None  # verified as a sublayout later, with its own parser and checks
    if kind == STATEMENT_TYPE:
        if envelope.kind != "dsse":
            raise MetadataError(f"{where}: an in-toto Statement comes in a DSSE envelope")
        return link_from_statement(envelope.payload, where=where)
    raise MetadataError(
        f"{where}._type: expected 'link' or 'layout', got {kind!r} "
        f"(or an in-toto Statement, {STATEMENT_TYPE!r})"
    )


def _check_one(
    layout: Layout, step: Step, keyid: str, envelope: Envelope, where: str
) -> SignedLink | RejectedLink:
    # Parse first: a malformed file is refused outright, signed or not, as the reference does.
    link = _parse_payload(envelope, where)
    key = layout.keys[keyid]
    try:
        signed = verified_keys(envelope, [key], strict_expiry=True)
    except GpgExpiredError as exc:  # not counted, as the reference skips such a link
        return RejectedLink(keyid=keyid, reason=f"{where}: {exc}")
    if not signed:
        # Set aside, not fatal (the reference's "invalid link ignored"); the threshold
        # message names it with every reason its signatures could not be checked.
        problems = "".join(f"; {problem}" for problem in signature_problems(envelope, key))
        return RejectedLink(
            keyid=keyid, reason=f"{where}: no valid signature by key {keyid}{problems}"
        )
    if link is not None and link.name != step.name:
        raise MetadataError(f"{where}: signed link name {link.name!r} is not step {step.name!r}")
    return SignedLink(keyid=keyid, envelope=envelope, link=link)


def _file_keyids(layout: Layout, keyid: str) -> tuple[str, ...]:
    """Keyids a link by ``keyid`` may be filed under: a GPG key's subkeys name theirs."""
    key = layout.keys[keyid]
    subkeys = key.subkeys if isinstance(key, GpgKey) else ()
    return (keyid, *(sub.keyid for sub in subkeys))


def load_step_links(layout: Layout, step: Step, source: LinkSource) -> StepLinks:
    """Load and check the links of ``step``; SignatureError if the threshold is not met."""
    # A keyid missing from the layout's keys can never sign (the engine warns about it).
    keyids = tuple(keyid for keyid in dict.fromkeys(step.pubkeys) if keyid in layout.keys)
    filed = {keyid: _file_keyids(layout, keyid) for keyid in keyids}
    envelopes = source.links_for(step.name, tuple(dict.fromkeys(sum(filed.values(), ()))))
    valid: list[SignedLink] = []
    missing: list[str] = []
    rejected: list[RejectedLink] = []
    for keyid in keyids:
        present = [name for name in filed[keyid] if name in envelopes]
        if not present:
            missing.append(keyid)
        for name in present:  # the first valid one counts for the key
            location = source.location(step.name, name)
            checked = _check_one(layout, step, keyid, envelopes[name], location)
            if isinstance(checked, SignedLink):
                valid.append(checked)
                break
            rejected.append(checked)
    found = StepLinks(
        step=step, valid=tuple(valid), missing=tuple(missing), rejected=tuple(rejected)
    )
    _check_threshold(layout, found, source)
    return found


def _check_threshold(layout: Layout, found: StepLinks, source: LinkSource) -> None:
    step = found.step
    distinct = count_distinct(layout.keys[item.keyid] for item in found.valid)
    if distinct >= step.threshold:
        return
    details = [item.reason for item in found.rejected]
    if found.missing:
        names = [source.location(step.name, keyid) for keyid in found.missing]
        details.append(f"missing: {show_names(names)}")
    raise SignatureError(
        f"step {step.name!r} needs {step.threshold} link(s) signed by distinct authorised "
        f"keys, found {distinct}" + (f" ({'; '.join(details)})" if details else "")
    )


def _differences(first: Artifacts, second: Artifacts) -> list[str]:
    if first == second:
        return []
    names = first.keys() ^ second.keys()
    names |= {name for name in first.keys() & second.keys() if first[name] != second[name]}
    return sorted(names)


def check_agreement(step: Step, links: Sequence[tuple[str, Link]], source: LinkSource) -> None:
    """With threshold > 1, every valid link of a step must report the same artifacts."""
    if step.threshold <= 1 or len(links) < 2:
        return
    first_keyid, first = links[0]
    for keyid, other in links[1:]:
        for noun in ("materials", "products"):
            differ = _differences(getattr(first, noun), getattr(other, noun))
            if differ:
                raise RuleError(
                    f"step {step.name!r}: links {source.location(step.name, first_keyid)} and "
                    f"{source.location(step.name, keyid)} report different {noun}: "
                    f"{show_names(differ)}"
                )
