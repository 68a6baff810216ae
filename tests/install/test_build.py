"""Building a verified sdist: the hooks run in the build environment, isolated from the tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install import build
from intoto_pip.install.build import BuildSystem


def test_a_module_in_the_source_tree_never_shadows_the_hook_runner(tmp_path: Path) -> None:
    # The hook runner imports json before the backend: with the source tree (its cwd) on
    # sys.path, the sdist's json.py ran in place of the standard library's.
    source = tmp_path / "source"
    source.mkdir()
    marker = tmp_path / "planted-json-ran"
    (source / "json.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (source / "backend.py").write_text(
        "def get_requires_for_build_wheel(settings):\n    return ['x']\n"
    )
    system = BuildSystem(requires=(), backend="backend", backend_path=(str(source),))
    work = tmp_path / "work"
    work.mkdir()
    result = build._call_hook(
        Path(sys.executable), source, system, "get_requires_for_build_wheel", [None], work
    )
    assert not marker.exists()
    assert result == ["x"]


def test_a_backend_only_in_the_tree_needs_backend_path(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "backend.py").write_text(
        "def get_requires_for_build_wheel(settings):\n    return []\n"
    )
    system = BuildSystem(requires=(), backend="backend", backend_path=())
    with pytest.raises(InstallError, match="building failed at get_requires_for_build_wheel"):
        build._call_hook(
            Path(sys.executable), source, system, "get_requires_for_build_wheel", [None], tmp_path
        )
