"""Deterministic inputs: the same seed gives the same files, byte for byte, on every machine.

Data sets live under ``benchmarks/out/inputs/``. Each is made once; a stamp file *beside*
it (never inside: the verify pair records whole folders) names the parameters it was made
with, and a data set whose stamp differs is made again.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

SEED = 20_240_601
FILES_PER_FOLDER = 500
SMALL_MIN_BYTES = 512
SMALL_MAX_BYTES = 4096
_CHUNK = 4 << 20


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """How big each pair's inputs are."""

    small_files: int
    large_files: int
    large_file_bytes: int
    install_wheel_modules: int
    install_set: int
    install_set_modules: int
    check_dists: int
    check_modules: int
    huge_link: int  # artifacts in pair 8's one link
    scaling: tuple[int, ...]


FULL = Sizes(
    small_files=20_000,
    large_files=4,
    large_file_bytes=64 << 20,
    install_wheel_modules=300,
    install_set=100,
    install_set_modules=20,
    check_dists=100,
    check_modules=99,  # + __init__: 100 modules, 100 .pyc and the dist-info: ~20,700 files
    huge_link=1_000_000,
    scaling=(1_000, 10_000, 100_000),
)
QUICK = Sizes(
    small_files=2_000,
    large_files=4,
    large_file_bytes=8 << 20,
    install_wheel_modules=50,
    install_set=10,
    install_set_modules=10,
    check_dists=10,
    check_modules=20,
    huge_link=20_000,
    scaling=(200, 1_000, 5_000),
)


def small_files(root: Path, count: int) -> Path:
    """A folder holding only ``files/``: ``count`` files of 0.5–4 KiB, 500 per sub-folder."""
    dataset = root / f"small-{count}"
    params = {"kind": "small", "count": count, "seed": SEED, "per_folder": FILES_PER_FOLDER}
    if _is_current(dataset, params):
        return dataset
    rng = random.Random(f"{SEED}-small-{count}")
    files = dataset / "files"
    for index in range(count):
        folder = files / f"d{index // FILES_PER_FOLDER:03d}"
        if index % FILES_PER_FOLDER == 0:
            folder.mkdir(parents=True)
        size = rng.randint(SMALL_MIN_BYTES, SMALL_MAX_BYTES)
        (folder / f"f{index:06d}.dat").write_bytes(rng.randbytes(size))
    _stamp(dataset, params)
    return dataset


def large_files(root: Path, count: int, size: int) -> Path:
    """A folder holding only ``big/``: ``count`` files of ``size`` bytes each."""
    dataset = root / f"large-{count}x{size}"
    params = {"kind": "large", "count": count, "size": size, "seed": SEED}
    if _is_current(dataset, params):
        return dataset
    rng = random.Random(f"{SEED}-large-{count}-{size}")
    big = dataset / "big"
    big.mkdir(parents=True)
    for index in range(count):
        with (big / f"blob{index}.bin").open("wb") as stream:
            for offset in range(0, size, _CHUNK):
                stream.write(rng.randbytes(min(_CHUNK, size - offset)))
    _stamp(dataset, params)
    return dataset


def module_sources(name: str, count: int) -> dict[str, bytes]:
    """``count`` small Python modules (0.5–4 KiB each) of package ``name``."""
    rng = random.Random(f"{SEED}-modules-{name}-{count}")
    sources = {f"{name}/__init__.py": b'"""Benchmark package."""\n'}
    for index in range(count):
        lines = [f'"""Module {index} of {name}."""', ""]
        size = rng.randint(SMALL_MIN_BYTES, SMALL_MAX_BYTES)
        while sum(len(line) + 1 for line in lines) < size:
            lines.append(f"VALUE_{len(lines)} = {rng.randbytes(24).hex()!r}")
        sources[f"{name}/mod_{index:04d}.py"] = ("\n".join(lines) + "\n").encode()
    return sources


def _is_current(dataset: Path, params: dict[str, object]) -> bool:
    stamp = _stamp_path(dataset)
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == params:
        return dataset.is_dir()
    if dataset.exists():
        shutil.rmtree(dataset)
    stamp.unlink(missing_ok=True)
    return False


def _stamp(dataset: Path, params: dict[str, object]) -> None:
    _stamp_path(dataset).write_text(json.dumps(params, sort_keys=True), encoding="utf-8")


def _stamp_path(dataset: Path) -> Path:
    return dataset.with_name(dataset.name + ".stamp")


def describe(sizes: Sizes) -> dict[str, object]:
    return asdict(sizes)
