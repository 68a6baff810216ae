"""Every generated adversarial case, driven through the command line (see runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.runner import case_dirs, case_id, load_expect, run_case

CASES = case_dirs()


@pytest.mark.parametrize("folder", CASES, ids=[case_id(folder) for folder in CASES])
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
        if not load_expect(folder).get("inprocess_only"):
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
