"""How pip is started: intoto-pip's own pip, run by the target interpreter, never imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from intoto_pip.install.pip_runner import RUNNER, pip_argv, pip_runner
from intoto_pip.install.pip_settings import isolated_environment


def test_this_interpreter_runs_pip_as_a_module_in_isolated_mode() -> None:
    assert pip_argv() == [sys.executable, "-I", "-m", "pip"]
    assert pip_argv(Path(sys.executable)) == [sys.executable, "-I", "-m", "pip"]


def test_another_interpreter_runs_the_runner_of_our_own_pip(tmp_path: Path) -> None:
    runner = pip_runner()
    assert runner is not None and runner.name == RUNNER
    assert pip_argv(tmp_path / "python") == [str(tmp_path / "python"), "-I", str(runner)]


def test_finding_pip_does_not_import_it() -> None:
    code = (
        "import sys; from intoto_pip.install.pip_runner import pip_runner; "
        "assert pip_runner() is not None; print('pip' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.slow
def test_the_runner_is_our_pip_looking_at_the_other_environment(tmp_path: Path) -> None:
    """A venv without pip: the pip that runs is ours, and what it lists is the venv's (empty),
    not intoto-pip's environment; a ``pip`` package in the working folder is not run."""
    import json
    import venv

    venv.create(tmp_path / "env", with_pip=False)
    python = tmp_path / "env" / "bin" / "python"
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip" / "__init__.py").write_text("raise SystemExit('shadowed')\n")
    argv = pip_argv(python)
    assert argv[0] == str(python)
    done = subprocess.run(
        [*argv, "--isolated", "list", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=isolated_environment(),
        check=True,
    )
    assert json.loads(done.stdout) == []
    version = subprocess.run(
        [*argv, "--version"], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert str(Path(str(pip_runner())).parent) in version.stdout


def test_a_pip_in_the_working_folder_is_not_taken_for_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m intoto_pip...`` puts the working folder first on ``sys.path``: a ``./pip``
    there would be found first by ``find_spec``, and the session would run it."""
    from intoto_pip.install.pip_runner import pip_root, session_argv
    from tests.support.traps import trap_pip_package

    trap_pip_package(tmp_path, tmp_path / "ran")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path), *sys.path])
    root = pip_root()
    assert root is not None and root != tmp_path
    assert (root / "pip" / "__init__.py").is_file()
    argv = session_argv(Path(sys.executable))
    assert argv is not None and str(tmp_path) not in argv


def test_an_announcement_pipe_the_session_cannot_use_never_fails_pip() -> None:
    """The session copies pip's messages to the pipe it is given; given a descriptor it does
    not have, it resolves all the same (announcing is a hint)."""
    import json

    from intoto_pip.install.pip_runner import session_argv

    argv = session_argv(Path(sys.executable))
    assert argv is not None
    env = isolated_environment()
    request = {"args": ["--version"], "env": env, "announce": 987}
    done = subprocess.run(
        argv, input=json.dumps(request) + "\n", capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("pip ")


def test_a_session_ends_with_pips_exit_code_and_its_output_and_log_complete(
    tmp_path: Path,
) -> None:
    """The session leaves without tearing pip's modules down: pip's code, what it printed
    and its ``--log`` file are all there."""
    import json

    from intoto_pip.install.pip_runner import session_argv

    argv = session_argv(Path(sys.executable))
    assert argv is not None
    env = isolated_environment()
    log = tmp_path / "pip.log"
    args = ["--log", str(log), "install", "--dry-run", "--no-index", "no-such-project-zz"]
    done = subprocess.run(
        argv,
        input=json.dumps({"args": args, "env": env}) + "\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 1
    assert "No matching distribution found for no-such-project-zz" in done.stderr
    assert "No matching distribution found for no-such-project-zz" in log.read_text()
