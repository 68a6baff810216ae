"""Running the story's commands the way a user would, and showing them the way a user types them.

A command is written as the user types it (``intoto-pip keygen owner``, ``python -m venv ...``,
``venv/bin/python ...``); ``resolve`` turns the first word into what runs here: the current
interpreter for ``intoto-pip`` and ``python``, so the demo works from any install of intoto-pip
without the console script being on ``PATH``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from intoto_pip.demo.narration import Narrator, Shell

# A single step of the demo takes well under a second; a minute means something hangs.
COMMAND_TIMEOUT = 120.0

# Our own settings (INTOTO_PIP_SIGNING_KEY, ...) in the user's shell must not sway the story.
_DROPPED_PREFIX = "INTOTO_PIP_"


@dataclass(frozen=True, kw_only=True)
class Result:
    returncode: int
    output: str  # stdout and stderr together, in the order the command wrote them


@dataclass(frozen=True, kw_only=True)
class Runner:
    """Runs commands inside the demo folder with an environment the user's set-up cannot sway."""

    root: Path
    narrate: Narrator
    base_env: Mapping[str, str] = field(default_factory=dict)

    def run(
        self, argv: Sequence[str], *, folder: str, env: Mapping[str, str] | None = None
    ) -> Result:
        shown_env = " ".join(f"{key}={shlex.quote(value)}" for key, value in (env or {}).items())
        self.narrate(Shell(folder=folder, command=f"{shown_env} {shlex.join(argv)}".strip()))
        cwd = self.root / folder
        completed = subprocess.run(
            resolve(argv, cwd),
            cwd=cwd,
            env={**self.base_env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        return Result(returncode=completed.returncode, output=completed.stdout.rstrip())


def resolve(argv: Sequence[str], cwd: Path) -> list[str]:
    """What actually runs for a command written as the user types it."""
    program, *rest = argv
    if program == "intoto-pip":
        return [sys.executable, "-m", "intoto_pip.cli.main", *rest]
    if program == "python":
        return [sys.executable, *rest]
    if "/" in program or os.sep in program:
        # POSIX resolves a relative program against cwd, Windows does not: make it absolute.
        return [str(cwd / program), *rest]
    return list(argv)


def story_env(config_home: Path) -> dict[str, str]:
    """The environment for every command: the user's, minus what could change the outcome.

    ``XDG_CONFIG_HOME`` points into the demo folder so a policy file of the user's own
    cannot add or remove trust in the middle of the story, and ``PYTHONPATH`` starts with the
    folder this intoto-pip was imported from, so every step runs this very copy of it.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(_DROPPED_PREFIX)}
    env["XDG_CONFIG_HOME"] = str(config_home)
    env["NO_COLOR"] = "1"
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return env
