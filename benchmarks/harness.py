"""Measure two commands side by side: alternating runs, medians, pairwise ratios, peak memory.

Each side of a pair is one or more processes run one after the other and timed as a whole.
Runs alternate A B A B … after a warm-up, so drifts of the machine (page cache, CPU clock,
other load) fall on both sides alike; the headline figure is the median of the per-round
ratios A/B, which is less sensitive to such drifts than the ratio of two medians.

Peak memory is ``ru_maxrss`` of ``os.wait4`` for each process: the largest resident set of
that process or of any descendant it waited for. It is the peak of the largest single
process, not the sum of a process tree.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class CommandFailed(Exception):
    """A measured process exited non-zero: the pair cannot be measured."""


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """One process: its argument vector, working folder and environment."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One timed run of a side: wall-clock seconds and peak RSS in KiB."""

    seconds: float
    max_rss_kib: int


@dataclass(frozen=True, kw_only=True)
class Side:
    """What one side of a pair runs; ``reset`` runs untimed before every run."""

    label: str
    invocations: tuple[Invocation, ...]
    reset: Callable[[], None] | None = None


@dataclass(frozen=True, kw_only=True)
class PairSamples:
    """The timed (post warm-up) samples of both sides, in round order."""

    a: tuple[Sample, ...]
    b: tuple[Sample, ...]


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the report shows for one pair."""

    a_median: float
    b_median: float
    ratio_median: float
    ratio_min: float
    ratio_max: float
    a_max_rss_kib: int
    b_max_rss_kib: int
    rounds: int
    ratios: tuple[float, ...] = field(default=())


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle values for an even count)."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def pairwise_ratios(a: Sequence[float], b: Sequence[float]) -> tuple[float, ...]:
    """A/B for each round; both sequences come from the same alternating rounds."""
    if len(a) != len(b):
        raise ValueError(f"unequal rounds: {len(a)} A samples, {len(b)} B samples")
    if any(value <= 0 for value in b):
        raise ValueError("a B sample is not positive; a ratio needs a positive divisor")
    return tuple(x / y for x, y in zip(a, b, strict=True))


def summarize(samples: PairSamples) -> Summary:
    a_times = [s.seconds for s in samples.a]
    b_times = [s.seconds for s in samples.b]
    ratios = pairwise_ratios(a_times, b_times)
    return Summary(
        a_median=median(a_times),
        b_median=median(b_times),
        ratio_median=median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        a_max_rss_kib=max(s.max_rss_kib for s in samples.a),
        b_max_rss_kib=max(s.max_rss_kib for s in samples.b),
        rounds=len(ratios),
        ratios=ratios,
    )


def meets(ratio: float, target: float | None) -> bool | None:
    """Whether a ratio reaches its target (lower is better); None when there is no target."""
    return None if target is None else ratio <= target


def growth_exponents(points: Sequence[tuple[int, float]]) -> tuple[float, ...]:
    """Local exponents k in cost ∝ n**k between consecutive (n, seconds) points.

    1.0 is linear growth; a fixed start-up cost pulls the first exponents below 1.
    """
    ordered = sorted(points)
    exponents = []
    for (n1, t1), (n2, t2) in zip(ordered, ordered[1:], strict=False):
        if n1 <= 0 or n2 <= n1 or t1 <= 0 or t2 <= 0:
            raise ValueError(f"cannot fit growth between {(n1, t1)} and {(n2, t2)}")
        exponents.append(math.log(t2 / t1) / math.log(n2 / n1))
    return tuple(exponents)


def alternate(
    run_a: Callable[[], Sample], run_b: Callable[[], Sample], *, repeat: int, warmup: int
) -> PairSamples:
    """Run A B A B …: ``warmup`` discarded rounds, then ``repeat`` kept ones."""
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got {repeat} and {warmup}")
    for _ in range(warmup):
        run_a()
        run_b()
    a: list[Sample] = []
    b: list[Sample] = []
    for _ in range(repeat):
        a.append(run_a())
        b.append(run_b())
    return PairSamples(a=tuple(a), b=tuple(b))


def run_side(side: Side) -> Sample:
    """Run a side's processes in order; time them as one; fail on a non-zero exit."""
    if side.reset is not None:
        side.reset()
    peak = 0
    start = time.perf_counter()
    for invocation in side.invocations:
        peak = max(peak, _run_one(side.label, invocation))
    return Sample(seconds=time.perf_counter() - start, max_rss_kib=peak)


def _run_one(label: str, invocation: Invocation) -> int:
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            invocation.argv,
            cwd=invocation.cwd,
            env=dict(invocation.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        # wait4 instead of Popen.wait: it also returns the child's resource usage.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise CommandFailed(
                f"{label}: {Path(invocation.argv[0]).name} exited {process.returncode}: "
                f"{_last_line(stderr.read())}"
            )
    # Linux reports ru_maxrss in KiB.
    return int(usage.ru_maxrss)


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else "(no message)"
