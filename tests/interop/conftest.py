"""Run the reference in-toto CLIs (a test extra) installed beside the running interpreter.

In a tox or CI venv the scripts sit in the same ``bin`` folder as ``sys.executable``; the
folder is not resolved through symlinks, because a venv's python is usually one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class ReferenceCLI:
    """The reference's command-line tools in one folder."""

    bin_dir: Path

    def path(self, tool: str) -> Path:
        return self.bin_dir / tool

    def run(
        self, tool: str, *args: str | os.PathLike[str], cwd: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``tool`` with ``args`` in ``cwd``; the caller checks the return code."""
        return subprocess.run(
            [str(self.path(tool)), *map(str, args)],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="session")
def reference_cli() -> ReferenceCLI:
    cli = ReferenceCLI(Path(sys.executable).parent)
    if not cli.path("in-toto-run").is_file():
        pytest.fail(f"the reference in-toto CLIs are not in {cli.bin_dir}: install the test extra")
    return cli
