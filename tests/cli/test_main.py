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


def test_the_cli_copies_of_library_constants_are_the_librarys() -> None:
    from intoto_pip.cli import _trust
    from intoto_pip.verify import inspections, policy

    assert _trust.INSPECTION_TIMEOUT == inspections.DEFAULT_TIMEOUT
    assert set(_trust.PROVENANCE_MODES) == set(policy.MODES)


def test_the_install_parser_loads_no_verifier() -> None:
    """``install`` starts pip and the target's probe right after parsing its arguments: the
    parser must not load the verifier first (it did, for one default: 80 ms)."""
    import subprocess
    import sys

    code = (
        "import sys, intoto_pip.cli.main as m; m.build_parser('install'); "
        "print(sorted(n for n in sys.modules if n.startswith('intoto_pip.verify')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
