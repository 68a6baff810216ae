"""The lock benchmark runs its three installs and reports their ratios."""

from __future__ import annotations

import pytest

from benchmarks.locks import SIDES, main

pytestmark = pytest.mark.slow


def test_the_three_installs_are_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--packages", "2", "--modules", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert all(f"| {side} | " in out for side in SIDES)
    assert "lock / resolve = " in out and "lock / uv = " in out
