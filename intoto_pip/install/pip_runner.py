"""How pip is started: the copy installed beside intoto-pip, run by the target interpreter.

pip resolves for the interpreter it runs in (its tags, markers and installed distributions).
``pip --python X`` gets there by starting pip in intoto-pip's interpreter only to start it again
in ``X`` through ``pip/__pip-runner__.py``, a script that imports exactly that copy of pip.
Starting the runner in ``X`` directly does the same with one interpreter start and one pip
import fewer (about 0.2 s each time pip runs). pip is found with ``importlib.util.find_spec``,
which locates it without importing it: intoto-pip never imports pip.

Both ways run with ``-I``: neither the working folder, ``PYTHONPATH`` nor the user's site folder
reaches ``sys.path``, so a ``./pip`` cannot stand in for pip.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RUNNER = "__pip-runner__.py"


def pip_argv(python: Path | None = None) -> list[str]:
    """The command that starts pip in ``python`` (default: this interpreter)."""
    here = [sys.executable, "-I", "-m", "pip"]
    if python is None or Path(python) == Path(sys.executable):
        return here
    runner = pip_runner()
    if runner is None:  # a pip without its runner (older than 22.3): let pip start it
        return [*here, "--python", str(python)]
    return [str(python), "-I", str(runner)]


def pip_runner() -> Path | None:
    """pip's ``__pip-runner__.py``, of the pip installed for this interpreter."""
    spec = importlib.util.find_spec("pip")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        runner = Path(folder) / RUNNER
        if runner.is_file():
            return runner
    return None
