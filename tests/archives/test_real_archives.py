"""Archives made by real tools pass: setuptools via ``build``, and a large wheel from PyPI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from intoto_pip.archives.names import check_sdist, check_wheel, product_names
from intoto_pip.archives.reader import SafeArchive

TORCH = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
needs_torch = pytest.mark.skipif(not TORCH.is_file(), reason="no large wheel in /opt/wheels")


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "Demo.Pkg"\nversion = "1.0.0"\n'
    )
    package = project / "src" / "demo_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    out = project / "dist"
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(project)]
    subprocess.run(command, check=True, capture_output=True, env=clean_env(), timeout=300)
    return out


@pytest.mark.slow
def test_setuptools_wheel_passes(built: Path) -> None:
    (path,) = built.glob("*.whl")
    with SafeArchive.open(path) as archive:
        info = check_wheel(archive, path.name)
        assert (info.name, str(info.version), info.metadata_name) == (
            "demo-pkg",
            "1.0.0",
            "Demo.Pkg",
        )
        assert "demo_pkg/__init__.py" in product_names(archive, info)


@pytest.mark.slow
def test_setuptools_sdist_passes(built: Path) -> None:
    (path,) = built.glob("*.tar.gz")
    with SafeArchive.open(path) as archive:
        info = check_sdist(archive, path.name)
        assert info.top == "demo_pkg-1.0.0"
        assert f"{info.top}/src/demo_pkg/__init__.py" in product_names(archive, info)


@needs_torch
def test_large_real_wheel_listing_passes_the_default_caps() -> None:
    with SafeArchive.open(TORCH) as archive:
        assert len(archive.members) > 10_000
        assert sum(member.size for member in archive.members) > 500 * 1024 * 1024


@needs_torch
@pytest.mark.slow
def test_large_real_wheel_record_is_strictly_valid() -> None:
    with SafeArchive.open(TORCH) as archive:
        info = check_wheel(archive, TORCH.name)
    assert info.name == "torch"
