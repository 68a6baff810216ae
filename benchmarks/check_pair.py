"""Pair 6: ``intoto-pip check`` of a whole environment vs ``pip list`` of it.

The environment (a ``python -m venv`` with pip) holds N distributions installed by
``intoto-pip install``, each a wheel of M modules carrying its signed layout and build link,
so the check hashes every file (about 20,000 with the bytecode), re-verifies every layout
and link, and compares every file with the evidence. ``pip list`` only starts and reads the
metadata: the goal is that checking everything costs no more than that.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks.context import (
    Case,
    Context,
    fresh_dir,
    invocation,
    reftool,
    require_ours,
    setup_run,
)
from benchmarks.harness import Side
from benchmarks.inputs import module_sources
from benchmarks.wheels import base_members, dist_info, sha256_hex, wheel_filename, write_wheel

STEP = "build"
VERSION = "1.0"


def check_environment(context: Context) -> Case:
    require_ours(context, "check", "--python", "--layout-key")
    root = fresh_dir(context.work / "p6")
    wheels = _signed_wheels(context, root)
    env = root / "env"
    setup_run(context, (_base_python(context), "-m", "venv", str(env)), root)
    python = env / "bin" / "python"
    install = (context.envs.ours_bin("intoto-pip"), "install", *map(str, wheels))
    flags = ("--no-deps", "--no-index", "--python", str(python), "-q")
    setup_run(context, (*install, *flags, "--layout-key", str(context.keys.owner_pub)), root)
    a = (
        context.envs.ours_bin("intoto-pip"),
        "check",
        "--python",
        str(python),
        "--layout-key",
        str(context.keys.owner_pub),
        "-q",
    )
    b = (str(env / "bin" / "pip"), "list", "--disable-pip-version-check")
    count = context.sizes.check_dists
    return Case(
        key="6",
        title=f"6. check an environment of {count} verified distributions vs `pip list`",
        target=1.0,
        a=Side(label="intoto-pip check", invocations=(invocation(context, a, root),)),
        b=Side(label="pip list", invocations=(invocation(context, b, root),)),
        after=lambda: (f"Environment: {_count(env)}.",),
    )


def _base_python(context: Context) -> str:
    """The interpreter the benchmark environments were made with (it has ``venv``)."""
    candidate = Path(context.envs.pip_bin("python"))
    return str(candidate) if candidate.exists() else sys.executable


def _signed_wheels(context: Context, root: Path) -> list[Path]:
    """N wheels, each with the one layout and its own build link embedded."""
    names = [f"benchcheck{index:03d}" for index in range(context.sizes.check_dists)]
    members = {
        name: base_members(name, VERSION, module_sources(name, context.sizes.check_modules))
        for name in names
    }
    meta = fresh_dir(root / "meta")
    jobs: list[dict[str, object]] = [_layout_job(context, meta / "root.layout")]
    for name in names:
        products = {m: {"sha256": sha256_hex(data)} for m, data in members[name].items()}
        jobs.append(_link_job(context, fresh_dir(meta / name), products))
    reftool(context, jobs)
    layout = (meta / "root.layout").read_bytes()
    wheels = []
    for name in names:
        info = dist_info(name, VERSION)
        members[name][f"{info}/in-toto/root.layout"] = layout
        for link in sorted((meta / name).iterdir()):
            members[name][f"{info}/in-toto/{link.name}"] = link.read_bytes()
        wheel = root / "wheels" / wheel_filename(name, VERSION)
        wheel.parent.mkdir(exist_ok=True)
        write_wheel(wheel, name, VERSION, members[name])
        wheels.append(wheel)
    return wheels


def _link_job(
    context: Context, out: Path, products: dict[str, dict[str, str]]
) -> dict[str, object]:
    return {
        "op": "link",
        "out_dir": str(out),
        "signing_key": str(context.keys.functionary),
        "name": STEP,
        "products": products,
    }


def _layout_job(context: Context, out: Path) -> dict[str, object]:
    step = {
        "name": STEP,
        "functionary": 0,
        "expected_materials": [["DISALLOW", "*"]],
        "expected_products": [["CREATE", "*"], ["DISALLOW", "*"]],
    }
    return {
        "op": "layout",
        "out": str(out),
        "signing_key": str(context.keys.owner),
        "functionaries": [str(context.keys.functionary_pub)],
        "steps": [step],
        "inspect": [],
    }


def _count(env: Path) -> str:
    files = sum(len(names) for _, _, names in os.walk(env / "lib"))
    return f"{files} files under lib/ (pip's own included)"
