"""Every test file is collected and every Python file is linted (DESIGN §2).

pytest's default ``norecursedirs`` and ruff's default ``exclude`` skip folders named ``build``
and ``dist``; a sixth of the suite once stopped running that way while CI stayed green. These
tests ask the tools themselves what they see, and compare it with what is on disk.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Generated data and scratch output: not code of ours (pyproject's ruff exclude says the same).
NOT_CODE = ("fixtures/metadata/", "fixtures/adversarial/", "benchmarks/out/")
SCRATCH = {".git", ".tox", ".venv", ".ci-venv", "__pycache__", ".mypy_cache", ".ruff_cache"}


def python_files() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SCRATCH & set(relative.parts) or any(p.endswith(".egg-info") for p in relative.parts):
            continue
        name = relative.as_posix()
        if not name.startswith(NOT_CODE):
            found.add(name)
    return found


def test_pytest_collects_every_test_file() -> None:
    on_disk = {
        name for name in python_files() if name.startswith("tests/") and "/test_" in f"/{name}"
    }
    on_disk = {name for name in on_disk if Path(name).name.startswith("test_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert sorted(on_disk - collected) == []


def test_ruff_lints_every_python_file() -> None:
    beside = Path(sys.executable).parent / "ruff"  # ruff is a test dependency
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    assert ruff, "ruff (a test dependency) is not installed"
    done = subprocess.run(
        [ruff, "check", "--show-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    linted = {Path(line).resolve().relative_to(ROOT).as_posix() for line in done.stdout.split()}
    assert sorted(python_files() - linted) == []
