"""The demo's data ships in intoto-pip's own wheel (the README installs with `pip install .`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "intoto_pip" / "demo" / "data"


def _data_files() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in DATA.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_wheel_of_intoto_pip_carries_every_demo_data_file(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md", "SECURITY.md"):
        shutil.copy2(ROOT / name, tree / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "intoto_pip", tree / "intoto_pip", ignore=ignore)
    shutil.copytree(ROOT / "docs", tree / "docs", ignore=ignore)
    hook = "from setuptools import build_meta as b; print(b.build_wheel('out'))"
    (tree / "out").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", hook], cwd=tree, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with zipfile.ZipFile(tree / "out" / done.stdout.splitlines()[-1]) as wheel:
        members = set(wheel.namelist())
    expected = _data_files()
    assert {"intoto_pip/demo/data/layout.toml"} <= expected
    assert expected - members == set()
    # The guides travel too, readable where intoto-pip is installed (--help names the folder).
    data = f"{done.stdout.splitlines()[-1].split('-py3')[0]}.data/data/share/doc/intoto-pip/"
    assert {f"{data}consumer-guide.md", f"{data}README.md", f"{data}SECURITY.md"} <= members
