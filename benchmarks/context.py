"""What every pair is built from: environments, inputs, keys, and set-up commands.

A pair whose set-up cannot be done (one of our subcommands is missing, a tool refuses an
input) raises ``Unavailable``; the report then shows the reason instead of figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.envs import Envs
from benchmarks.harness import Invocation, Side
from benchmarks.inputs import Sizes

REFTOOL = Path(__file__).with_name("reftool.py")


class Unavailable(Exception):
    """A pair cannot be measured; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Keys:
    """ed25519 keys made by the reference side: layout owner and step functionary."""

    owner: Path
    functionary: Path

    @property
    def owner_pub(self) -> Path:
        return self.owner.with_name(self.owner.name + ".pub")

    @property
    def functionary_pub(self) -> Path:
        return self.functionary.with_name(self.functionary.name + ".pub")


@dataclass(frozen=True, kw_only=True)
class Context:
    envs: Envs
    inputs: Path
    work: Path
    sizes: Sizes
    keys: Keys


@dataclass(frozen=True, kw_only=True)
class Case:
    """One measured comparison: A is intoto-pip, B the baseline."""

    key: str
    title: str
    target: float | None
    a: Side
    b: Side
    artifacts: int | None = None
    notes: tuple[str, ...] = ()
    # Called once after the measurement: facts worth printing beside the figures.
    after: Callable[[], tuple[str, ...]] | None = None


def make_context(envs: Envs, out: Path, sizes: Sizes) -> Context:
    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    (work / "keys").mkdir(parents=True)
    keys = Keys(owner=work / "keys" / "owner", functionary=work / "keys" / "functionary")
    inputs = out / "inputs"
    inputs.mkdir(exist_ok=True)
    context = Context(envs=envs, inputs=inputs, work=work, sizes=sizes, keys=keys)
    reftool(
        context,
        [
            {"op": "keypair", "out": str(keys.owner)},
            {"op": "keypair", "out": str(keys.functionary)},
        ],
    )
    return context


def reftool(context: Context, jobs: Sequence[dict[str, Any]]) -> None:
    """Run jobs through ``reftool.py`` inside the reference environment."""
    jobs_file = context.work / "reftool-jobs.json"
    jobs_file.write_text(json.dumps(list(jobs)), encoding="utf-8")
    setup_run(context, (context.envs.ref_bin("python"), str(REFTOOL), str(jobs_file)), context.work)


def setup_run(context: Context, argv: Sequence[str], cwd: Path) -> None:
    """Run an untimed set-up command; a failure makes the pair unavailable."""
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(context.envs.process_env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit {result.returncode}"
        raise Unavailable(f"set-up `{Path(argv[0]).name} {' '.join(argv[1:3])}` failed: {reason}")


def require_ours(context: Context, command: str, *flags: str) -> None:
    """Make the pair unavailable unless our CLI has ``command`` (and each flag in its help)."""
    result = subprocess.run(
        [context.envs.ours_bin("intoto-pip"), command, "--help"],
        env=dict(context.envs.process_env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise Unavailable(f"`intoto-pip {command}` is not available yet")
    missing = [flag for flag in flags if flag not in result.stdout]
    if missing:
        raise Unavailable(f"`intoto-pip {command}` has no {', '.join(missing)} yet")


def invocation(context: Context, argv: Sequence[str], cwd: Path) -> Invocation:
    return Invocation(argv=tuple(argv), cwd=cwd, env=context.envs.process_env)


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
