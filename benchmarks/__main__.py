"""``python -m benchmarks``: intoto-pip side by side with the reference in-toto 3.x and pip.

Sets up its own environments and inputs under ``benchmarks/out/``, runs each pair A B A B …
after a warm-up, and prints a markdown table (and, with ``--scaling``, how costs grow with
the number of artifacts). Never part of the test run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from benchmarks import check_pair, floor, huge_link, install_pairs, pairs, realset
from benchmarks.context import Case, Context, Unavailable, make_context
from benchmarks.envs import ensure_envs, versions
from benchmarks.harness import CommandFailed, Launcher, alternate, run_side, summarize
from benchmarks.inputs import FULL, QUICK, describe, large_files, small_files
from benchmarks.report import Row, machine, main_table, scaling_table, write_json

REPO = Path(__file__).resolve().parent.parent
Builder = Callable[[Context], Case]
PAIRS: dict[str, Builder] = {
    "1-small": pairs.record_small,
    "1-large": pairs.record_large,
    "2": pairs.verify_folder,
    "3": install_pairs.install_wheel,
    "3-venv": partial(realset.real_set_pair, key="3-venv"),
    "4": install_pairs.verify_install_set,
    "5": pairs.startup,
    "6": check_pair.check_environment,
    "7-pip": partial(realset.real_set_pair, key="7-pip"),
    "7-uv": partial(realset.real_set_pair, key="7-uv"),
    "7-no-compile": partial(realset.real_set_pair, key="7-no-compile"),
    "7-unverified": partial(realset.real_set_pair, key="7-unverified"),
    "8": huge_link.verify_huge_link,
}
# Measured only when named in --only: the reference needs over a gigabyte and half a minute
# for each round of pair 8.
OPT_IN = frozenset({"8"})
SCALED: dict[str, Callable[[Context, int], Case]] = {
    "1-small": pairs.record_small,
    "2": pairs.verify_folder,
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--only",
        type=_pair_list,
        default=[key for key in PAIRS if key not in OPT_IN],
        help=(
            "comma-separated pairs: 1 (= 1-small,1-large), 1-small, 1-large, 2, "
            "3 (= 3,3-venv), 3-venv, 4-6, 7 (= 7-pip,7-uv,7-no-compile,7-unverified), "
            "8 (a link of 1,000,000 artifacts; only when named)"
        ),
    )
    parser.add_argument("--repeat", type=int, help="measured rounds per pair (default 5; 2 quick)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded rounds first (default 1)")
    parser.add_argument("--quick", action="store_true", help="small inputs for a smoke run")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="also measure pairs 1 (small files) and 2 at 1,000/10,000/100,000",
    )
    parser.add_argument("--scaling-repeat", type=int, default=3, help="rounds per scaling point")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every sample here")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "out",
        help="environments, inputs and scratch (default benchmarks/out)",
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep benchmarks/out/work/ for inspection"
    )
    parser.add_argument(
        "--no-reinstall",
        action="store_true",
        help="keep the installed intoto-pip even if the sources changed",
    )
    return parser.parse_args(argv)


def _pair_list(text: str) -> list[str]:
    chosen: list[str] = []
    for token in (t.strip() for t in text.split(",") if t.strip()):
        expanded = [k for k in PAIRS if k == token or k.split("-")[0] == token]
        if not expanded:
            raise argparse.ArgumentTypeError(
                f"unknown pair {token!r}; pairs: 1, {', '.join(PAIRS)}"
            )
        chosen.extend(k for k in expanded if k not in chosen)
    return chosen


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(
    key: str, build: Callable[[], Case], launcher: Launcher, *, repeat: int, warmup: int
) -> Row:
    """Build one pair and run it; a pair that cannot run becomes a row saying why."""
    try:
        case = build()
    except Unavailable as exc:
        log(f"pair {key}: unavailable: {exc}")
        return Row(key=key, title=f"pair {key}", target=None, problem=f"unavailable: {exc}")
    log(f"pair {case.key}: {case.title}")
    row = Row(
        key=case.key,
        title=case.title,
        target=case.target,
        a_label=case.a.label,
        b_label=case.b.label,
        artifacts=case.artifacts,
        notes=case.notes,
    )
    try:
        samples = alternate(
            lambda: run_side(case.a, launcher),
            lambda: run_side(case.b, launcher),
            repeat=repeat,
            warmup=warmup,
        )
    except CommandFailed as exc:
        log(f"pair {key}: failed: {exc}")
        return replace(row, problem=f"failed: {exc}")
    summary = summarize(samples)
    log(f"pair {key}: A/B = {summary.ratio_median:.2f}")
    notes = case.notes + (case.after() if case.after is not None else ())
    return replace(row, samples=samples, summary=summary, notes=notes)


def run_all(context: Context, args: argparse.Namespace, repeat: int) -> tuple[list[Row], list[Row]]:
    """The chosen pairs, then (with --scaling) the growth series."""
    with Launcher() as launcher:
        rows = [
            measure(key, partial(PAIRS[key], context), launcher, repeat=repeat, warmup=args.warmup)
            for key in args.only
        ]
        series = [(k, n) for k in args.only if k in SCALED for n in context.sizes.scaling]
        scaling = [
            measure(
                f"{key}@{n}",
                partial(SCALED[key], context, n),
                launcher,
                repeat=args.scaling_repeat,
                warmup=args.warmup,
            )
            for key, n in (series if args.scaling else [])
        ]
    return rows, scaling


def hashing_notes(context: Context, rows: Sequence[Row], limit: floor.HashingLimit) -> list[str]:
    notes = [
        f"Hashing limit: sha256 (hashlib) {limit.mib_per_s_per_core:.0f} MiB/s per core × "
        f"{limit.cores} cores = {limit.mib_per_s:.0f} MiB/s."
    ]
    sizes = context.sizes
    datasets = {
        "1-small": small_files(context.inputs, sizes.small_files) / "files",
        "1-large": large_files(context.inputs, sizes.large_files, sizes.large_file_bytes) / "big",
    }
    for row in rows:
        if row.key in datasets and row.summary is not None:
            total = floor.tree_bytes(datasets[row.key])
            least = limit.floor_seconds(total)
            notes.append(
                f"Pair {row.key}: {total / (1 << 20):.0f} MiB to hash, "
                f"floor {least * 1000:.0f} ms; "
                f"best possible A/B ≈ {least / row.summary.b_median:.2f}; "
                f"A is {row.summary.a_median / least:.1f}× the floor."
            )
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeat = args.repeat or (2 if args.quick else 5)
    args.out.mkdir(parents=True, exist_ok=True)
    envs = ensure_envs(args.out, REPO, log=log, reinstall=not args.no_reinstall)
    context = make_context(envs, args.out, sizes)
    load_before = machine()["load"]
    limit = floor.measure()
    rows, scaling = run_all(context, args, repeat)
    info = {
        "command": " ".join(["python -m benchmarks", *argv]),
        "machine": machine(),
        "load_before": load_before,
        "versions": versions(envs),
        "sizes": describe(sizes),
        "repeat": repeat,
        "warmup": args.warmup,
    }
    notes = [f"Pair {row.key}: {note}" for row in rows for note in row.notes]
    _print(info, rows, scaling, hashing_notes(context, rows, limit) + notes)
    if args.json:
        write_json(args.json, rows, context=info, scaling=scaling)
    if not args.keep_work:
        # Scratch trees hold installed and unpacked modules; leave no stray Python behind.
        shutil.rmtree(context.work)
    return 0


def _print(info: dict[str, object], rows: list[Row], scaling: list[Row], notes: list[str]) -> None:
    m, v = info["machine"], info["versions"]
    assert isinstance(m, dict) and isinstance(v, dict)
    print(f"{m['date']}; {m['cores']} cores, {m['cpu']}; Python {m['python']}; {m['system']}")
    print(f"command: {info['command']}")
    print(f"load average at the start: {info['load_before']}; at the end: {m['load']}")
    print(
        f"intoto-pip {v['intoto-pip']} vs in-toto {v['in-toto']} and pip {v['pip']}; "
        f"{info['warmup']} warm-up + {info['repeat']} measured rounds, A B alternating\n"
    )
    print(main_table(rows))
    print()
    for note in notes:
        print(f"- {note}")
    if scaling:
        print()
        print(scaling_table(scaling))
    return


if __name__ == "__main__":
    sys.exit(main())
