"""``intoto-pip demo`` flags: help with an example, --keep refuses a folder in use."""

from __future__ import annotations

from pathlib import Path

import pytest

from intoto_pip.cli.main import main


def test_help_has_an_example_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["demo", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "intoto-pip demo --keep" in out
    assert "exit codes: 0" in out


def test_keep_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine.txt").write_text("precious")
    assert main(["demo", "--keep", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not an empty folder" in err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_keep_refuses_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("")
    assert main(["demo", "--keep", str(target)]) == 2
    assert "name a new or empty one" in capsys.readouterr().err


def test_quiet_and_verbose_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["demo", "-q", "-v"])
    assert stop.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
