"""``[tool.intoto-pip.build]``: which real backend to run and which evidence to attach.

Every path is relative to the folder holding ``pyproject.toml`` (the folder a PEP 517 frontend
runs the hooks in). Unknown keys are refused, so a misspelt ``require-signature`` cannot
silently turn a hard requirement off.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.fields import check_name

_T = TypeVar("_T")

TABLE: Final = "[tool.intoto-pip.build]"
DEFAULT_STEP: Final = "build"
DEFAULT_LAYOUT: Final = "in-toto/root.layout"
_KNOWN: Final = frozenset(
    {
        "backend",
        "backend-path",
        "layout",
        "links",
        "step",
        "require-signature",
        "exclude",
        "use-dsse",
        "layout-keys",
    }
)


@dataclass(frozen=True, kw_only=True)
class BuildConfig:
    """The settings of one project; paths are absolute."""

    project_dir: Path
    backend: str
    # Folders (inside the project) the real backend is imported from: an in-tree backend.
    backend_path: tuple[Path, ...] = ()
    layout: Path
    links: Path | None = None
    step: str = DEFAULT_STEP
    require_signature: bool = False
    # Extra material exclude patterns, added to the recorder's defaults.
    exclude: tuple[str, ...] = ()
    use_dsse: bool = False
    # The layout owner's public keys (PEM text or paths): each signed archive is verified with
    # them before the hook reports success. PEM text also works in an unpacked sdist.
    layout_keys: tuple[str, ...] = ()


def load_config(project_dir: Path) -> BuildConfig:
    """Read ``pyproject.toml`` in ``project_dir``; InputError names the offending key."""
    table = _read_table(project_dir / "pyproject.toml")
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise InputError(f"pyproject.toml: {TABLE} has an unknown key {unknown[0]!r}")
    if "backend" not in table:
        raise InputError(
            f'pyproject.toml: {TABLE} needs backend = "..." (e.g. "setuptools.build_meta")'
        )
    links = _get(table, "links", str, None)
    return BuildConfig(
        project_dir=project_dir,
        backend=_backend_name(table),
        backend_path=_backend_path(project_dir, table),
        layout=_inside(project_dir, "layout", _get(table, "layout", str, DEFAULT_LAYOUT)),
        links=None if links is None else _inside(project_dir, "links", links),
        step=_step_name(table),
        require_signature=_get(table, "require-signature", bool, False),
        exclude=_patterns(table),
        use_dsse=_get(table, "use-dsse", bool, False),
        layout_keys=_strings(table, "layout-keys"),
    )


def _read_table(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc
    table = document.get("tool", {}).get("intoto-pip", {}).get("build")
    if not isinstance(table, dict):
        raise InputError(f"{path}: no {TABLE} table: it names the real backend to run")
    return table


def _get(table: dict[str, Any], key: str, kind: type[_T], default: _T) -> _T:
    value = table.get(key, default)
    # bool is an int subclass; check exactly so `step = true` is refused.
    if type(value) is not kind and value is not default:
        raise InputError(f"pyproject.toml: {TABLE} {key}: expected a {kind.__name__}")
    return value


def _inside(project_dir: Path, key: str, value: str) -> Path:
    """``value`` below ``project_dir``, links resolved: a consumer building an sdist must not
    have the backend read (and embed) files from elsewhere on the building machine."""
    path = project_dir / value
    if not path.resolve().is_relative_to(project_dir.resolve()):
        raise InputError(f"pyproject.toml: {TABLE} {key}: {value!r} is outside the project folder")
    return path


def _backend_name(table: dict[str, Any]) -> str:
    name = _get(table, "backend", str, "")
    module = name.partition(":")[0]
    if not module or not all(part.isidentifier() for part in module.split(".")):
        raise InputError(f"pyproject.toml: {TABLE} backend: {name!r} is not a module path")
    if module == "intoto_pip.backend" or module.startswith("intoto_pip.backend."):
        raise InputError(f"pyproject.toml: {TABLE} backend: name the real backend, not {name!r}")
    return name


def _backend_path(project_dir: Path, table: dict[str, Any]) -> tuple[Path, ...]:
    """PEP 517's ``backend-path``, moved here: in ``[build-system]`` it would make frontends
    look for ``intoto_pip.backend`` itself in those folders (and refuse it)."""
    value = table.get("backend-path", [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InputError(
            f'pyproject.toml: {TABLE} backend-path: expected a list of folders, e.g. ["."]'
        )
    return tuple(_inside(project_dir, "backend-path", item) for item in value)


def _step_name(table: dict[str, Any]) -> str:
    step = _get(table, "step", str, DEFAULT_STEP)
    try:
        check_name(step, "step")
    except MetadataError as exc:
        raise InputError(f"pyproject.toml: {TABLE} {exc}") from None
    return step


def _patterns(table: dict[str, Any]) -> tuple[str, ...]:
    return _strings(table, "exclude")


def _strings(table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InputError(f"pyproject.toml: {TABLE} {key}: expected a list of strings")
    return tuple(value)
