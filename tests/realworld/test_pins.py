"""The pinned list keeps the suite's promise: enough real distributions, of bounded size.

Offline: these read pins.toml only (no marker; they run everywhere).
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from tests.realworld.pins import Pin, load_pins

PINS = load_pins()
MB = 1_000_000


def test_at_least_100_wheels_and_10_sdists_pure_and_binary() -> None:
    wheels = [pin for pin in PINS if pin.kind == "wheel"]
    sdists = [pin for pin in PINS if pin.kind == "sdist"]
    binary = [pin for pin in wheels if not pin.file.endswith("-none-any.whl")]
    assert len(wheels) >= 100 and len(sdists) >= 10
    assert 20 <= len(binary) <= len(wheels) - 20


def test_each_file_at_most_50_mb_and_all_under_400_mb() -> None:
    assert [pin.file for pin in PINS if pin.size > 50 * MB] == []
    assert sum(pin.size for pin in PINS) < 400 * MB


def test_every_pin_names_its_file_exactly() -> None:
    for pin in PINS:
        assert re.fullmatch("[0-9a-f]{64}", pin.sha256), pin.file
        if pin.kind != "sdist":
            name, version, _, _ = parse_wheel_filename(pin.file)
        else:
            name, version = parse_sdist_filename(pin.file)
        assert (name, str(version)) == (canonicalize_name(pin.name), pin.version), pin.file


def test_one_pin_per_project_and_kind_and_needs_are_pinned_wheels() -> None:
    keys = [(pin.kind, canonicalize_name(pin.name)) for pin in PINS]
    assert len(keys) == len(set(keys))
    wheel_names = {pin.name for pin in PINS if pin.kind == "wheel"}
    assert {need for pin in PINS for need in pin.needs} <= wheel_names


def _importable(pin: Pin) -> bool:
    return all(re.fullmatch(r"[A-Za-z_][\w.]*", name) for name in pin.imports)


def test_every_distribution_has_a_module_to_import() -> None:
    assert [pin.file for pin in PINS if not pin.imports or not _importable(pin)] == []
