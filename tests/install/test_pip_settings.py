"""Which of pip's own settings reach the resolver: places to look and ways to connect only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install.pip_settings import (
    PipSetting,
    isolated_environment,
    read_pip_settings,
    sort_settings,
    start_reading,
)
from tests.support.index import clean_env

LISTING = """\
:env:.cert='/etc/ssl/ca.pem'
:env:.default-timeout='180'
:env:.disable-pip-version-check='1'
:env:.constraint='/tmp/c.txt'
:env:.index-url='http://127.0.0.1:9/simple/'
download.no-binary=':all:'
global.index-url='http://127.0.0.1:1/simple/'
global.no-binary=':all:'
global.find-links='/wheels /more'
install.find-links='/install-wheels'
install.no-build-isolation='true'
install.editable='.'
install.src='/src'
global.proxy='http://127.0.0.1:3128'
global.no-index='yes'
global.not a setting
"""


def test_places_to_look_and_ways_to_connect_are_taken() -> None:
    settings = sort_settings(LISTING)
    taken = {s.name: s for s in settings.taken}
    assert set(taken) == {"cert", "timeout", "index-url", "find-links", "proxy", "no-index"}
    # [global] < [install] < the environment, as pip applies them to `pip install`.
    assert taken["index-url"] == PipSetting(
        name="index-url", value="http://127.0.0.1:9/simple/", origin="environment PIP_INDEX_URL"
    )
    assert taken["find-links"].value == "/install-wheels"
    assert taken["find-links"].origin == "configuration [install]"
    assert taken["timeout"].origin == "environment PIP_DEFAULT_TIMEOUT"
    # The index and find-links are merged with intoto-pip's own flags by the resolver.
    assert settings.arguments() == [
        *("--proxy", "http://127.0.0.1:3128", "--no-index"),
        *("--cert", "/etc/ssl/ca.pem", "--timeout", "180"),
    ]


def test_everything_else_is_ignored_and_reported() -> None:
    ignored = {s.name: s.origin for s in sort_settings(LISTING).ignored}
    assert ignored == {
        "constraint": "environment PIP_CONSTRAINT",
        "no-binary": "configuration [global]",  # [download] does not apply to pip install
        "no-build-isolation": "configuration [install]",
        "editable": "configuration [install]",
        "src": "configuration [install]",
    }


def test_the_isolated_environment_holds_no_pip_setting() -> None:
    env = isolated_environment(
        {"PIP_CONSTRAINT": "x", "_PIP_X": "y", "pip_no_binary": "z", "A": "1"}
    )
    assert env == {"A": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_pip_itself_reports_its_environment(tmp_path: object) -> None:
    env = {**clean_env(), "PIP_CONSTRAINT": "/nowhere.txt", "PIP_RETRIES": "7"}
    settings = read_pip_settings(environ=env)
    assert PipSetting(name="retries", value="7", origin="environment PIP_RETRIES") in settings.taken
    assert [s.name for s in settings.ignored] == ["constraint"]


def test_settings_read_in_the_background_are_read_once(tmp_path: Path) -> None:
    """Started before the target is probed; asked for later (and again), pip ran once."""
    env = {**clean_env(), "PIP_RETRIES": "7"}
    pending = start_reading(environ=env)
    first = pending.result()
    assert first is pending.result()
    assert PipSetting(name="retries", value="7", origin="environment PIP_RETRIES") in first.taken
    pending.close()  # pip ended already: nothing to stop


def test_settings_read_for_another_interpreter_are_its_own(tmp_path: Path) -> None:
    """pip runs in the target interpreter: the target's ``<prefix>/pip.conf`` is read."""
    import venv

    venv.create(tmp_path / "env", with_pip=False)
    (tmp_path / "env" / "pip.conf").write_text("[global]\nretries = 9\n", encoding="utf-8")
    # pip's files read, the machine's and the user's too; the site one is the venv's.
    env = {k: v for k, v in clean_env().items() if k != "PIP_CONFIG_FILE"}
    env["HOME"] = str(tmp_path)  # no user file
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    settings = read_pip_settings(tmp_path / "env" / "bin" / "python", environ=env)
    assert settings.value("retries") == "9"


def test_a_pip_that_cannot_start_is_an_install_error(tmp_path: Path) -> None:
    pending = start_reading(tmp_path / "no-python", environ=clean_env())
    with pytest.raises(InstallError, match="cannot run pip to read its configuration"):
        pending.result()
    pending.close()


def test_settings_never_asked_for_leave_no_process_or_pipe_behind() -> None:
    """An installation that needed no pip after all (an sdist from the given index) closes
    the background read: pip stopped if it still runs, its pipes closed (warnings are errors
    here, so an unclosed pipe fails this test)."""
    import gc

    for read in (False, True):
        pending = start_reading(environ=clean_env())
        process = pending._process
        assert process is not None
        if read:  # the session then waits for a resolution that never comes
            pending.result()
        pending.close()
        assert pending._process is None
        assert process.returncode is not None, "pip still runs"
        del pending
        gc.collect()
