"""A lock's attestation-identities as pins, joined with the policy's: both must hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from intoto_pip.errors import InputError
from intoto_pip.install.lock_trust import compatible, lock_pins, pinned_policy
from intoto_pip.install.pylock import LockedFile
from intoto_pip.models.publisher import PublisherPin, parse_publisher_spec
from intoto_pip.verify.policy import Policy


def _pin(
    spec: str, source: str = "pylock.toml: packages[0].attestation-identities[0]"
) -> PublisherPin:
    return parse_publisher_spec(spec, where=source)


def _locked(*identities: PublisherPin) -> LockedFile:
    return LockedFile(
        name="x",
        version="1.0",
        filename="x-1.0-py3-none-any.whl",
        url="https://files.example/x-1.0-py3-none-any.whl",
        path=None,
        size=1,
        hashes={"sha256": "a" * 64},
        identities=identities,
        index=None,
        where="pylock.toml: packages[0].wheels[0]",
        package_where="pylock.toml: packages[0]",
        is_wheel=True,
        direct=False,
    )


def test_pins_are_compatible_when_one_publisher_could_satisfy_both() -> None:
    assert compatible(_pin("github:o/r"), _pin("github:O/R@release.yml"))
    assert compatible(_pin("github:o/r@release.yml"), _pin("github:o/r@release.yml"))
    assert not compatible(_pin("github:o/r@a.yml"), _pin("github:o/r@b.yml"))
    assert not compatible(_pin("github:o/r"), _pin("github:o/other"))
    assert not compatible(_pin("github:o/r"), _pin("gitlab:o/r"))
    assert compatible(_pin("google:a@b.c"), _pin("google:A@b.c"))


def test_the_lock_pins_what_the_policy_does_not() -> None:
    policy = pinned_policy(Policy(), lock_pins(Policy(), [_locked(_pin("github:o/r@r.yml"))]))
    pin = policy.trust_for("x", ()).publisher
    assert pin is not None and (pin.repository, pin.workflow) == ("o/r", "r.yml")
    assert policy.trust_for("other", ()).publisher is None


def test_a_policy_pin_and_a_lock_identity_narrow_each_other() -> None:
    policy = Policy(publishers={"x": _pin("github:o/r@release.yml", "--publisher x=...")})
    (pin,) = lock_pins(policy, [_locked(_pin("github:o/r"))])["x"]
    assert pin.workflow == "release.yml"
    assert pin.source == "--publisher x=... and pylock.toml: packages[0].attestation-identities[0]"


def test_a_lock_identity_the_policy_contradicts_is_refused_naming_both() -> None:
    policy = Policy(publishers={"x": _pin("github:o/r", "policy p.toml: projects.x.publisher")})
    with pytest.raises(InputError) as caught:
        lock_pins(policy, [_locked(_pin("github:evil/r"), _pin("gitlab:o/r"))])
    message = str(caught.value)
    assert message.startswith("pylock.toml: packages[0].attestation-identities: ")
    assert "published by GitHub evil/r (any workflow) or GitLab o/r (any workflow)" in message
    assert "but policy p.toml: projects.x.publisher pins it to GitHub o/r" in message


def test_several_identities_keep_only_those_the_policy_allows(tmp_path: Path) -> None:
    policy = Policy(publishers={"x": _pin("github:o/r", "--publisher")})
    kept = lock_pins(policy, [_locked(_pin("github:other/r"), _pin("github:o/r@a.yml"))])["x"]
    assert [(p.repository, p.workflow) for p in kept] == [("o/r", "a.yml")]
