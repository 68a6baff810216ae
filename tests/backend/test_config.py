"""[tool.intoto-pip.build]: defaults, paths, and a refusal naming the key for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from intoto_pip.backend.config import DEFAULT_LAYOUT, load_config
from intoto_pip.errors import InputError

HEADER = '[project]\nname = "demo"\nversion = "1"\n'


def write(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(HEADER + table)
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[tool.intoto-pip.build]\nbackend = "hatchling.build"\n'))
    assert config.backend == "hatchling.build"
    assert config.layout == tmp_path / DEFAULT_LAYOUT
    assert (config.links, config.step, config.require_signature) == (None, "build", False)
    assert (config.exclude, config.use_dsse) == ((), False)


def test_every_setting(tmp_path: Path) -> None:
    table = """[tool.intoto-pip.build]
backend = "backend_pkg.sub:Object.inner"
layout = "meta/my.layout"
links = "meta/links"
step = "wheel-build"
require-signature = true
exclude = ["/docs/", "*.tmp"]
use-dsse = true
"""
    config = load_config(write(tmp_path, table))
    assert config.backend == "backend_pkg.sub:Object.inner"
    assert (config.layout, config.links) == (tmp_path / "meta/my.layout", tmp_path / "meta/links")
    assert (config.step, config.require_signature, config.use_dsse) == ("wheel-build", True, True)
    assert config.exclude == ("/docs/", "*.tmp")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("", "no \\[tool.intoto-pip.build\\] table"),
        ("[tool.intoto-pip.build]\n", 'needs backend = "..."'),
        ('[tool.intoto-pip.build]\nbackend = "x"\nrequire_signature = true\n', "unknown key"),
        ("[tool.intoto-pip.build]\nbackend = 3\n", "backend: expected a str"),
        ('[tool.intoto-pip.build]\nbackend = "not a module"\n', "is not a module path"),
        ('[tool.intoto-pip.build]\nbackend = "intoto_pip.backend"\n', "name the real backend"),
        ('[tool.intoto-pip.build]\nbackend = "x"\nstep = "a/b"\n', "step: name 'a/b' must"),
        ('[tool.intoto-pip.build]\nbackend = "x"\nstep = true\n', "step: expected a str"),
        ('[tool.intoto-pip.build]\nbackend = "x"\nrequire-signature = 1\n', "expected a bool"),
        ('[tool.intoto-pip.build]\nbackend = "x"\nexclude = "*.tmp"\n', "list of strings"),
        ('[tool.intoto-pip.build]\nbackend = "x"\nlayout = ["a"]\n', "layout: expected a str"),
        ("[tool.intoto-pip.build\n", "not valid TOML"),
    ],
)
def test_mistakes_are_refused_by_name(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config(write(tmp_path, table))


def test_a_missing_pyproject_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"pyproject\.toml: cannot be read"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("layout", "/etc/passwd"),
        ("layout", "../../outside.layout"),
        ("links", "/root/.ssh"),
        ("links", "meta/../../elsewhere"),
        ("layout", "escape/root.layout"),  # through a symbolic link
    ],
)
def test_evidence_paths_stay_inside_the_project(tmp_path: Path, key: str, value: str) -> None:
    """An sdist's pyproject.toml cannot make the backend read (and embed) files from
    elsewhere on the machine that builds it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "escape").symlink_to(tmp_path)
    table = f'[tool.intoto-pip.build]\nbackend = "x"\n{key} = "{value}"\n'
    with pytest.raises(InputError, match=f"{key}: .* outside the project folder"):
        load_config(write(project, table))


def test_an_in_toto_folder_linking_outside_is_refused(tmp_path: Path) -> None:
    from intoto_pip.backend.evidence import gather_evidence

    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (project / ".in-toto").symlink_to(tmp_path / "elsewhere")
    config = load_config(write(project, '[tool.intoto-pip.build]\nbackend = "x"\n'))
    with pytest.raises(InputError, match="outside the project folder"):
        gather_evidence(config)


def test_backend_path_folders_are_inside_the_project(tmp_path: Path) -> None:
    table = '[tool.intoto-pip.build]\nbackend = "x"\nbackend-path = [".", "tools/backend"]\n'
    config = load_config(write(tmp_path, table))
    assert config.backend_path == (tmp_path, tmp_path / "tools/backend")
    default = load_config(write(tmp_path, '[tool.intoto-pip.build]\nbackend = "x"\n'))
    assert default.backend_path == ()


@pytest.mark.parametrize("value", ['"."', '[""]', "[1]", '[["."]]'])
def test_backend_path_must_be_a_list_of_folders(tmp_path: Path, value: str) -> None:
    table = f'[tool.intoto-pip.build]\nbackend = "x"\nbackend-path = {value}\n'
    with pytest.raises(InputError, match="backend-path: expected a list of folders"):
        load_config(write(tmp_path, table))


@pytest.mark.parametrize("value", ["..", "/usr/lib/python3", "escape", "./sub/../../x"])
def test_backend_path_cannot_leave_the_project(tmp_path: Path, value: str) -> None:
    """An sdist's pyproject.toml cannot make the build import code from elsewhere."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "escape").symlink_to(tmp_path)
    table = f'[tool.intoto-pip.build]\nbackend = "x"\nbackend-path = [".", "{value}"]\n'
    with pytest.raises(InputError, match=r"backend-path: .* is outside the project folder"):
        load_config(write(project, table))
