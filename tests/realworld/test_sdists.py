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

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.realworld.installs import Mode, fresh_venv, import_error, intoto_pip_install, trust_flags
from tests.realworld.pins import PINNED_PLATFORM, Pin, load_pins, pin_id, sdist_index_pins
from tests.realworld.producer import Producer
from tests.support.index import SimpleIndex, serve

PINS = load_pins()
SDISTS = tuple(pin for pin in PINS if pin.kind == "sdist")

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        not PINNED_PLATFORM, reason="the pins are wheels for CPython 3.11 on Linux x86_64"
    ),
]


def served(root: Path, archive_for: Callable[[Pin], Path]) -> Iterator[str]:
    index = SimpleIndex(root)
    for pin in sdist_index_pins(PINS):
        index.add(archive_for(pin), pin.name)
    with serve(index.root) as url:
        yield url + "/simple/"


@pytest.fixture(scope="session")
def unverified_index(
    cached: dict[str, Path],
    attached: Callable[[Pin], Path],  # not used: starts making evidence while these run
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The sdists and build backends as PyPI serves them, on 127.0.0.1."""
    yield from served(tmp_path_factory.mktemp("unverified-index"), lambda pin: cached[pin.file])


@pytest.fixture(scope="session")
def verified_index(
    attached: Callable[[Pin], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The same files, each carrying evidence."""
    yield from served(tmp_path_factory.mktemp("verified-index"), attached)


def installs_from_sdist(mode: Mode, pin: Pin, url: str, producer: Producer, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    args = [pin.requirement, "--no-binary", pin.name, "--no-deps", "--index-url", url]
    outcome = intoto_pip_install(python, [*args, *trust_flags(mode, producer.owner_public)])
    assert outcome.error is None, f"{pin.file} refused ({mode}): {outcome.error}"
    error = import_error(python, pin.imports, tmp_path)
    assert error is None, error


@pytest.mark.parametrize("pin", SDISTS, ids=pin_id)
def test_sdist_installs_unverified(
    pin: Pin, unverified_index: str, producer: Producer, tmp_path: Path
) -> None:
    installs_from_sdist("unverified", pin, unverified_index, producer, tmp_path)


@pytest.mark.parametrize("pin", SDISTS, ids=pin_id)
def test_sdist_installs_verified(
    pin: Pin, verified_index: str, producer: Producer, tmp_path: Path
) -> None:
    installs_from_sdist("verified", pin, verified_index, producer, tmp_path)
