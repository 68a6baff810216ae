"""The pinned real-world distributions and their download cache.

``pins.toml`` lists each file by name, version, file name and sha256. Files are fetched once
from PyPI by pip (``pip download --no-deps``, nothing else touches the network) into the cache
folder, ``$INTOTO_PIP_REALWORLD_CACHE`` or ``~/.cache/intoto-pip-tests/realworld``, and every
session checks every cached file against its pinned sha256 before a test uses it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name

from tests.support.index import clean_env

PINS_FILE = Path(__file__).with_name("pins.toml")
CACHE_VARIABLE = "INTOTO_PIP_REALWORLD_CACHE"
DEFAULT_CACHE = Path("~/.cache/intoto-pip-tests/realworld")
PYPI = "https://pypi.org/simple"
DOWNLOAD_TIMEOUT = 1800.0

# "build": a wheel served only as a build requirement of the sdists (another version of a
# build backend than the one pinned as a wheel).
Kind = Literal["wheel", "sdist", "build"]


@dataclass(frozen=True, kw_only=True)
class Pin:
    """One file of one release, as pinned."""

    kind: Kind
    name: str
    version: str
    file: str
    sha256: str
    size: int
    imports: tuple[str, ...] = ()  # modules importable once ``needs`` are installed too
    needs: tuple[str, ...] = ()  # runtime requirements that are also pinned wheels

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def _pin(kind: Kind, entry: dict[str, Any]) -> Pin:
    return Pin(
        kind=kind,
        name=entry["name"],
        version=entry["version"],
        file=entry["file"],
        sha256=entry["sha256"],
        size=entry["size"],
        imports=tuple(entry.get("imports", ())),
        needs=tuple(entry.get("needs", ())),
    )


def load_pins(path: Path = PINS_FILE) -> tuple[Pin, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    kinds: tuple[Kind, ...] = ("wheel", "build", "sdist")
    return tuple(_pin(kind, entry) for kind in kinds for entry in data.get(kind, []))


def pin_id(pin: Pin) -> str:
    return str(canonicalize_name(pin.name))


# The pins are files for CPython 3.11 on Linux x86_64; elsewhere the binary wheels are rightly
# refused for their tags, which says nothing about intoto-pip.
PINNED_PLATFORM = (
    sys.implementation.name == "cpython"
    and sys.version_info[:2] == (3, 11)
    and sys.platform == "linux"
    and platform.machine() == "x86_64"
)


def cache_dir() -> Path:
    chosen = os.environ.get(CACHE_VARIABLE)
    folder = Path(chosen) if chosen else DEFAULT_CACHE.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download(pins: Sequence[Pin], folder: Path) -> None:
    # pip prepares an sdist's metadata, in isolation (with build backends from PyPI).
    options = ["--no-binary", ":all:"] if pins[0].kind == "sdist" else ["--only-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", *options]
    command += ["--index-url", PYPI, "-d", str(folder), *(pin.requirement for pin in pins)]
    subprocess.run(
        command, check=True, env=clean_env(), capture_output=True, timeout=DOWNLOAD_TIMEOUT
    )


def _accept(pin: Pin, folder: Path, cache: Path) -> Path:
    """Move ``pin``'s downloaded file into the cache if its sha256 is the pinned one."""
    path = folder / pin.file
    if not path.is_file():
        got = sorted(p.name for p in folder.iterdir())
        raise ValueError(f"pip did not download {pin.file} (the folder holds {got})")
    actual = sha256_of(path)
    if actual != pin.sha256:
        raise ValueError(f"{pin.file}: sha256 {actual}, pinned {pin.sha256}")
    return Path(shutil.move(path, cache / pin.file))


def download_pin(pin: Pin, cache: Path) -> Path:
    """Download one pinned file into ``cache``; ValueError if it is not the pinned file."""
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        _pip_download([pin], Path(tmp))
        return _accept(pin, Path(tmp), cache)


def ensure_cached(pins: Sequence[Pin], cache: Path) -> dict[str, Path]:
    """{file name: cached path} for every pin, downloading what is missing (one pip per kind)."""
    missing = [pin for pin in pins if not (cache / pin.file).is_file()]
    for kind in ("wheel", "build", "sdist"):
        batch = [pin for pin in missing if pin.kind == kind]
        if batch:
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                _pip_download(batch, Path(tmp))
                for pin in batch:
                    _accept(pin, Path(tmp), cache)
    paths = {}
    for pin in pins:
        path = cache / pin.file
        actual = sha256_of(path)
        if actual != pin.sha256:
            raise ValueError(f"cached {path}: sha256 {actual}, pinned {pin.sha256}")
        paths[pin.file] = path
    return paths


# The build backends the pinned sdists ask for (and wheel, which old setuptools needs for
# bdist_wheel); the "build" pins (flit_core 3) are served beside them.
BUILD_TOOLS = ("setuptools", "wheel", "flit-core", "hatchling")


def sdist_index_pins(pins: Sequence[Pin]) -> list[Pin]:
    """What the sdists' index serves: build backends, what they need, and the sdists."""
    wheels = {pin.name: pin for pin in pins if pin.kind == "wheel"}
    chosen = {pin.file: pin for pin in pins if pin.kind == "build"}
    todo = list(BUILD_TOOLS)
    while todo:
        pin = wheels[todo.pop()]
        if pin.file not in chosen:
            chosen[pin.file] = pin
            todo += pin.needs
    return [*chosen.values(), *(pin for pin in pins if pin.kind == "sdist")]
