"""The rules of the modes, the pin and the trust store, as a table."""

from __future__ import annotations

import pytest

from intoto_pip.models.publisher import PublisherIdentity, parse_publisher_spec
from intoto_pip.verify.provenance_policy import Outcome, decide

REAL = PublisherIdentity(kind="GitHub", repository="o/r", workflow="release.yml", issuer="i")
OTHER = PublisherIdentity(kind="GitHub", repository="o/r", workflow="steal.yml", issuer="i")
VERIFIED = Outcome(identity=REAL, predicate_types=("p",), source="s")
FAILED = Outcome(failure="bad signature", problem="signature")
ABSENT = Outcome(looked_in="https://index/simple/p/")
PIN = parse_publisher_spec("github:o/r@release.yml")

# (outcome, mode, pinned, recorded) -> (accepted, problem, record)
CASES = [
    (VERIFIED, "warn", False, None, True, "", False),
    (VERIFIED, "tofu", False, None, True, "", True),
    (VERIFIED, "tofu", False, REAL, True, "", False),
    (VERIFIED, "tofu", False, OTHER, False, "changed-publisher", False),
    (VERIFIED, "require", False, OTHER, False, "changed-publisher", False),
    (VERIFIED, "off", True, None, True, "", False),
    (Outcome(identity=OTHER), "off", True, None, False, "publisher", False),
    (FAILED, "warn", False, None, True, "signature", False),
    (FAILED, "tofu", False, None, False, "signature", False),
    (FAILED, "off", True, None, False, "signature", False),
    (ABSENT, "warn", False, REAL, True, "absent", False),
    (ABSENT, "tofu", False, None, True, "absent", False),
    (ABSENT, "tofu", False, REAL, False, "downgrade", False),
    (ABSENT, "require", False, None, False, "absent", False),
    (ABSENT, "off", True, None, False, "absent", False),
]


@pytest.mark.parametrize(
    ("outcome", "mode", "pinned", "recorded", "accepted", "problem", "record"), CASES
)
def test_decide(
    outcome: Outcome,
    mode: str,
    pinned: bool,
    recorded: PublisherIdentity | None,
    accepted: bool,
    problem: str,
    record: bool,
) -> None:
    verdict = decide("p", outcome, mode=mode, pin=PIN if pinned else None, recorded=recorded)
    assert (verdict.accepted, verdict.problem, verdict.record) == (accepted, problem, record)
    assert verdict.pinned == (pinned and accepted and outcome.identity is not None)


def test_a_downgrade_names_the_identity_it_had_and_how_to_forget_it() -> None:
    verdict = decide("p", ABSENT, mode="tofu", pin=None, recorded=REAL)
    assert "GitHub o/r, workflow release.yml" in verdict.reason
    assert "intoto-pip trust forget p" in verdict.reason


def test_a_pinned_project_without_provenance_says_mirrors_strip_it() -> None:
    verdict = decide("p", ABSENT, mode="off", pin=PIN, recorded=None)
    assert "mirrors often strip" in verdict.reason and "https://index/simple/p/" in verdict.reason


def test_an_environment_in_the_pin_is_noted_as_unchecked() -> None:
    from dataclasses import replace

    pin = replace(PIN, environment="pypi")
    verdict = decide("p", VERIFIED, mode="off", pin=pin, recorded=None)
    assert verdict.accepted and any("not checked" in note for note in verdict.notes)
