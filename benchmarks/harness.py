"""Measure two commands side by side: alternating runs, medians, pairwise ratios, peak memory.

Each side of a pair is one or more processes run one after the other and timed as a whole.
Runs alternate A B A B … after a warm-up, so drifts of the machine (page cache, CPU clock,
other load) fall on both sides alike; the headline figure is the median of the per-round
ratios A/B, which is less sensitive to such drifts than the ratio of two medians.

Processes are started, timed and reaped by ``launcher.py`` (see there why). Peak memory is
``ru_maxrss`` of ``os.wait4`` for each process: the largest resident set of that process or
of any descendant it waited for — the peak of the largest single process, not the sum of a
process tree.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


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
    for (n1, t1), (n2, t2) in itertools.pairwise(ordered):
        if n1 <= 0 or n2 <= n1 or t1 <= 0 or t2 <= 0:
            raise ValueError(f"cannot fit growth between {(n1, t1)} and {(n2, t2)}")
        exponents.append(math.log(t2 / t1) / math.log(n2 / n1))
    return tuple(exponents)


def marginal_costs(points: Sequence[tuple[int, float]]) -> tuple[float, ...]:
    """Seconds per added artifact between consecutive (n, seconds) points.

    Start-up cost cancels out: linear growth shows as equal marginal costs.
    """
    ordered = sorted(points)
    costs = []
    for (n1, t1), (n2, t2) in itertools.pairwise(ordered):
        if n2 <= n1:
            raise ValueError(f"cannot take a marginal cost between {n1} and {n2} artifacts")
        costs.append((t2 - t1) / (n2 - n1))
    return tuple(costs)


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


class Launcher:
    """A running ``launcher.py``: forks, times and reaps each measured process."""

    def __init__(self) -> None:
        script = Path(__file__).with_name("launcher.py")
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._stderr = Path(tempfile.mkdtemp(prefix="bench-")) / "stderr"

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Closing stdin ends the launcher's request loop.
        self._process.communicate()
        self._stderr.unlink(missing_ok=True)
        self._stderr.parent.rmdir()

    def run(self, label: str, invocation: Invocation) -> Sample:
        """Run one process to its end; a non-zero exit raises ``CommandFailed``."""
        request = {
            "argv": list(invocation.argv),
            "cwd": str(invocation.cwd),
            "env": dict(invocation.env),
            "stderr": str(self._stderr),
        }
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._process.stdout.readline())
        if reply["exit"] != 0:
            raise CommandFailed(
                f"{label}: {Path(invocation.argv[0]).name} exited {reply['exit']}: "
                f"{_last_line(self._stderr.read_bytes())}"
            )
        return Sample(seconds=float(reply["seconds"]), max_rss_kib=int(reply["max_rss_kib"]))


class Runner(Protocol):
    """Runs one process and measures it (``Launcher``, or a fake in tests)."""

    def run(self, label: str, invocation: Invocation) -> Sample: ...


def run_side(side: Side, launcher: Runner) -> Sample:
    """Run a side's processes in order; their times add up; fail on a non-zero exit."""
    if side.reset is not None:
        side.reset()
    samples = [launcher.run(side.label, invocation) for invocation in side.invocations]
    return Sample(
        seconds=sum(s.seconds for s in samples), max_rss_kib=max(s.max_rss_kib for s in samples)
    )


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else "(no message)"
