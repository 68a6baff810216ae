"""The benchmark harness's arithmetic and run order (the benchmarks themselves never run here)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from benchmarks.harness import (
    CommandFailed,
    Invocation,
    Launcher,
    PairSamples,
    Sample,
    Side,
    alternate,
    growth_exponents,
    marginal_costs,
    median,
    meets,
    pairwise_ratios,
    run_side,
    summarize,
)


def _samples(seconds: list[float], rss: int = 1000) -> tuple[Sample, ...]:
    return tuple(Sample(seconds=s, max_rss_kib=rss) for s in seconds)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3.0], 3.0), ([5.0, 1.0, 3.0], 3.0), ([4.0, 1.0, 3.0, 2.0], 2.5), ([2.0, 2.0], 2.0)],
)
def test_median(values: list[float], expected: float) -> None:
    assert median(values) == expected


def test_median_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_pairwise_ratios_divide_round_by_round() -> None:
    assert pairwise_ratios([1.0, 3.0, 2.0], [2.0, 4.0, 8.0]) == (0.5, 0.75, 0.25)


def test_pairwise_ratios_need_equal_rounds_and_positive_divisors() -> None:
    with pytest.raises(ValueError, match="unequal rounds"):
        pairwise_ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="positive"):
        pairwise_ratios([1.0], [0.0])


def test_summary_uses_median_of_ratios_not_ratio_of_medians() -> None:
    # Round 2 is slow on both sides (a drift); the per-round ratio stays 0.5 there.
    a = [1.0, 10.0, 3.0]
    b = [2.0, 20.0, 3.0]
    summary = summarize(PairSamples(a=_samples(a, 700), b=_samples(b, 900)))
    assert summary.a_median == 3.0
    assert summary.b_median == 3.0
    assert summary.ratio_median == 0.5  # ratios 0.5, 0.5, 1.0
    assert (summary.ratio_min, summary.ratio_max) == (0.5, 1.0)
    assert summary.ratios == (0.5, 0.5, 1.0)
    assert summary.rounds == 3
    assert (summary.a_max_rss_kib, summary.b_max_rss_kib) == (700, 900)


def test_summary_peak_memory_is_the_largest_sample() -> None:
    a = (Sample(seconds=1.0, max_rss_kib=10), Sample(seconds=1.0, max_rss_kib=30))
    b = (Sample(seconds=1.0, max_rss_kib=25), Sample(seconds=1.0, max_rss_kib=5))
    summary = summarize(PairSamples(a=a, b=b))
    assert (summary.a_max_rss_kib, summary.b_max_rss_kib) == (30, 25)


@pytest.mark.parametrize(
    ("ratio", "target", "expected"),
    [(0.39, 0.40, True), (0.40, 0.40, True), (0.41, 0.40, False), (2.0, None, None)],
)
def test_meets_means_at_most_the_target(
    ratio: float, target: float | None, expected: bool | None
) -> None:
    assert meets(ratio, target) is expected


def test_growth_of_linear_and_quadratic_costs() -> None:
    linear = [(1_000, 0.01), (10_000, 0.1), (100_000, 1.0)]
    quadratic = [(1_000, 1.0), (10_000, 100.0)]
    assert growth_exponents(linear) == pytest.approx((1.0, 1.0))
    assert growth_exponents(quadratic) == pytest.approx((2.0,))


def test_growth_sorts_points_and_shows_fixed_start_up_cost() -> None:
    # 0.2 s start-up + 10 µs per artifact: sub-linear at first, close to linear later.
    points = [(n, 0.2 + n * 1e-5) for n in (100_000, 1_000, 10_000)]
    first, second = growth_exponents(points)
    assert first == pytest.approx(math.log(0.3 / 0.21) / math.log(10))
    assert first < second < 1.0


def test_growth_refuses_points_it_cannot_fit() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        growth_exponents([(1_000, 1.0), (1_000, 2.0)])
    with pytest.raises(ValueError, match="cannot fit"):
        growth_exponents([(1_000, 0.0), (2_000, 1.0)])


def test_marginal_costs_cancel_start_up() -> None:
    points = [(n, 0.2 + n * 1e-5) for n in (10_000, 1_000, 100_000)]
    assert marginal_costs(points) == pytest.approx((1e-5, 1e-5))
    quadratic = [(n, (n / 1_000) ** 2) for n in (1_000, 2_000, 3_000)]
    assert marginal_costs(quadratic) == pytest.approx((3e-3, 5e-3))
    with pytest.raises(ValueError, match="marginal"):
        marginal_costs([(5, 1.0), (5, 2.0)])


def test_alternate_runs_warmup_then_a_b_rounds_and_keeps_only_measured() -> None:
    calls: list[str] = []

    def side(name: str) -> Sample:
        calls.append(name)
        return Sample(seconds=float(len(calls)), max_rss_kib=len(calls))

    result = alternate(lambda: side("A"), lambda: side("B"), repeat=3, warmup=2)
    assert calls == ["A", "B"] * 5
    assert [s.seconds for s in result.a] == [5.0, 7.0, 9.0]
    assert [s.seconds for s in result.b] == [6.0, 8.0, 10.0]


def test_alternate_refuses_no_rounds() -> None:
    with pytest.raises(ValueError, match="repeat >= 1"):
        alternate(lambda: _samples([1.0])[0], lambda: _samples([1.0])[0], repeat=0, warmup=1)


class _FakeRunner:
    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples
        self.seen: list[tuple[str, ...]] = []

    def run(self, label: str, invocation: Invocation) -> Sample:
        self.seen.append(invocation.argv)
        return self.samples[len(self.seen) - 1]


def test_run_side_adds_times_keeps_peak_memory_and_resets_first(tmp_path: Path) -> None:
    events: list[str] = []
    runner = _FakeRunner([Sample(seconds=0.5, max_rss_kib=40), Sample(seconds=1.5, max_rss_kib=20)])
    side = Side(
        label="x",
        invocations=tuple(Invocation(argv=(f"cmd{i}",), cwd=tmp_path, env={}) for i in range(2)),
        reset=lambda: events.append(f"reset before {len(runner.seen)} runs"),
    )
    sample = run_side(side, runner)
    assert sample == Sample(seconds=2.0, max_rss_kib=40)
    assert events == ["reset before 0 runs"]
    assert runner.seen == [("cmd0",), ("cmd1",)]


def test_launcher_measures_a_process_and_reports_its_failure(tmp_path: Path) -> None:
    ok = Invocation(argv=(sys.executable, "-c", "pass"), cwd=tmp_path, env={})
    failing = Invocation(
        argv=(sys.executable, "-c", "import sys; sys.exit('broken input')"), cwd=tmp_path, env={}
    )
    with Launcher() as launcher:
        sample = launcher.run("ok", ok)
        with pytest.raises(CommandFailed, match=r"bad: python\S* exited 1: broken input"):
            launcher.run("bad", failing)
    assert 0 < sample.seconds < 10
    # A bare interpreter needs a few MiB; far more would mean the runner's memory leaked in.
    assert 1_000 < sample.max_rss_kib < 100_000


def test_launcher_reports_a_program_it_cannot_start(tmp_path: Path) -> None:
    missing = Invocation(argv=(str(tmp_path / "no-such-program"),), cwd=tmp_path, env={})
    with Launcher() as launcher, pytest.raises(CommandFailed, match="exited 127: launcher: cannot"):
        launcher.run("gone", missing)
