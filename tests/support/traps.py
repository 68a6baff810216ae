"""Archives and folders that leave a marker file when anything runs their code.

``trap_sdist`` is an sdist whose PEP 517 backend (kept in the sdist, ``backend-path``, no build
requirements, so pip needs no index to run it) writes ``marker`` as soon as it is imported:
if the marker exists, someone ran the sdist's build code. ``trap_pip_package`` plants a ``pip``
package in a folder that would shadow the real pip if that folder were on ``sys.path``.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.signing import sdist_members, write_sdist

PYPROJECT = b"""[build-system]
requires = []
build-backend = "trap_backend"
backend-path = ["."]
"""


def trap_sdist(folder: Path, name: str, version: str, marker: Path) -> Path:
    backend = f"open({str(marker)!r}, 'w').close()\nraise SystemExit('trap backend ran')\n"
    files = {"pyproject.toml": PYPROJECT, "trap_backend.py": backend.encode()}
    folder.mkdir(parents=True, exist_ok=True)
    return write_sdist(folder / f"{name}-{version}.tar.gz", sdist_members(name, version, files))


def trap_pip_package(folder: Path, marker: Path) -> None:
    package = folder / "pip"
    package.mkdir(parents=True)
    code = f"open({str(marker)!r}, 'w').close()\n"
    (package / "__init__.py").write_text(code)
    (package / "__main__.py").write_text(code)
