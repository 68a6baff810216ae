"""The benchmark's own virtual environments, under ``benchmarks/out/``.

- ``venv-ref``: the reference ``in-toto>=3,<4`` from PyPI;
- ``venv-ours``: this project, installed non-editable from a copy of the repository, so
  measurements reflect a real install (re-installed whenever the sources change);
- ``venv-pip``: the current pip, the baseline of the install pair.

pip runs with no ``PIP_*`` variables and no configuration file, as on a clean machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REFERENCE_REQUIREMENT = "in-toto>=3,<4"
# What a copy of the repository leaves out at its top level: history, caches, outputs, tests.
_TOP_LEVEL_SKIP = frozenset(
    {
        ".git",
        ".tox",
        ".venv",
        ".ci-venv",
        "build",
        "dist",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "tests",
        "fixtures",
        "benchmarks",
        "docs",
    }
)

Log = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Envs:
    """Paths of the three environments and the environment variables processes run with."""

    ref: Path
    ours: Path
    pip: Path
    process_env: Mapping[str, str]

    def ref_bin(self, name: str) -> str:
        return str(self.ref / "bin" / name)

    def ours_bin(self, name: str) -> str:
        return str(self.ours / "bin" / name)

    def pip_bin(self, name: str) -> str:
        return str(self.pip / "bin" / name)


def clean_env() -> dict[str, str]:
    """This process's environment without pip settings or an active virtualenv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "PYTHON")) and key != "VIRTUAL_ENV"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


def ensure_envs(out: Path, repo: Path, *, log: Log, reinstall: bool = True) -> Envs:
    """Create the environments that are missing; re-install ours when its sources changed."""
    env = clean_env()
    # No user configuration (an intoto-pip policy file, say) may change what is measured.
    config = out / "config"
    config.mkdir(exist_ok=True)
    env["XDG_CONFIG_HOME"] = str(config)
    ref = _ensure_venv(out / "venv-ref", (REFERENCE_REQUIREMENT,), env=env, log=log)
    pip = _ensure_venv(out / "venv-pip", (), env=env, log=log)
    ours = _ensure_venv(out / "venv-ours", (), env=env, log=log)
    if reinstall:
        _install_ours(ours, repo, env=env, log=log)
    return Envs(ref=ref, ours=ours, pip=pip, process_env=env)


def versions(envs: Envs) -> dict[str, str]:
    """Versions of what is compared, for the report."""
    script = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"

    def version(venv: Path, dist: str) -> str:
        result = subprocess.run(
            [str(venv / "bin" / "python"), "-c", script, dist],
            capture_output=True,
            text=True,
            check=True,
            env=dict(envs.process_env),
        )
        return result.stdout.strip()

    return {
        "in-toto": version(envs.ref, "in-toto"),
        "pip": version(envs.pip, "pip"),
        "intoto-pip": version(envs.ours, "intoto-pip"),
    }


def _ensure_venv(
    path: Path, requirements: tuple[str, ...], *, env: Mapping[str, str], log: Log
) -> Path:
    stamp = path / ".bench-ready"
    if stamp.exists():
        return path
    log(f"creating {path.name} …")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True, env=dict(env))
    _pip(path, ("install", "--quiet", "--upgrade", "pip", *requirements), env=env)
    stamp.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    return path


def _install_ours(venv: Path, repo: Path, *, env: Mapping[str, str], log: Log) -> None:
    # Build from a copy outside the repository: an in-tree build would leave build/ and
    # *.egg-info behind, and the copy cannot change under us while other work goes on.
    with tempfile.TemporaryDirectory(prefix="intoto-pip-bench-src-") as scratch:
        src = Path(scratch) / "src"
        shutil.copytree(repo, src, ignore=_ignore_for(repo))
        digest = _tree_digest(src)
        stamp = venv / ".bench-ours-digest"
        if stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
            return
        log("installing intoto-pip (non-editable) into venv-ours …")
        _pip(venv, ("uninstall", "--quiet", "--yes", "intoto-pip"), env=env, check=False)
        _pip(venv, ("install", "--quiet", str(src)), env=env)
        stamp.write_text(digest, encoding="utf-8")


def _ignore_for(repo: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
        if Path(folder) == repo:
            skipped |= _TOP_LEVEL_SKIP.intersection(names)
        return skipped

    return ignore


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _pip(venv: Path, args: tuple[str, ...], *, env: Mapping[str, str], check: bool = True) -> None:
    command = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *args]
    result = subprocess.run(command, env=dict(env), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
