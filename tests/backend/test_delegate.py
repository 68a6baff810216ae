"""An in-tree backend (``backend-path``): imported from the project's folders, and only there."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from intoto_pip.backend.delegate import BackendError, load_backend

_COUNTER = itertools.count()
BACKEND_CODE = "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
BACKEND_CODE += "    return 'x.whl'\n"


@pytest.fixture
def name() -> Iterator[str]:
    """A module name no other test imports; forgotten afterwards."""
    module = f"intree_backend_{next(_COUNTER)}"
    yield module
    sys.modules.pop(module, None)


def write_module(folder: Path, module: str, code: str = BACKEND_CODE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(code)
    return folder


def test_an_in_tree_backend_is_imported_from_backend_path(tmp_path: Path, name: str) -> None:
    folder = write_module(tmp_path / "project", name)
    before = list(sys.path)
    backend = load_backend(name, [folder])
    assert backend.has("build_wheel") and backend.call("build_wheel", "out") == "x.whl"
    assert sys.path == before  # the folder led sys.path only during the import


def test_an_object_inside_the_in_tree_module_is_found(tmp_path: Path, name: str) -> None:
    code = "class Inner:\n    @staticmethod\n    def build_sdist(d, c=None):\n        return 'y'\n"
    folder = write_module(tmp_path / "tools", name, code)
    assert load_backend(f"{name}:Inner", [folder]).call("build_sdist", "out") == "y"


def test_without_backend_path_an_in_tree_backend_is_not_found(tmp_path: Path, name: str) -> None:
    write_module(tmp_path / "project", name)
    with pytest.raises(BackendError, match="list its distribution in \\[build-system\\] requires"):
        load_backend(name)


def test_a_missing_in_tree_module_names_backend_path(tmp_path: Path, name: str) -> None:
    (tmp_path / "project").mkdir()
    with pytest.raises(BackendError, match=f"cannot import .*'{name}' from backend-path .*project"):
        load_backend(name, [tmp_path / "project"])


def test_a_module_found_elsewhere_is_refused(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PEP 517's rule: with backend-path, the backend must come from those folders."""
    elsewhere = write_module(tmp_path / "site-packages", name)
    monkeypatch.syspath_prepend(str(elsewhere))
    (tmp_path / "project").mkdir()
    with pytest.raises(BackendError, match=r"loaded from .*site-packages.*, not from backend-path"):
        load_backend(name, [tmp_path / "project"])


def test_an_already_imported_module_of_that_name_is_refused(tmp_path: Path) -> None:
    # json is imported already: the in-tree json.py would never be the one used.
    folder = write_module(tmp_path / "project", "json")
    with pytest.raises(BackendError, match=r"'json' was loaded from .*, not from backend-path"):
        load_backend("json", [folder])
    assert "project" not in str(sys.modules["json"].__file__)


def test_sys_path_entries_the_backend_adds_are_kept(tmp_path: Path, name: str) -> None:
    extra = str(tmp_path / "vendored")
    folder = write_module(tmp_path / "project", name, f"import sys\nsys.path.append({extra!r})\n")
    try:
        load_backend(name, [folder])
        assert extra in sys.path and str(folder) not in sys.path
    finally:
        sys.path.remove(extra)
