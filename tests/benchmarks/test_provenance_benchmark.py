"""The provenance benchmark measures what it says, and --version stays free of sigstore."""

from __future__ import annotations

from benchmarks.provenance import FILES, measure, startup


def test_measure_checks_every_file() -> None:
    result = measure(1)
    assert all(value > 0 for value in result.values())
    assert sum(key.startswith("check ") for key in result) == len(FILES)


def test_version_startup_does_not_import_sigstore() -> None:
    seconds, loaded = startup(1)
    assert seconds > 0 and loaded is False
