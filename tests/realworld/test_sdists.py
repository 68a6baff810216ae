"""Real sdists from PyPI install with ``--no-binary``: unverified, and verified with evidence.

Each pinned sdist is a pure-Python project built by setuptools, flit_core or hatchling. A PEP
503 index on 127.0.0.1 serves the sdists and the pinned wheels of those build backends (and
what they need); intoto-pip fetches the sdist itself, verifies it, and builds it in an isolated
environment whose build requirements come from the same index and pass the same policy. Each
sdist goes into a fresh venv twice: from the index of the files as PyPI serves them with
``--allow-unverified :all:``, and from an index of the same files with evidence attached (the
build backends' wheels too) with ``--layout-key``. Then its module must import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.realworld.installs import Mode, fresh_venv, import_error, intoto_pip_install, trust_flags
from tests.realworld.pins import PINNED_PLATFORM, Pin, load_pins, pin_id
from tests.realworld.producer import Producer
from tests.support.index import SimpleIndex, serve

PINS = load_pins()
SDISTS = tuple(pin for pin in PINS if pin.kind == "sdist")
WHEELS_BY_NAME = {pin.name: pin for pin in PINS if pin.kind == "wheel"}
# The build backends the pinned sdists ask for (and wheel, which old setuptools needs for
# bdist_wheel); the "build" pins (flit_core 3) are served beside them.
BUILD_TOOLS = ("setuptools", "wheel", "flit-core", "hatchling")

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        not PINNED_PLATFORM, reason="the pins are wheels for CPython 3.11 on Linux x86_64"
    ),
]


def build_wheels() -> list[Pin]:
    """The build backends' pinned wheels and, transitively, what they need."""
    chosen = {pin.file: pin for pin in PINS if pin.kind == "build"}
    todo = list(BUILD_TOOLS)
    while todo:
        pin = WHEELS_BY_NAME[todo.pop()]
        if pin.file not in chosen:
            chosen[pin.file] = pin
            todo += pin.needs
    return list(chosen.values())


def make_index(root: Path, pins: list[Pin], archive_for: Callable[[Pin], Path]) -> SimpleIndex:
    index = SimpleIndex(root)
    for pin in pins:
        index.add(archive_for(pin), pin.name)
    return index


@pytest.fixture(scope="session")
def index_urls(
    cached: dict[str, Path],
    attached: Callable[[Pin], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Mapping[Mode, str]]:
    """{mode: simple index URL}: PyPI's files as they are, and the same with evidence."""
    pins = [*build_wheels(), *SDISTS]
    plain = make_index(tmp_path_factory.mktemp("plain-index"), pins, lambda p: cached[p.file])
    signed = make_index(tmp_path_factory.mktemp("verified-index"), pins, attached)
    with ExitStack() as stack:
        yield {
            "unverified": stack.enter_context(serve(plain.root)) + "/simple/",
            "verified": stack.enter_context(serve(signed.root)) + "/simple/",
        }


def installs_from_sdist(mode: Mode, pin: Pin, url: str, producer: Producer, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    args = [pin.requirement, "--no-binary", pin.name, "--no-deps", "--index-url", url]
    outcome = intoto_pip_install(python, [*args, *trust_flags(mode, producer.owner_public)])
    assert outcome.error is None, f"{pin.file} refused ({mode}): {outcome.error}"
    error = import_error(python, pin.imports, tmp_path)
    assert error is None, error


@pytest.mark.parametrize("pin", SDISTS, ids=pin_id)
def test_sdist_installs_unverified(
    pin: Pin, index_urls: Mapping[Mode, str], producer: Producer, tmp_path: Path
) -> None:
    installs_from_sdist("unverified", pin, index_urls["unverified"], producer, tmp_path)


@pytest.mark.parametrize("pin", SDISTS, ids=pin_id)
def test_sdist_installs_verified(
    pin: Pin, index_urls: Mapping[Mode, str], producer: Producer, tmp_path: Path
) -> None:
    installs_from_sdist("verified", pin, index_urls["verified"], producer, tmp_path)
