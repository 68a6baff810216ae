"""Real wheels from PyPI, pinned by file name and sha256, downloaded once into a cache.

The cache is ``$INTOTO_PIP_TEST_CACHE`` or ``~/.cache/intoto-pip-tests``. A wheel missing
there is fetched with ``pip download`` (PyPI, through pip, is the one network the tests use);
a failed download or a wrong hash fails the test, it never skips it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from intoto_pip.archives.names import parse_wheel_filename

# Each chosen because a rule once refused it (issue 13): setuptools and flit_core vendor other
# projects' *.dist-info inside their package folders; pillow 13 bundles a shared library that
# compresses 223:1.
REAL_WHEELS = {
    "setuptools-80.9.0-py3-none-any.whl": (
        "062d34222ad13e0cc312a4c02d73f059e86a4acbfbdea8f8f76b28c99f306922"
    ),
    "flit_core-3.12.0-py3-none-any.whl": (
        "e7a0304069ea895172e3c7bb703292e992c5d1555dd1233ab7b5621b5b69e62c"
    ),
    "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl": (
        "a625df9a2a5597fa5e5266e01aefc82604bb85d291e3547981e863560d75da6c"
    ),
}


def cache_dir() -> Path:
    root = os.environ.get("INTOTO_PIP_TEST_CACHE") or Path.home() / ".cache" / "intoto-pip-tests"
    return Path(root) / "wheels"


def real_wheel(filename: str) -> Path:
    """The cached wheel ``filename`` (one of REAL_WHEELS), downloaded first if need be."""
    expected = REAL_WHEELS[filename]
    path = cache_dir() / filename
    if not (path.is_file() and _sha256(path) == expected):
        _download(filename, path)
    got = _sha256(path)
    if got != expected:
        pytest.fail(f"{filename}: sha256 {got}, pinned {expected}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _download(filename: str, path: Path) -> None:
    wheel = parse_wheel_filename(filename)
    tag = sorted(wheel.tags, key=str)[0]
    platform = [] if tag.platform == "any" else ["--platform", tag.platform, "--abi", tag.abi]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        command = [
            *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"),
            *("--disable-pip-version-check", "--dest", scratch, *platform),
            *("--python-version", "3.11", f"{wheel.name}=={wheel.version}"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        fetched = Path(scratch) / filename
        if done.returncode != 0 or not fetched.is_file():
            pytest.fail(f"cannot download {filename} from PyPI: {done.stderr.strip()[-500:]}")
        os.replace(fetched, path)
