"""The top-level dispatcher: a mistyped command gets a suggestion, a mistyped flag gets the
usage of the subcommand it was given to, and ``-e`` gets the reason it is refused."""

from __future__ import annotations

import pytest

from intoto_pip.cli.main import main


def test_a_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["instal", "requests"])
    assert exit_info.value.code == 2
    assert "unknown command 'instal' (did you mean 'install'?)" in capsys.readouterr().err


def test_a_mistyped_flag_shows_the_subcommands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--layuot", "root.layout"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: intoto-pip verify ")
    assert "intoto-pip verify: error: unrecognized arguments: --layuot" in err


def test_editable_is_refused_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "-e", "."]) == 2
    err = capsys.readouterr().err
    assert "an editable install makes pip build the project before anything verifies it" in err
