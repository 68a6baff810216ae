"""A tiny PEP 517 backend for in-process tests: packs ``src/`` into a wheel, the tree into an sdist.

Every hook call is appended to ``CALLS``. ``config_settings`` steer failures: ``{"fail": MSG}``
raises RuntimeError(MSG), ``{"unsupported": MSG}`` raises this module's UnsupportedOperation.
Each build also writes ``generated.txt`` into the tree, as real backends write ``build/``:
a material recorded after the build would show it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.archives.builders import make_sdist, make_wheel

CALLS: list[tuple[str, Any]] = []
Settings = Mapping[str, Any] | None


class UnsupportedOperation(Exception):
    """What a frontend catches from build_sdist."""


def _enter(hook: str, config_settings: Settings) -> None:
    CALLS.append((hook, config_settings))
    if config_settings and "fail" in config_settings:
        raise RuntimeError(config_settings["fail"])
    if config_settings and "unsupported" in config_settings:
        raise UnsupportedOperation(config_settings["unsupported"])


def _project() -> tuple[str, str]:
    table = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    return table["name"], table["version"]


def _files(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.relative_to(root).as_posix().startswith(skip)
    }


def get_requires_for_build_wheel(config_settings: Settings = None) -> list[str]:
    _enter("get_requires_for_build_wheel", config_settings)
    return ["fake-requirement>=1"]


def get_requires_for_build_sdist(config_settings: Settings = None) -> list[str]:
    _enter("get_requires_for_build_sdist", config_settings)
    return ["fake-sdist-requirement"]


def build_wheel(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    _enter("build_wheel", config_settings)
    name, version = _project()
    path = make_wheel(Path(wheel_directory), name, version, _files(Path("src")))
    Path("generated.txt").write_text("written by the backend\n")
    return path.name


def build_sdist(sdist_directory: str, config_settings: Settings = None) -> str:
    _enter("build_sdist", config_settings)
    name, version = _project()
    # Like setuptools: the configured in-toto/ folder is not packaged.
    files = _files(Path("."), skip=("in-toto/", ".in-toto/", "dist/", "generated.txt"))
    path = make_sdist(Path(sdist_directory), name, version, files)
    Path("generated.txt").write_text("written by the backend\n")
    return path.name


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Settings = None
) -> str:
    _enter("prepare_metadata_for_build_wheel", config_settings)
    name, version = _project()
    folder = Path(metadata_directory) / f"{name}-{version}.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return folder.name


def build_editable(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    _enter("build_editable", config_settings)
    name, version = _project()
    return make_wheel(Path(wheel_directory), name, version, {"_editable.pth": b"/src\n"}).name


class Minimal:
    """A backend object with the two mandatory hooks only (``module:Minimal``)."""

    build_wheel = staticmethod(build_wheel)
    build_sdist = staticmethod(build_sdist)
