"""Real wheels from PyPI install with intoto-pip: unverified, and verified with evidence attached.

Every pinned wheel (pure and binary) is installed twice, each time into its mode's venv by its
own ``intoto-pip install ARCHIVE --no-deps`` (see installs.py): once as PyPI serves it with
``--allow-unverified :all:``, once after the producer commands recorded its members and
attached a signed layout and build link (see producer.py), with ``--layout-key``. Then its
top-level modules must import. A refusal of any of them fails its test: intoto-pip must never
refuse what the real world ships.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realworld.installs import SharedVenv, import_error
from tests.realworld.pins import PINNED_PLATFORM, Pin, load_pins, pin_id

WHEELS = tuple(pin for pin in load_pins() if pin.kind == "wheel")
BY_NAME = {pin.name: pin for pin in WHEELS}

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        not PINNED_PLATFORM, reason="the pins are wheels for CPython 3.11 on Linux x86_64"
    ),
]


def installs_and_imports(venv: SharedVenv, pin: Pin, scratch: Path) -> None:
    refused_needs = venv.install_needs(pin, BY_NAME)
    outcome = venv.install(pin)
    assert outcome.error is None, f"{pin.file} refused ({venv.mode}): {outcome.error}"
    assert not refused_needs, f"{pin.name} installed, but not what it needs: {refused_needs}"
    error = import_error(venv.python, pin.imports, scratch)
    assert error is None, error


@pytest.mark.parametrize("pin", WHEELS, ids=pin_id)
def test_wheel_installs_unverified(pin: Pin, unverified_venv: SharedVenv, tmp_path: Path) -> None:
    installs_and_imports(unverified_venv, pin, tmp_path)


@pytest.mark.parametrize("pin", WHEELS, ids=pin_id)
def test_wheel_installs_verified(pin: Pin, verified_venv: SharedVenv, tmp_path: Path) -> None:
    installs_and_imports(verified_venv, pin, tmp_path)
