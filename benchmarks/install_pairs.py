"""Pairs 3 and 4: distributions (A = intoto-pip, B = baseline).

(3) Verified ``intoto-pip install`` of one local wheel carrying signed in-toto metadata
    (embedded, no inspection, so the built-in final-product check hashes every member)
    vs ``pip install --no-deps --no-index`` of the same wheel; both into a fresh ``--target``.
(4) ``intoto-pip verify`` of N wheels at once, each with detached metadata (a step that
    created the wheel, an inspection that unpacks it) vs N sequential ``in-toto-verify``
    runs on the very same layouts and links, each in a folder holding only its wheel.

All signed metadata is made by the reference (``reftool.py``), so both sides read the same
bytes and neither side's producer is measured here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from benchmarks.context import Case, Context, fresh_dir, invocation, reftool, require_ours
from benchmarks.harness import Invocation, Side
from benchmarks.inputs import module_sources
from benchmarks.wheels import base_members, dist_info, sha256_hex, wheel_filename, write_wheel

STEP = "build"
INSPECTION = "unpack"
VERSION = "1.0"


def install_wheel(context: Context) -> Case:
    require_ours(context, "install", "--target", "--layout-key")
    root = fresh_dir(context.work / "p3")
    wheel = _embedded_wheel(context, root, "benchinstall", context.sizes.install_wheel_modules)
    target_a, target_b = root / "target-ours", root / "target-pip"
    # Archives first: --layout-key takes one or more values and would swallow a later path.
    a = (
        context.envs.ours_bin("intoto-pip"),
        "install",
        str(wheel),
        "--no-deps",
        "--no-index",
        "--target",
        str(target_a),
        "--layout-key",
        str(context.keys.owner_pub),
    )
    b = (
        context.envs.pip_bin("pip"),
        "install",
        str(wheel),
        "--disable-pip-version-check",
        "--no-deps",
        "--no-index",
        "--target",
        str(target_b),
    )
    return Case(
        key="3",
        title=f"3. install: one signed wheel ({context.sizes.install_wheel_modules} modules)",
        target=1.0,
        a=Side(
            label="intoto-pip install",
            invocations=(invocation(context, a, root),),
            reset=lambda: _remove(target_a),
        ),
        b=Side(
            label="pip install",
            invocations=(invocation(context, b, root),),
            reset=lambda: _remove(target_b),
        ),
        after=lambda: (f"Installed: intoto-pip {_count(target_a)}, pip {_count(target_b)}.",),
    )


def _count(target: Path) -> str:
    files = [p for p in target.rglob("*") if p.is_file()]
    return f"{len(files)} files ({sum(p.suffix == '.pyc' for p in files)} .pyc)"


def _embedded_wheel(context: Context, root: Path, name: str, modules: int) -> Path:
    """A wheel whose ``<dist-info>/in-toto/`` holds a layout and the link of its build."""
    members = base_members(name, VERSION, module_sources(name, modules))
    meta = fresh_dir(root / "meta")
    products = {member: {"sha256": sha256_hex(data)} for member, data in members.items()}
    layout = _layout_job(context, meta / "root.layout", step_products=[["CREATE", "*"]])
    reftool(context, [_link_job(context, meta, products), layout])
    info = dist_info(name, VERSION)
    for item in sorted(meta.iterdir()):
        members[f"{info}/in-toto/{item.name}"] = item.read_bytes()
    wheel = root / wheel_filename(name, VERSION)
    write_wheel(wheel, name, VERSION, members)
    return wheel


def verify_install_set(context: Context) -> Case:
    require_ours(context, "verify")
    count = context.sizes.install_set
    root = fresh_dir(context.work / "p4")
    wheels = [_detached_wheel(context, root, index) for index in range(count)]
    reftool(context, [job for _, jobs in wheels for job in jobs])
    pub = str(context.keys.owner_pub)
    a = (
        context.envs.ours_bin("intoto-pip"),
        "verify",
        *(w.name for w, _ in wheels),
        "--layout-key",
        pub,
    )
    folders = [_reference_folder(root / "ref" / f"{i:03d}", w) for i, (w, _) in enumerate(wheels)]
    b = tuple(
        _reference_verify(context, folder, wheel, pub)
        for folder, (wheel, _) in zip(folders, wheels, strict=True)
    )
    return Case(
        key="4",
        title=f"4. verify {count} wheels: one `intoto-pip verify` vs {count} × in-toto-verify",
        target=0.5,
        a=Side(label="intoto-pip verify", invocations=(invocation(context, a, root / "wheels"),)),
        b=Side(
            label=f"{count} × in-toto-verify", invocations=b, reset=lambda: _reset_folders(folders)
        ),
    )


def _detached_wheel(
    context: Context, root: Path, index: int
) -> tuple[Path, list[dict[str, object]]]:
    """Write wheel ``index`` and return it with the jobs that make its detached metadata."""
    name = f"benchset{index:03d}"
    members = base_members(name, VERSION, module_sources(name, context.sizes.install_set_modules))
    wheel = root / "wheels" / wheel_filename(name, VERSION)
    wheel.parent.mkdir(parents=True, exist_ok=True)
    write_wheel(wheel, name, VERSION, members)
    meta = wheel.with_name(wheel.name + ".intoto")
    meta.mkdir()
    match = ["MATCH", wheel.name, "WITH", "PRODUCTS", "FROM", STEP]
    inspection = {
        "name": INSPECTION,
        "run": ["python3", "-m", "zipfile", "-e", wheel.name, "unpacked"],
        "expected_materials": [match, ["DISALLOW", "*"]],
        "expected_products": [match, ["ALLOW", "unpacked/*"], ["DISALLOW", "*"]],
    }
    products = {wheel.name: {"sha256": sha256_hex(wheel.read_bytes())}}
    layout = _layout_job(
        context, meta / "root.layout", step_products=[["CREATE", wheel.name]], inspection=inspection
    )
    return wheel, [_link_job(context, meta, products), layout]


def _reference_folder(folder: Path, wheel: Path) -> Path:
    folder.mkdir(parents=True)
    os.link(wheel, folder / wheel.name)
    return folder


def _reference_verify(context: Context, folder: Path, wheel: Path, pub: str) -> Invocation:
    meta = str(wheel.with_name(wheel.name + ".intoto"))
    argv = (
        context.envs.ref_bin("in-toto-verify"),
        "--layout",
        f"{meta}/root.layout",
        "--verification-keys",
        pub,
        "--link-dir",
        meta,
    )
    return invocation(context, argv, folder)


def _reset_folders(folders: list[Path]) -> None:
    """Leave each reference folder holding only its wheel (the inspection unpacks into it)."""
    for folder in folders:
        for entry in folder.iterdir():
            if entry.suffix == ".whl":
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def _link_job(
    context: Context, meta: Path, products: dict[str, dict[str, str]]
) -> dict[str, object]:
    return {
        "op": "link",
        "out_dir": str(meta),
        "signing_key": str(context.keys.functionary),
        "name": STEP,
        "products": products,
    }


def _layout_job(
    context: Context,
    out: Path,
    *,
    step_products: list[list[str]],
    inspection: Mapping[str, object] | None = None,
) -> dict[str, object]:
    step = {
        "name": STEP,
        "functionary": 0,
        "expected_materials": [["DISALLOW", "*"]],
        "expected_products": [*step_products, ["DISALLOW", "*"]],
    }
    return {
        "op": "layout",
        "out": str(out),
        "signing_key": str(context.keys.owner),
        "functionaries": [str(context.keys.functionary_pub)],
        "steps": [step],
        "inspect": [] if inspection is None else [inspection],
    }


def _remove(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
