"""The runner's checks can fail: each is shown catching the fault it exists for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fixtures.adversarial import OUT
from fixtures.adversarial_cases.common import Chain, Keys, accepted, inspection, write_case
from tests.adversarial.runner import Outcome, check_files, check_reason, prepare, run_case, snapshot

CONTROL = OUT / "metadata" / "reference-written-fields-accepted"


def _variant(tmp_path: Path, **changes: Any) -> Path:
    folder = tmp_path / "cases" / "metadata" / "variant"
    shutil.copytree(CONTROL, folder)
    expect = json.loads((folder / "expect.json").read_text())
    expect.update(changes)
    (folder / "expect.json").write_text(json.dumps(expect))
    return folder


def _run(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with monkeypatch.context() as patch:
        run_case(folder, tmp_path / "run", patch, capsys)


def test_the_control_case_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(_variant(tmp_path), tmp_path, monkeypatch, capsys)


@pytest.mark.parametrize(
    "changes",
    [
        {"exit": 1},
        {"reason": "something else"},
        {"spawns": []},
        {"created": []},
        {"stderr": "a warning that is not there"},
    ],
    ids=["exit code", "reason", "unexpected process", "unexpected file", "missing warning"],
)
def test_a_wrong_expectation_fails(
    changes: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(AssertionError):
        _run(_variant(tmp_path, **changes), tmp_path, monkeypatch, capsys)


def test_a_command_writing_pwned_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = Chain.base(Keys())
    run = ["sh", "-c", "echo pwned > PWNED"]
    chain.layout["inspect"] = [inspection("pwn", run)]
    case = accepted("metadata", "pwn", "a layout that writes PWNED", chain.files(), spawns=[run])
    write_case(tmp_path / "cases", case)
    with pytest.raises(AssertionError, match="did not name ran"):
        _run(tmp_path / "cases" / "metadata" / "pwn", tmp_path, monkeypatch, capsys)


def test_a_file_left_in_the_temp_folder_is_caught(tmp_path: Path) -> None:
    sandbox = prepare(CONTROL, tmp_path)
    before = snapshot(sandbox.box)
    (sandbox.tmp / "intoto-pip-leftover").mkdir()
    with pytest.raises(AssertionError, match="temp folder"):
        check_files(sandbox, before)


def test_a_traceback_or_two_error_lines_are_caught() -> None:
    expect = {"exit": 1, "reason": "boom"}
    with pytest.raises(AssertionError):
        check_reason(
            Outcome(1, "", "Traceback (most recent call last):\nintoto-pip: error: boom\n"), expect
        )
    with pytest.raises(AssertionError):
        check_reason(Outcome(1, "", "intoto-pip: error: boom\nintoto-pip: error: boom\n"), expect)
    check_reason(Outcome(1, "", "intoto-pip: error: boom\n"), expect)
