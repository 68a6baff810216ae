"""What a build link records: the source tree as materials, the archive's members as products.

Materials are every file below the project folder (the folder holding ``pyproject.toml``)
except, with gitignore-style patterns, those in :data:`MATERIAL_EXCLUDES`:

- version control: ``.git``, ``.hg``, ``.svn`` (at any depth: submodules have their own);
- build outputs at the top of the tree: ``/build/``, ``/dist/`` (anchored, so a package that
  happens to be called ``build`` inside ``src/`` is still recorded), and ``*.egg-info/``;
- caches and environments: ``__pycache__/``, ``*.pyc``, ``.tox/``, ``.nox/``, ``.venv/``,
  ``/venv/``, ``.mypy_cache/``, ``.pytest_cache/``, ``.ruff_cache/``;
- in-toto metadata: ``*.link*``, the ``.in-toto/`` folder an sdist carries, and the configured
  layout file and links folder (evidence about the build, not input to it).

The project's ``exclude`` setting adds patterns to this list. Materials are recorded before
the real backend runs, so whatever it writes into the tree is never a material.

Products (computed by :func:`intoto_pip.produce.embed.final_products`, from the same code a
verifier uses) follow DESIGN §5: the archive's members named as in the archive (sdist names
keep their ``<name>-<version>/`` prefix), minus the in-toto folder and, for wheels, minus
``*.dist-info/RECORD``. They are hashed from the real backend's archive; embedding only adds
the in-toto folder and rewrites RECORD, so they are the final archive's products too.
"""

from __future__ import annotations

import os
from typing import Final

from intoto_pip.artifacts.collect import RecordOptions, record_artifacts
from intoto_pip.backend.config import BuildConfig

SDIST_INTOTO_DIR: Final = ".in-toto"
MATERIAL_EXCLUDES: Final = (
    ".git",
    ".hg",
    ".svn",
    "/build/",
    "/dist/",
    "*.egg-info/",
    "__pycache__/",
    "*.pyc",
    ".tox/",
    ".nox/",
    ".venv/",
    "/venv/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "*.link*",
    f"/{SDIST_INTOTO_DIR}/",
)
_GLOB_SPECIALS: Final = frozenset("\\*?[")


def anchored_pattern(relative: str) -> str:
    """A gitignore pattern matching exactly the tree-relative path ``relative``."""
    escaped = "".join(f"\\{char}" if char in _GLOB_SPECIALS else char for char in relative)
    return "/" + escaped


def material_excludes(config: BuildConfig) -> tuple[str, ...]:
    """The default patterns, the configured evidence paths inside the tree, and ``exclude``."""
    evidence = []
    for path in (config.layout, config.links):
        if path is None:
            continue
        relative = os.path.relpath(path, config.project_dir).replace(os.sep, "/")
        if relative != "." and not relative.startswith("../"):
            evidence.append(anchored_pattern(relative))
    return (*MATERIAL_EXCLUDES, *evidence, *config.exclude)


def record_materials(config: BuildConfig) -> dict[str, dict[str, str]]:
    """``{name: {"sha256": hex}}`` for the source tree, names relative to the project folder."""
    options = RecordOptions(
        base_path=config.project_dir, exclude=material_excludes(config), follow_symlinks=False
    )
    return record_artifacts(["."], options)
