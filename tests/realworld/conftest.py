"""Session fixtures of the real-world suite: the cache, the producer, one venv per mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.realworld.installs import Mode, SharedVenv, fresh_venv
from tests.realworld.pins import Pin, cache_dir, ensure_cached, load_pins, sdist_index_pins
from tests.realworld.producer import Evidence, Producer


@pytest.fixture(scope="session")
def cached() -> dict[str, Path]:
    """{file name: path} of every pinned file, downloaded once and checked by sha256."""
    return ensure_cached(load_pins(), cache_dir())


@pytest.fixture(scope="session")
def producer(tmp_path_factory: pytest.TempPathFactory) -> Producer:
    return Producer.create(tmp_path_factory.mktemp("producer"))


@pytest.fixture(scope="session")
def attached(
    cached: dict[str, Path], producer: Producer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Pin], Path]]:
    """pin -> a copy of its archive carrying evidence, all made in the background from the
    start: what the sdists' index serves first (its tests come first), then the wheels."""
    evidence = Evidence(producer, cached, tmp_path_factory.mktemp("attach"))
    pins = load_pins()
    evidence.prefetch(pin.file for pin in [*sdist_index_pins(pins), *pins])
    try:
        yield lambda pin: evidence.archive(pin.file)
    finally:
        evidence.close()


def _shared_venv(
    mode: Mode, folder: Path, producer: Producer, archive_for: Callable[[Pin], Path]
) -> SharedVenv:
    python = fresh_venv(folder / "venv")
    return SharedVenv(python, mode, producer.owner_public, archive_for)


@pytest.fixture(scope="session")
def unverified_venv(
    cached: dict[str, Path],
    producer: Producer,
    attached: Callable[[Pin], Path],  # not used: starts making evidence while these run
    tmp_path_factory: pytest.TempPathFactory,
) -> SharedVenv:
    folder = tmp_path_factory.mktemp("unverified")
    return _shared_venv("unverified", folder, producer, lambda pin: cached[pin.file])


@pytest.fixture(scope="session")
def verified_venv(
    attached: Callable[[Pin], Path], producer: Producer, tmp_path_factory: pytest.TempPathFactory
) -> SharedVenv:
    return _shared_venv("verified", tmp_path_factory.mktemp("verified"), producer, attached)
