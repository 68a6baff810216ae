"""Materials: the source tree minus the documented exclude list, configured evidence and extras."""

from __future__ import annotations

from pathlib import Path

import pytest

from intoto_pip.artifacts.excludes import ExcludeMatcher
from intoto_pip.backend.config import BuildConfig
from intoto_pip.backend.recorder import anchored_pattern, record_materials

KEPT = [
    "pyproject.toml",
    "src/pkg/__init__.py",
    # Anchored patterns: a package called build or dist, or a folder venv, deeper down is code.
    "src/pkg/build/__init__.py",
    "src/pkg/dist/data.txt",
    "src/pkg/venv/x.py",
    "README.md",
]
LEFT_OUT = [
    ".git/HEAD",
    ".hg/store",
    ".svn/entries",
    "sub/.git",
    "build/lib/pkg/__init__.py",
    "dist/pkg-1.0.tar.gz",
    "src/pkg.egg-info/PKG-INFO",
    "src/pkg/__pycache__/mod.cpython-311.pyc",
    "src/pkg/old.pyc",
    ".tox/py311/x",
    ".nox/x",
    ".venv/bin/python",
    "venv/bin/python",
    ".mypy_cache/x",
    ".pytest_cache/x",
    ".ruff_cache/x",
    "step.abcd1234.link",
    ".step.abcd1234.link-unfinished",
    ".in-toto/root.layout",
    "meta/root.layout",
    "meta/links/test.abcd1234.link",
    "meta/links/notes.txt",
    "scratch/out.tmp",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in KEPT + LEFT_OUT:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return tmp_path


def test_the_default_list_configured_evidence_and_extras_are_left_out(tree: Path) -> None:
    config = BuildConfig(
        project_dir=tree,
        backend="x",
        layout=tree / "meta/root.layout",
        links=tree / "meta/links",
        exclude=("*.tmp",),
    )
    assert sorted(record_materials(config)) == sorted(KEPT)


def test_evidence_outside_the_tree_excludes_nothing_inside(tree: Path) -> None:
    config = BuildConfig(project_dir=tree, backend="x", layout=tree.parent / "root.layout")
    recorded = record_materials(config)
    assert "meta/root.layout" in recorded
    assert "scratch/out.tmp" in recorded


@pytest.mark.parametrize("name", ["in-toto/root.layout", "odd[1]/*?.layout", "back\\slash"])
def test_anchored_pattern_matches_exactly_that_path(name: str) -> None:
    matcher = ExcludeMatcher([anchored_pattern(name)])
    assert matcher.excluded(name)
    assert not matcher.excluded("other/" + name)
    assert not matcher.excluded(name.replace("t", "x", 1) if "t" in name else name + "x")
