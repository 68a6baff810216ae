"""``python -m benchmarks.locks``: installing from a PEP 751 lock, three ways, on one index.

A loopback PEP 503 index serves ``--packages`` signed wheels (one project that needs all
the others, each of ``--modules`` modules, with embedded in-toto evidence). ``intoto-pip
lock`` writes ``pylock.toml`` once; then, in alternating rounds, each into a fresh
``--target`` folder:

- lock:    ``intoto-pip install -r pylock.toml`` (no resolution, every wheel verified);
- resolve: ``intoto-pip install app`` of the same requirement (pip resolves, then verified);
- uv:      ``uv pip install -r pylock.toml --no-cache`` (installs the lock, verifies nothing
  but the hashes; no cache, as intoto-pip keeps none).

Prints the median seconds of each and the ratios. Never part of the test run. The wheels are
made with the test suite's signing helpers (``tests/support``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

SIDES = ("lock", "resolve", "uv")


def build_index(root: Path, packages: int, modules: int) -> tuple[Path, Path]:
    """Signed wheels in a PEP 503 tree under ``root``; the owner's public key and the root."""
    from tests.support.index import SimpleIndex
    from tests.support.signing import Project

    project = Project(root / "keys")
    index = SimpleIndex(root / "index")
    deps = [f"dep{i}" for i in range(1, packages)]
    for name in ["app", *deps]:
        files = {f"{name}/m{j}.py": f"X = {j}\n".encode() * 40 for j in range(modules)}
        files[f"{name}/__init__.py"] = b""
        requires = deps if name == "app" else []
        wheel = project.signed_wheel(root / "built", name, "1.0", files, requires=requires)
        index.add(wheel, name)
    return project.owner.public_path, index.root


def commands(lock: Path, url: str, key: Path, target: Path, uv: Path) -> dict[str, list[str]]:
    ours = [sys.executable, "-m", "intoto_pip.cli.main", "install", "-q"]
    trust = ["--layout-key", str(key), "--target", str(target)]
    return {
        "lock": [*ours, "-r", str(lock), *trust],
        "resolve": [*ours, "app", "--index-url", url, *trust],
        "uv": [str(uv), "pip", "install", "-q", "--no-cache", "-r", str(lock), "-t", str(target)],
    }


def run_rounds(root: Path, lock: Path, url: str, key: Path, repeat: int) -> dict[str, list[float]]:
    from tests.support.index import clean_env

    uv = Path(sys.executable).parent / "uv"
    samples: dict[str, list[float]] = {side: [] for side in SIDES}
    for round_number in range(repeat + 1):  # the first round warms up and is dropped
        for side in SIDES:
            target = Path(tempfile.mkdtemp(dir=root, prefix=f"{side}-"))
            command = commands(lock, url, key, target, uv)[side]
            started = time.perf_counter()
            subprocess.run(command, check=True, env=clean_env(UV_NO_CONFIG="1"))
            if round_number:
                samples[side].append(time.perf_counter() - started)
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.locks", description=__doc__)
    parser.add_argument("--packages", type=int, default=8, help="wheels locked (default 8)")
    parser.add_argument("--modules", type=int, default=50, help="modules per wheel (default 50)")
    parser.add_argument("--repeat", type=int, default=5, help="measured rounds (default 5)")
    args = parser.parse_args(argv)
    from tests.support.index import clean_env, serve

    with tempfile.TemporaryDirectory(prefix="bench-locks-") as folder:
        root = Path(folder)
        key, index_root = build_index(root, args.packages, args.modules)
        with serve(index_root) as base:
            url, lock = f"{base}/simple/", root / "pylock.toml"
            locking = [sys.executable, "-m", "intoto_pip.cli.main", "lock", "-q", "app"]
            locking += ["--index-url", url, "--layout-key", str(key), "-o", str(lock)]
            subprocess.run(locking, check=True, env=clean_env())
            samples = run_rounds(root, lock, url, key, args.repeat)
    medians = {side: statistics.median(values) for side, values in samples.items()}
    print(f"{args.packages} signed wheels of {args.modules} modules; {args.repeat} rounds\n")
    print("| install | median s | min s | max s |\n|---|---:|---:|---:|")
    for side in SIDES:
        values = samples[side]
        print(f"| {side} | {medians[side]:.3f} | {min(values):.3f} | {max(values):.3f} |")
    print(f"\nlock / resolve = {medians['lock'] / medians['resolve']:.2f}")
    print(f"lock / uv = {medians['lock'] / medians['uv']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
