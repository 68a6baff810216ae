"""The verification pipeline, in the reference's order, without any I/O.

layout signatures -> expiry -> parameter substitution -> links and their signatures and
thresholds -> sublayouts -> command alignment (a warning) -> threshold agreement -> step
rules -> inspections -> inspection rules.

The engine takes a parsed envelope, the trusted layout keys, a ``LinkSource`` and an
``InspectionRunner``; the façade (``folder.py``) supplies them from disk and subprocesses.
A refusal raises a ``VerificationError`` subclass naming the step or inspection, the rule,
the artifacts and, for signatures, the key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.crypto.keys import VerificationKey
from intoto_pip.errors import RuleError, SignatureError, VerificationError
from intoto_pip.models.envelope import Envelope, signature_problems, verified_keys
from intoto_pip.models.layout import Inspection, Layout, Step, format_expires
from intoto_pip.models.link import Link
from intoto_pip.models.rules import Rule
from intoto_pip.verify.links import LinkSource, StepLinks, check_agreement, load_step_links
from intoto_pip.verify.params import substitute_layout
from intoto_pip.verify.result import (
    InspectionOutcome,
    ItemKind,
    RuleField,
    RuleOutcome,
    StepOutcome,
    VerificationResult,
)
from intoto_pip.verify.rules import RuleSubject, verify_item_rules

InspectionRunner = Callable[[Inspection], Link]
MAX_SUBLAYOUT_DEPTH = 8
_STDERR_HINT = 200


@dataclass(frozen=True, kw_only=True)
class _Context:
    links: LinkSource
    run_inspection: InspectionRunner | None
    now: datetime
    name: str  # the step a sublayout stands for ("" for the root layout)
    depth: int
    skip_inspections: bool = False


@dataclass(frozen=True, kw_only=True)
class CheckedLayout:
    """A root layout whose signatures verified with ``layout_keys`` at ``now``, parsed.

    Many supply chains under one layout (every installed distribution a producer released
    with it) need its signatures checked and its text parsed once (``check_layout``); each
    verification still judges expiry at its own time.
    """

    envelope: Envelope
    layout_keys: tuple[VerificationKey, ...]
    now: datetime
    signers: tuple[VerificationKey, ...]
    layout: Layout

    def serves(
        self, envelope: Envelope, layout_keys: Sequence[VerificationKey], now: datetime
    ) -> bool:
        """Whether this is the check of ``envelope`` with exactly ``layout_keys``, and holds
        at ``now``: a GPG key's expiry depends on the time, so with one the time must match."""
        if envelope is not self.envelope or tuple(layout_keys) != self.layout_keys:
            return False
        return _aware(now) == self.now or not any(isinstance(k, GpgKey) for k in self.layout_keys)


def check_layout(
    envelope: Envelope, *, layout_keys: Sequence[VerificationKey], now: datetime
) -> CheckedLayout:
    """Verify a root layout's signatures and parse it; a refusal raises as ``verify_layout``
    would. Expiry is not judged here: ``verify_layout`` does, at its own ``now``."""
    now = _aware(now)
    signers = _check_layout_signatures(envelope, layout_keys, "layout", now)
    layout = Layout.from_dict(envelope.payload, where="layout")
    return CheckedLayout(
        envelope=envelope,
        layout_keys=tuple(layout_keys),
        now=now,
        signers=tuple(signers),
        layout=layout,
    )


def verify_layout(
    envelope: Envelope,
    *,
    layout_keys: Sequence[VerificationKey],
    links: LinkSource,
    params: Mapping[str, str] | None,
    run_inspection: InspectionRunner | None,
    now: datetime,
    skip_inspections: bool = False,
    checked: CheckedLayout | None = None,
) -> VerificationResult:
    """Verify a supply chain; return what was found, or raise a VerificationError.

    ``params`` is None for no substitution at all (the reference's default); a mapping
    turns on substitution, and then a placeholder without a value is a refusal.
    ``skip_inspections`` leaves out the inspections and their rules (re-checking evidence
    after installation, when the archive they ran on is gone); the result then lists none.
    ``checked``: ``check_layout`` of this very envelope with these keys, whose signature
    checks then stand (used only if it ``serves`` them, and, for a GPG key, whose expiry
    depends on the time, only if it was made at this ``now``).
    """
    now = _aware(now)
    context = _Context(
        links=links,
        run_inspection=run_inspection,
        now=now,
        name="",
        depth=0,
        skip_inspections=skip_inspections,
    )
    if checked is not None and not checked.serves(envelope, layout_keys, now):
        checked = None
    return _verify(envelope, layout_keys, params, context, checked)


