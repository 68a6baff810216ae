"""Install real distributions with intoto-pip, unverified or verified, and import them.

One fresh venv per mode (made with ``venv --without-pip``: intoto-pip needs no pip in the
target) holds every wheel of the session: each is installed by its own ``intoto-pip install
ARCHIVE --no-deps`` call, after the pinned wheels it needs at run time (installed the same way,
once), so a test can import it and a refusal names exactly one distribution. Wheels of many
projects side by side in one environment is also what users do, and what the checks on files
another distribution owns must allow.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tests.realworld.pins import Pin
from tests.support.index import clean_env

Mode = Literal["unverified", "verified"]
INSTALL_TIMEOUT = 900.0
IMPORT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Outcome:
    """How one ``intoto-pip install`` ended: ``error`` is None when it installed."""

    error: str | None


def fresh_venv(path: Path) -> Path:
    """A new venv without pip; return its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def trust_flags(mode: Mode, owner_public: Path) -> list[str]:
    if mode == "unverified":
        return ["--allow-unverified", ":all:"]
    return ["--layout-key", str(owner_public)]


def intoto_pip_install(python: Path, args: Sequence[str]) -> Outcome:
    command = [sys.executable, "-m", "intoto_pip.cli.main", "install", "--python", str(python)]
    done = subprocess.run(
        [*command, *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    if done.returncode == 0:
        return Outcome(None)
    return Outcome(f"exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")


def import_error(python: Path, modules: Sequence[str], scratch: Path) -> str | None:
    """None when every module imports in ``python``; else what went wrong."""
    if not modules:
        return None
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    # -I: nothing from the working folder or the user's site; MPLCONFIGDIR: matplotlib
    # writes its cache there instead of the home folder.
    done = subprocess.run(
        [str(python), "-I", "-c", code, *modules],
        env=clean_env(MPLCONFIGDIR=str(scratch)),
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT,
        cwd=scratch,
    )
    if done.returncode == 0:
        return None
    return f"import {', '.join(modules)} failed: {done.stderr.strip()[-2000:]}"


@dataclass
class SharedVenv:
    """One venv per mode; ``archive_for`` gives the file to install for a pin in that mode."""

    python: Path
    mode: Mode
    owner_public: Path
    archive_for: Callable[[Pin], Path]
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def install(self, pin: Pin) -> Outcome:
        """Install ``pin`` once; later calls return the first outcome."""
        if pin.name not in self.outcomes:
            try:
                archive = self.archive_for(pin)
            except AssertionError as exc:
                self.outcomes[pin.name] = Outcome(f"evidence could not be made: {exc}")
            else:
                args = [str(archive), "--no-deps", *trust_flags(self.mode, self.owner_public)]
                self.outcomes[pin.name] = intoto_pip_install(self.python, args)
        return self.outcomes[pin.name]

    def install_needs(
        self, pin: Pin, by_name: Mapping[str, Pin], seen: set[str] | None = None
    ) -> list[str]:
        """Install what ``pin`` needs (depth first); the needs that were refused, with why.

        ``seen`` breaks cycles: soupsieve needs bs4 to import, and bs4 needs soupsieve.
        """
        seen = {pin.name} if seen is None else seen
        refused = []
        for need in pin.needs:
            if need in seen:
                continue
            seen.add(need)
            needed = by_name[need]
            refused += self.install_needs(needed, by_name, seen)
            outcome = self.install(needed)
            if outcome.error:
                refused.append(f"{need}: {outcome.error}")
        return list(dict.fromkeys(refused))
