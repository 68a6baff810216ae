"""Turn measured pairs into markdown tables and a JSON record."""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.harness import PairSamples, Summary, growth_exponents, marginal_costs, meets


@dataclass(frozen=True, kw_only=True)
class Row:
    """One pair's outcome: figures, or the reason there are none."""

    key: str
    title: str
    target: float | None
    a_label: str = "intoto-pip"
    b_label: str = "baseline"
    artifacts: int | None = None
    samples: PairSamples | None = None
    summary: Summary | None = None
    problem: str | None = None
    notes: tuple[str, ...] = ()


def machine() -> dict[str, str]:
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(len(os.sched_getaffinity(0))),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        # Other work on the machine skews every figure; the load average says how much.
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _verdict(row: Row) -> str:
    if row.summary is None:
        return "—"
    met = meets(row.summary.ratio_median, row.target)
    return "—" if met is None else ("yes" if met else "**no**")


def main_table(rows: Sequence[Row]) -> str:
    lines = [
        "| pair | A: intoto-pip (median) | B: baseline (median) "
        "| A/B, median of pairwise ratios [min–max] | target | met? | peak RSS A / B (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = "—" if row.target is None else f"≤ {row.target:.2f}"
        if row.summary is None:
            lines.append(f"| {row.title} | {row.problem} | | | {target} | — | |")
            continue
        s = row.summary
        lines.append(
            f"| {row.title} | {_seconds(s.a_median)} | {_seconds(s.b_median)} "
            f"| **{s.ratio_median:.2f}** [{s.ratio_min:.2f}–{s.ratio_max:.2f}] | {target} "
            f"| {_verdict(row)} | {_mib(s.a_max_rss_kib)} / {_mib(s.b_max_rss_kib)} |"
        )
    return "\n".join(lines)


def scaling_table(rows: Sequence[Row]) -> str:
    lines = [
        "| pair | artifacts | A median | B median | A/B | A µs/artifact | B µs/artifact |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.summary is None or not row.artifacts:
            lines.append(f"| {row.key} | {row.artifacts or ''} | {row.problem} | | | | |")
            continue
        s, n = row.summary, row.artifacts
        lines.append(
            f"| {row.key.split('@')[0]} | {n:,} | {_seconds(s.a_median)} | {_seconds(s.b_median)} "
            f"| {s.ratio_median:.2f} | {s.a_median / n * 1e6:.1f} | {s.b_median / n * 1e6:.1f} |"
        )
    lines.extend(["", *growth_lines(rows)])
    return "\n".join(lines)


def growth_lines(rows: Sequence[Row]) -> list[str]:
    """Per pair and side: exponents k of cost ∝ n**k, and the cost of each added artifact."""
    lines = []
    for pair in dict.fromkeys(row.key.split("@")[0] for row in rows):
        measured = [
            (r.artifacts, r.summary)
            for r in rows
            if r.key.split("@")[0] == pair and r.summary is not None and r.artifacts
        ]
        if len(measured) < 2:
            continue
        for side in ("A", "B"):
            points = [(n, s.a_median if side == "A" else s.b_median) for n, s in measured]
            exponents = ", ".join(f"{k:.2f}" for k in growth_exponents(points))
            marginal = ", ".join(f"{c * 1e6:.1f}" for c in marginal_costs(points))
            lines.append(
                f"- pair {pair}, side {side}: growth exponents {exponents} (1.00 = linear); "
                f"µs per added artifact {marginal} (equal = linear)"
            )
    return lines


def write_json(
    path: Path, rows: Sequence[Row], *, context: dict[str, object], scaling: Sequence[Row]
) -> None:
    def encode(row: Row) -> dict[str, object]:
        return asdict(row)

    document = {
        **context,
        "pairs": [encode(r) for r in rows],
        "scaling": [encode(r) for r in scaling],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
