"""The GPG verification benchmark runs on the committed fixtures and reports against its target."""

from __future__ import annotations

from benchmarks.gpg_verify import TARGET_MS, main, measure, report


def test_the_benchmark_verifies_every_link_and_reports_the_overhead(capsys) -> None:  # type: ignore[no-untyped-def]
    timings = measure(rounds=3)
    assert [t.label for t in timings] == ["gpg rsa", "gpg dsa", "gpg ed25519", "pem ed25519"]
    assert f"the {TARGET_MS:g} ms target" in report(timings)
    assert main(["--rounds", "2"]) == 0
    assert "| gpg rsa |" in capsys.readouterr().out
