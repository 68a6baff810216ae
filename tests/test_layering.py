"""The packages form one dependency order (DESIGN §2), and the pure core does no I/O.

An ``ast`` walk of every module of ``intoto_pip``: an import (at module level or inside a
function: a lazy import is still an arrow) of a package that comes later in the order fails,
as does a private module (``_x.py``) imported from another package, or a disk, process or
network module imported by the I/O-free verification core.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "intoto_pip"

# Lower layers first. A module may import its own layer and any layer before it.
ORDER: tuple[frozenset[str], ...] = (
    frozenset({"errors"}),
    frozenset({"crypto"}),
    frozenset({"models"}),
    frozenset({"store"}),
    frozenset({"artifacts"}),
    frozenset({"archives"}),
    frozenset({"verify"}),
    frozenset({"produce"}),
    frozenset({"install", "backend"}),
    frozenset({"demo"}),
    frozenset({"cli"}),
)
# Packages on one layer that still must not import each other.
SIBLINGS_APART = {"install", "backend"}

# The verification core: parsed metadata in, a verdict out. No disk, process or network.
PURE_CORE = {
    "verify/engine.py",
    "verify/links.py",
    "verify/params.py",
    "verify/patterns.py",
    "verify/rules.py",
    "verify/result.py",
    "models/rules.py",
    "models/link.py",
    "models/layout.py",
}
IO_MODULES = {
    "os",
    "io",
    "shutil",
    "subprocess",
    "socket",
    "pathlib",
    "tempfile",
    "urllib",
    "http",
    "multiprocessing",
    "concurrent",
    "glob",
    "asyncio",
    "ssl",
    "signal",
}


def layer_of(top: str) -> int:
    for index, members in enumerate(ORDER):
        if top in members:
            return index
    if top in {"__init__", "__main__"}:
        return 0
    raise AssertionError(f"package intoto_pip.{top} is not placed in the dependency order")


def top_of(relative: Path) -> str:
    return relative.parts[0].removesuffix(".py")


def imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            if node.module.count(".") < 2:  # `from intoto_pip.cli import _trust`: a module
                for alias in node.names:
                    yield node.lineno, f"{node.module}.{alias.name}"


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def problems_in(path: Path) -> list[str]:
    relative = path.relative_to(PACKAGE)
    if relative.parts[0] == "demo" and "data" in relative.parts:
        return []  # the demo's sample project, not a module of ours
    own = top_of(relative)
    own_layer = layer_of(own)
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for line, name in imports(tree):
        where = f"intoto_pip/{relative.as_posix()}:{line}"
        parts = name.split(".")
        if parts[0] == "intoto_pip" and len(parts) > 1 and not parts[1].startswith("__"):
            other = parts[1]
            if other != own and layer_of(other) > own_layer:
                found.append(f"{where}: {own} imports {name}, which comes later in the order")
            if other != own and other in SIBLINGS_APART and own in SIBLINGS_APART:
                found.append(f"{where}: {own} imports its sibling {name}")
            private = [p for p in parts[2:] if p.startswith("_") and not p.startswith("__")]
            if private and other != own:
                found.append(f"{where}: {name} is private to intoto_pip.{other}")
        if relative.as_posix() in PURE_CORE and parts[0] in IO_MODULES:
            found.append(f"{where}: the pure core imports {parts[0]}")
    return found


def test_every_package_is_placed_in_the_order() -> None:
    for path in modules():
        layer_of(top_of(path.relative_to(PACKAGE)))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_follow_the_dependency_order(path: Path) -> None:
    assert problems_in(path) == []


def test_a_wrong_way_import_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "intoto_pip"
    (fake / "models").mkdir(parents=True)
    bad = fake / "models" / "bad.py"
    bad.write_text("def f() -> None:\n    from intoto_pip.install.target import Target\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    [problem] = problems_in(bad)
    assert "models imports intoto_pip.install.target" in problem


def test_io_in_the_pure_core_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "intoto_pip"
    (fake / "verify").mkdir(parents=True)
    engine = fake / "verify" / "engine.py"
    engine.write_text("import subprocess\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    assert problems_in(engine) == [
        "intoto_pip/verify/engine.py:1: the pure core imports subprocess"
    ]