def _aware(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _verify(
    envelope: Envelope,
    layout_keys: Sequence[VerificationKey],
    params: Mapping[str, str] | None,
    context: _Context,
    checked: CheckedLayout | None = None,
) -> VerificationResult:
    if checked is None:
        signers = _check_layout_signatures(envelope, layout_keys, _what(context), context.now)
        layout = _parse_layout(envelope, context)
    else:
        signers = list(checked.signers)
        layout = _judge_layout(checked.layout, context)
    if params is not None:
        layout = substitute_layout(layout, params)
    found = [load_step_links(layout, step, context.links) for step in layout.steps]
    chain, sublayouts = _resolve_sublayouts(layout, found, context)
    warnings = _key_warnings(layout) + _command_warnings(layout, chain, context.links)
    for step in layout.steps:
        check_agreement(step, chain[step.name], context.links)
    used = {step.name: chain[step.name][0][1] for step in layout.steps}
    outcomes = _item_rules(layout.steps, "step", used)
    if not context.skip_inspections:
        inspection_links, inspected = _run_inspections(layout, context)
        outcomes += _item_rules(layout.inspect, "inspection", {**used, **inspection_links})
    else:
        inspected = []
    return VerificationResult(
        layout_signers=tuple(key.keyid for key in signers),
        expires=layout.expires,
        steps=tuple(_step_outcome(item, chain, sublayouts) for item in found),
        inspections=tuple(inspected),
        rules=tuple(outcomes),
        summary=_summary_link(layout, used, context.name),
        warnings=tuple(warnings),
    )


def _what(context: _Context) -> str:
    return f"sublayout for step {context.name!r}" if context.name else "layout"


def _check_layout_signatures(
    envelope: Envelope, layout_keys: Sequence[VerificationKey], what: str, now: datetime
) -> list[VerificationKey]:
    if not layout_keys:
        raise SignatureError(f"{what}: no key to verify it with (give at least one layout key)")
    try:
        signers = verified_keys(envelope, layout_keys, now=now, strict_expiry=True)
    except SignatureError as exc:  # a GPG layout key that has expired, with its date
        raise SignatureError(f"{what}: {exc}") from exc
    for key in layout_keys:
        if key not in signers:
            problems = "".join(f"; {problem}" for problem in signature_problems(envelope, key))
            raise SignatureError(f"{what}: no valid signature by key {key.keyid}{problems}")
    return signers


def _parse_layout(envelope: Envelope, context: _Context) -> Layout:
    return _judge_layout(Layout.from_dict(envelope.payload, where=_what(context)), context)


def _judge_layout(layout: Layout, context: _Context) -> Layout:
    what = _what(context)
    if layout.expires <= context.now:
        raise VerificationError(f"{what} expired at {format_expires(layout.expires)}")
    if context.name and layout.inspect:
        # Inspections run commands; only the layout the user's keys signed may ask for that.
        raise VerificationError(
            f"{what}: a sublayout must not have inspections "
            f"(found {', '.join(repr(item.name) for item in layout.inspect)})"
        )
    return layout


Chain = dict[str, list[tuple[str, Link]]]
Sublayouts = dict[str, list[tuple[str, VerificationResult]]]


def _resolve_sublayouts(
    layout: Layout, found: list[StepLinks], context: _Context
) -> tuple[Chain, Sublayouts]:
    """Replace every sublayout by the summary link of its own verification."""
    chain: Chain = {}
    sublayouts: Sublayouts = {}
    for item in found:
        step_name = item.step.name
        chain[step_name] = []
        sublayouts[step_name] = []
        for signed in item.valid:
            if signed.link is not None:
                chain[step_name].append((signed.keyid, signed.link))
                continue
            result = _verify_sublayout(layout, step_name, signed.keyid, signed.envelope, context)
            sublayouts[step_name].append((signed.keyid, result))
            chain[step_name].append((signed.keyid, result.summary))
    return chain, sublayouts


def _verify_sublayout(
    layout: Layout, step_name: str, keyid: str, envelope: Envelope, context: _Context
) -> VerificationResult:
    if context.depth >= MAX_SUBLAYOUT_DEPTH:
        raise VerificationError(
            f"step {step_name!r}: sublayouts nested deeper than {MAX_SUBLAYOUT_DEPTH} levels"
        )
    inner = _Context(
        links=context.links.sublayout_source(step_name, keyid),
        run_inspection=None,
        now=context.now,
        name=step_name,
        depth=context.depth + 1,
    )
    # As in the reference, parameters are not passed down to sublayouts.
    return _verify(envelope, [layout.keys[keyid]], None, inner)


def _key_warnings(layout: Layout) -> list[str]:
    return [
        f"step {step_name!r}: pubkeys names keyid {keyid!r}, which is not in the layout's keys "
        "(ignored: it can never sign)"
        for step_name, keyid in layout.unknown_pubkeys()
    ]


def _command_warnings(layout: Layout, chain: Chain, source: LinkSource) -> list[str]:
    warnings = []
    for step in layout.steps:
        for keyid, link in chain[step.name]:
            if link.command != step.expected_command:
                warnings.append(
                    f"step {step.name!r}: {source.location(step.name, keyid)} ran "
                    f"{list(link.command)!r}, the layout expects {list(step.expected_command)!r}"
                )
    return warnings


def _item_rules(
    items: Sequence[Step | Inspection], kind: ItemKind, links: Mapping[str, Link]
) -> list[RuleOutcome]:
    outcomes: list[RuleOutcome] = []
    for item in items:
        link = links[item.name]
        fields: tuple[tuple[RuleField, tuple[Rule, ...]], ...] = (
            ("expected_materials", item.expected_materials),
            ("expected_products", item.expected_products),
        )
        for field, rules in fields:
            subject = RuleSubject(item=item.name, kind=kind, field=field, link=link)
            outcomes += verify_item_rules(subject, rules, links)
    return outcomes


def _run_inspections(
    layout: Layout, context: _Context
) -> tuple[dict[str, Link], list[InspectionOutcome]]:
    """Run every inspection (all before any inspection rule, as the reference does)."""
    links: dict[str, Link] = {}
    outcomes: list[InspectionOutcome] = []
    runner = context.run_inspection
    if runner is None:
        if layout.inspect:
            raise VerificationError("layout has inspections, but no way to run them was given")
        return links, outcomes
    for inspection in layout.inspect:
        link = runner(inspection)
        _check_return_value(inspection, link)
        links[inspection.name] = link
        outcomes.append(
            InspectionOutcome(
                name=inspection.name,
                command=inspection.run,
                return_value=0,
                materials=len(link.materials),
                products=len(link.products),
            )
        )
    return links, outcomes


def _check_return_value(inspection: Inspection, link: Link) -> None:
    value = link.byproducts.get("return-value")
    if type(value) is int and value == 0:
        return
    message = (
        f"inspection {inspection.name!r}: command {' '.join(inspection.run)!r} "
        f"exited with {value!r}"
    )
    stderr = link.byproducts.get("stderr")
    if isinstance(stderr, str) and stderr.strip():
        message += f" ({stderr.strip().splitlines()[-1][:_STDERR_HINT]})"
    raise RuleError(message)


def _step_outcome(item: StepLinks, chain: Chain, sublayouts: Sublayouts) -> StepOutcome:
    name = item.step.name
    return StepOutcome(
        name=name,
        threshold=item.step.threshold,
        signers=tuple(keyid for keyid, _ in chain[name]),
        used=chain[name][0][0],
        missing=item.missing,
        rejected=item.rejected,
        sublayouts=tuple(sublayouts[name]),
    )


def _summary_link(layout: Layout, used: Mapping[str, Link], name: str) -> Link:
    """What a sublayout stands for in its parent: the first step's materials, the last
    step's products (the reference's summary link)."""
    if not layout.steps:
        return Link(name=name)
    first = used[layout.steps[0].name]
    last = used[layout.steps[-1].name]
    return Link(
        name=name,
        command=last.command,
        materials=first.materials,
        products=last.products,
        byproducts=last.byproducts,
    )
