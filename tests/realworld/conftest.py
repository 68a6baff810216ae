"""Session fixtures of the real-world suite: the cache, the producer, one venv per mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.realworld.installs import Mode, SharedVenv, fresh_venv
from tests.realworld.pins import Pin, cache_dir, ensure_cached, load_pins
from tests.realworld.producer import Producer


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
) -> Callable[[Pin], Path]:
    """pin -> a copy of its archive carrying evidence (made once per pin and session)."""
    made: dict[str, Path] = {}
    work = tmp_path_factory.mktemp("attach")

    def attach(pin: Pin) -> Path:
        if pin.file not in made:
            made[pin.file] = producer.attach(cached[pin.file], work / pin.file)
        return made[pin.file]

    return attach


def _shared_venv(
    mode: Mode, folder: Path, producer: Producer, archive_for: Callable[[Pin], Path]
) -> SharedVenv:
    python = fresh_venv(folder / "venv")
    return SharedVenv(python, mode, producer.owner_public, archive_for)


@pytest.fixture(scope="session")
def unverified_venv(
    cached: dict[str, Path], producer: Producer, tmp_path_factory: pytest.TempPathFactory
) -> SharedVenv:
    folder = tmp_path_factory.mktemp("unverified")
    return _shared_venv("unverified", folder, producer, lambda pin: cached[pin.file])


@pytest.fixture(scope="session")
def verified_venv(
    attached: Callable[[Pin], Path], producer: Producer, tmp_path_factory: pytest.TempPathFactory
) -> SharedVenv:
    return _shared_venv("verified", tmp_path_factory.mktemp("verified"), producer, attached)
