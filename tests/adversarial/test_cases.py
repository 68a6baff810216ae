"""Every generated adversarial case, driven through the command line (see runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.runner import case_dirs, case_id, load_expect, run_case

CASES = case_dirs()


def _param(folder: Path) -> object:
    gap = load_expect(folder).get("xfail")
    marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
    return pytest.param(folder, marks=marks, id=case_id(folder))


@pytest.mark.parametrize("folder", [_param(folder) for folder in CASES])
def test_case(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_case(folder, tmp_path, monkeypatch, capsys)


def _one_per_class() -> list[Path]:
    chosen: dict[str, Path] = {}
    for folder in CASES:
        expect = load_expect(folder)
        if not (expect.get("inprocess_only") or expect.get("xfail")):
            chosen.setdefault(folder.parent.name, folder)
    return list(chosen.values())


@pytest.mark.parametrize("folder", _one_per_class(), ids=case_id)
def test_case_as_a_separate_process(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same checks through ``python -m intoto_pip.cli.main``: real exit code, real stderr."""
    run_case(folder, tmp_path, monkeypatch, capsys, subprocess_mode=True)
