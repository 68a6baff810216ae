"""Fixtures every end-to-end install test uses: the signing keys of one project, a fresh venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.index import make_venv
from tests.support.signing import Project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Owner and functionary keys, made once per test module."""
    return Project(tmp_path_factory.mktemp("keys"))


@pytest.fixture()
def venv(tmp_path: Path) -> Path:
    """A fresh ``python -m venv`` (its interpreter's path)."""
    return make_venv(tmp_path / "venv")
