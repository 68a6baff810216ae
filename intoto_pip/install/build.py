"""Building a wheel from a verified sdist, in an isolated environment (DESIGN §7).

Only a verified sdist is ever built: its product members are unpacked into a private folder,
a fresh virtual environment is made with the *target* interpreter, the build requirements are
installed into it by ``intoto-pip install`` itself (so they pass the same policy: verified, or
named by ``--allow-unverified``), and the PEP 517 hooks run there in a subprocess with a
minimal environment. No network access is made by the hooks themselves beyond what the
backend does.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from intoto_pip.errors import InstallError, VerificationError

BUILD_TIMEOUT = 1800.0
# PEP 517: without [build-system], build with setuptools' legacy backend.
DEFAULT_REQUIRES = ("setuptools>=40.8.0",)
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"

_HOOK = r"""
import importlib, json, os, sys
request = json.load(sys.stdin)
sys.path[:0] = request["backend_path"]
module, _, attr = request["backend"].partition(":")
backend = importlib.import_module(module)
for part in filter(None, attr.split(".")):
    backend = getattr(backend, part)
hook = getattr(backend, request["hook"], None)
if hook is None:
    result = [] if request["hook"].startswith("get_requires") else None
else:
    result = hook(*request["args"])
with open(request["result"], "w", encoding="utf-8") as out:
    json.dump(result, out)
"""


@dataclass(frozen=True, kw_only=True)
class BuildSystem:
    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...]


# Installs requirements into an environment (the pipeline, recursively): (python, requirements).
InstallInto = Callable[[Path, Sequence[str]], None]


def read_build_system(source: Path) -> BuildSystem:
    """[build-system] from the unpacked sdist's pyproject.toml (PEP 517/518 defaults)."""
    path = source / "pyproject.toml"
    if not path.is_file():
        return BuildSystem(requires=DEFAULT_REQUIRES, backend=DEFAULT_BACKEND, backend_path=())
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("build-system", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VerificationError(f"{path.name}: not valid TOML ({exc})") from exc
    requires = table.get("requires", list(DEFAULT_REQUIRES))
    backend = table.get("build-backend", DEFAULT_BACKEND)
    backend_path = table.get("backend-path", [])
    if not (_strings(requires) and isinstance(backend, str) and _strings(backend_path)):
        raise VerificationError(f"{path}: malformed [build-system] table")
    for entry in backend_path:
        resolved = (source / entry).resolve()
        if not resolved.is_relative_to(source.resolve()):
            raise VerificationError(f"{path}: backend-path {entry!r} leaves the source tree")
    return BuildSystem(
        requires=tuple(requires),
        backend=backend,
        backend_path=tuple(str((source / e).resolve()) for e in backend_path),
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def make_build_env(python: str, folder: Path) -> Path:
    """A fresh virtual environment without pip, made by the target interpreter."""
    env_dir = folder / "build-env"
    _run([python, "-I", "-m", "venv", "--without-pip", str(env_dir)], cwd=folder, what="venv")
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build_wheel(source: Path, python: str, folder: Path, install_into: InstallInto) -> Path:
    """Build a wheel of the verified source tree ``source``; return the wheel's path."""
    system = read_build_system(source)
    env_python = make_build_env(python, folder)
    if system.requires:
        install_into(env_python, system.requires)
    extra = _call_hook(env_python, source, system, "get_requires_for_build_wheel", [None], folder)
    if isinstance(extra, list) and extra:
        install_into(env_python, [str(item) for item in extra])
    out = folder / "wheel"
    out.mkdir()
    name = _call_hook(env_python, source, system, "build_wheel", [str(out), None, None], folder)
    wheel = out / str(name)
    if not isinstance(name, str) or "/" in name or not wheel.is_file():
        raise InstallError(f"the build backend {system.backend} did not produce a wheel")
    return wheel


def _call_hook(
    python: Path, source: Path, system: BuildSystem, hook: str, args: list[object], folder: Path
) -> object:
    result_file = folder / f"{hook}.json"
    request = {
        "backend": system.backend,
        "backend_path": list(system.backend_path),
        "hook": hook,
        "args": args,
        "result": str(result_file),
    }
    # -I: the source tree (the cwd) is not on sys.path, as with pip's own hook runner: the
    # backend comes from the build environment or backend-path, never a module shadowing it.
    _run([str(python), "-I", "-c", _HOOK], cwd=source, what=hook, stdin=json.dumps(request))
    try:
        return json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InstallError(f"build hook {hook} gave no result ({exc})") from exc


def _run(command: list[str], *, cwd: Path, what: str, stdin: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    env["PIP_CONFIG_FILE"] = os.devnull
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            input=(stdin or "").encode(),
            capture_output=True,
            timeout=BUILD_TIMEOUT,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"building failed at {what}: {exc}") from exc
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise InstallError(f"building failed at {what}: {(lines or ['no output'])[-1]}")
