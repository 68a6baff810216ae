"""Pairs 1, 2 and 5: recording, folder verification, start-up (A = intoto-pip, B = baseline).

(1) ``intoto-pip run`` vs ``in-toto-run`` recording products: many small files, then a few
    large ones; each side signs with an ed25519 key its own tools made.
(2) ``intoto-pip verify --layout`` vs ``in-toto-verify`` on one layout and one link, both
    made by the reference: a step whose link holds every file and an inspection that records
    the same files again; both sides check MATCH/DISALLOW rules over all of them.
(5) ``intoto-pip --version`` vs ``python -c pass`` in the same interpreter.
"""

from __future__ import annotations

import shutil
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
from benchmarks.inputs import large_files, small_files

STEP = "build"
INSPECTION = "check"
STARTUP_RUNS = 20


def record_small(context: Context, scale: int | None = None) -> Case:
    """Pair 1 on small files; ``scale`` overrides the count for the growth series."""
    count = context.sizes.small_files if scale is None else scale
    dataset = small_files(context.inputs, count)
    return _record_case(
        context,
        dataset,
        "files",
        key=_key("1-small", scale),
        target=0.40,
        title=f"1. run: record {count:,} small files",
        artifacts=count,
    )


def record_large(context: Context) -> Case:
    sizes = context.sizes
    dataset = large_files(context.inputs, sizes.large_files, sizes.large_file_bytes)
    total_mib = sizes.large_files * sizes.large_file_bytes >> 20
    return _record_case(
        context,
        dataset,
        "big",
        key="1-large",
        target=0.60,
        title=f"1. run: record {total_mib} MiB in {sizes.large_files} files",
        artifacts=sizes.large_files,
    )


def _record_case(
    context: Context,
    dataset: Path,
    folder: str,
    *,
    key: str,
    target: float,
    title: str,
    artifacts: int,
) -> Case:
    require_ours(context, "run")
    our_key = _our_signing_key(context)
    out_a = fresh_dir(context.work / f"p{key}-ours")
    out_b = fresh_dir(context.work / f"p{key}-ref")
    envs = context.envs
    a = (
        envs.ours_bin("intoto-pip"),
        "run",
        "-n",
        STEP,
        "--signing-key",
        str(our_key),
        "-p",
        folder,
        "-d",
        str(out_a),
        "--",
        "true",
    )
    b = (
        envs.ref_bin("in-toto-run"),
        "-n",
        STEP,
        "--signing-key",
        str(context.keys.functionary),
        "-p",
        folder,
        "-d",
        str(out_b),
        "--",
        "true",
    )
    return Case(
        key=key,
        title=title,
        target=target,
        a=Side(label="intoto-pip run", invocations=(invocation(context, a, dataset),)),
        b=Side(label="in-toto-run", invocations=(invocation(context, b, dataset),)),
        artifacts=artifacts,
    )


def _our_signing_key(context: Context) -> Path:
    key = context.work / "keys" / "ours"
    if not key.exists():
        require_ours(context, "keygen")
        setup_run(context, (context.envs.ours_bin("intoto-pip"), "keygen", str(key)), context.work)
    return key


def verify_folder(context: Context, scale: int | None = None) -> Case:
    """Pair 2; ``scale`` overrides the artifact count for the growth series."""
    count = context.sizes.small_files if scale is None else scale
    require_ours(context, "verify", "--layout")
    dataset = small_files(context.inputs, count)
    meta = fresh_dir(context.work / f"p{_key('2', scale)}")
    _clean_dataset(dataset)
    keys = context.keys
    setup_run(
        context,
        (
            context.envs.ref_bin("in-toto-run"),
            "-n",
            STEP,
            "--signing-key",
            str(keys.functionary),
            "-p",
            "files",
            "-d",
            str(meta),
            "--",
            "true",
        ),
        dataset,
    )
    reftool(context, [_verify_layout_job(context, meta / "root.layout")])
    layout, pub = str(meta / "root.layout"), str(keys.owner_pub)
    a = (
        context.envs.ours_bin("intoto-pip"),
        "verify",
        "--layout",
        layout,
        "--layout-key",
        pub,
        "--link-dir",
        str(meta),
    )
    b = (
        context.envs.ref_bin("in-toto-verify"),
        "--layout",
        layout,
        "--verification-keys",
        pub,
        "--link-dir",
        str(meta),
    )
    reset = lambda: _clean_dataset(dataset)  # noqa: E731
    return Case(
        key=_key("2", scale),
        title=f"2. verify: layout, {count:,} artifacts, step + inspection",
        target=0.35,
        a=Side(
            label="intoto-pip verify", invocations=(invocation(context, a, dataset),), reset=reset
        ),
        b=Side(label="in-toto-verify", invocations=(invocation(context, b, dataset),), reset=reset),
        artifacts=count,
    )


def _verify_layout_job(context: Context, out: Path) -> dict[str, object]:
    match_build = ["MATCH", "files/*", "WITH", "PRODUCTS", "FROM", STEP]
    return {
        "op": "layout",
        "out": str(out),
        "signing_key": str(context.keys.owner),
        "functionaries": [str(context.keys.functionary_pub)],
        "steps": [
            {
                "name": STEP,
                "functionary": 0,
                "expected_command": ["true"],
                "expected_materials": [["DISALLOW", "*"]],
                "expected_products": [["CREATE", "files/*"], ["DISALLOW", "*"]],
            }
        ],
        "inspect": [
            {
                "name": INSPECTION,
                "run": ["true"],
                "expected_materials": [match_build, ["DISALLOW", "*"]],
                "expected_products": [match_build, ["DISALLOW", "*"]],
            }
        ],
    }


def _clean_dataset(dataset: Path) -> None:
    """Remove what verification left beside ``files/`` (the inspection's link file)."""
    for entry in dataset.iterdir():
        if entry.name == "files":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def startup(context: Context) -> Case:
    envs = context.envs
    a = invocation(context, (envs.ours_bin("intoto-pip"), "--version"), context.work)
    b = invocation(context, (envs.ours_bin("python"), "-c", "pass"), context.work)
    return Case(
        key="5",
        title=f"5. start-up: `intoto-pip --version` vs `python -c pass` (×{STARTUP_RUNS})",
        target=1.5,
        a=Side(label="intoto-pip --version", invocations=(a,) * STARTUP_RUNS),
        b=Side(label="python -c pass", invocations=(b,) * STARTUP_RUNS),
    )


def _key(key: str, scale: int | None) -> str:
    return key if scale is None else f"{key}@{scale}"
