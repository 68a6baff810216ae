"""Which of pip's own settings reach the resolver: places to look and ways to connect only."""

from __future__ import annotations

import os

from intoto_pip.install.pip_settings import (
    PipSetting,
    isolated_environment,
    read_pip_settings,
    sort_settings,
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
