"""The artifact rule engine, with the reference's queue semantics.

All materials (or products) of a step or inspection start in a queue. Rules apply in order;
CREATE, DELETE, MODIFY, ALLOW and MATCH consume the queued artifacts they match and that
satisfy them; DISALLOW refuses if it matches anything still queued, and REQUIRE refuses if
its (literal) name is no longer queued. Consuming alone never refuses: a rule list should
end with ``DISALLOW *``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intoto_pip.models.link import Artifacts, Link
from intoto_pip.models.rules import (
    CreateRule,
    DeleteRule,
    DisallowRule,
    MatchRule,
    ModifyRule,
    RequireRule,
    Rule,
    rule_to_str,
)
from intoto_pip.verify.patterns import compile_pattern
from intoto_pip.verify.result import (
    ArtifactRuleError,
    ItemKind,
    RuleField,
    RuleOutcome,
    show_names,
)


@dataclass(frozen=True, kw_only=True)
class RuleSubject:
    """Whose rules these are, and the artifacts they judge."""

    item: str
    kind: ItemKind
    field: RuleField
    link: Link

    @property
    def artifacts(self) -> Artifacts:
        return self.link.materials if self.field == "expected_materials" else self.link.products

    @property
    def noun(self) -> str:
        return "materials" if self.field == "expected_materials" else "products"


def _consumed_by_match(
    rule: MatchRule, queue: set[str], subject: RuleSubject, links: Mapping[str, Link]
) -> list[str]:
    dest_link = links.get(rule.dest_name)
    if dest_link is None:
        # As in the reference: a MATCH against a step with no link consumes nothing.
        return []
    dest = dest_link.materials if rule.dest_type == "materials" else dest_link.products
    source = subject.artifacts
    pattern = compile_pattern(rule.pattern)
    if rule.source_prefix:
        # The prefix is cut off before globbing, so wildcards never apply to it.
        # Backslashes in prefixes become "/" as in the reference, on every platform, so a
        # layout written with Windows separators means the same to both verifiers.
        prefix = posixpath.join(rule.source_prefix, "").replace("\\", "/")
        cut = len(prefix)
        pairs = [
            (name, name[cut:])
            for name in queue
            if name.startswith(prefix) and pattern.matches(name[cut:])
        ]
    else:
        pairs = [(name, name) for name in pattern.filter(queue)]
    consumed = []
    for name, relative in pairs:
        dest_name = relative
        if rule.dest_prefix:
            dest_name = posixpath.join(rule.dest_prefix, relative).replace("\\", "/")
        dest_hashes = dest.get(dest_name)
        if dest_hashes is not None and dest_hashes == source[name]:
            consumed.append(name)
    return consumed


def _consumed(
    rule: Rule, queue: set[str], subject: RuleSubject, links: Mapping[str, Link]
) -> list[str]:
    """What a consuming rule takes from the queue."""
    if isinstance(rule, MatchRule):
        return _consumed_by_match(rule, queue, subject, links)
    matched = compile_pattern(rule.pattern).filter(queue)
    materials, products = subject.link.materials, subject.link.products
    if isinstance(rule, CreateRule):
        return [name for name in matched if name in products and name not in materials]
    if isinstance(rule, DeleteRule):
        return [name for name in matched if name in materials and name not in products]
    if isinstance(rule, ModifyRule):
        return [
            name
            for name in matched
            if name in materials and name in products and materials[name] != products[name]
        ]
    return matched  # ALLOW


def _outcome(
    subject: RuleSubject, index: int, rule: Rule, before: int, after: int, offending: list[str]
) -> RuleOutcome:
    return RuleOutcome(
        item=subject.item,
        item_kind=subject.kind,
        field=subject.field,
        index=index,
        rule=rule_to_str(rule),
        passed=not offending,
        consumed=before - after,
        queue_before=before,
        queue_after=after,
        offending=tuple(sorted(offending)),
    )


def _refusal(subject: RuleSubject, rule: Rule, outcome: RuleOutcome) -> ArtifactRuleError:
    if isinstance(rule, RequireRule):
        why = (
            "an earlier rule consumed it"
            if rule.pattern in subject.artifacts
            else f"it is not among the {subject.noun}"
        )
        detail = f"did not find {rule.pattern!r} ({why})"
    else:
        detail = f"disallowed {subject.noun}: {show_names(outcome.offending)}"
    return ArtifactRuleError(f"{outcome.location} {detail}", outcome)


def verify_item_rules(
    subject: RuleSubject, rules: Sequence[Rule], links: Mapping[str, Link]
) -> list[RuleOutcome]:
    """Apply ``rules`` to ``subject``; raise ``ArtifactRuleError`` at the first refusal.

    ``links`` maps step (and, for inspection rules, inspection) names to the link MATCH
    rules compare against.
    """
    queue = set(subject.artifacts)
    outcomes: list[RuleOutcome] = []
    for index, rule in enumerate(rules):
        before = len(queue)
        offending: list[str] = []
        if isinstance(rule, DisallowRule):
            offending = compile_pattern(rule.pattern).filter(queue)
        elif isinstance(rule, RequireRule):
            # REQUIRE names one file literally and looks only at what is still queued.
            offending = [] if rule.pattern in queue else [rule.pattern]
        else:
            queue.difference_update(_consumed(rule, queue, subject, links))
        outcome = _outcome(subject, index, rule, before, len(queue), offending)
        outcomes.append(outcome)
        if offending:
            raise _refusal(subject, rule, outcome)
    return outcomes
