"""Erlang B and bootstrap confidence intervals."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from switchlab.measure import frame_from_rows
from switchlab.measure.stats import (
    bootstrap_quantile_diff,
    bootstrap_ratio_diff,
    carried_traffic,
    compare_asr,
    compare_p95_setup,
    erlang_b,
    lines_for_blocking,
)


def erlang_b_closed_form(a: float, n: int) -> float:
    """A^N/N! / sum_k A^k/k! (fine for small N)."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize("a,n,expected", [
    (10, 10, 0.2146),     # textbook value
    (2, 5, 0.0367),
    (1, 1, 0.5),
    (5, 0, 1.0),
    (0, 3, 0.0),
])
def test_erlang_b_known_values(a: float, n: int, expected: float) -> None:
    assert erlang_b(a, n) == pytest.approx(expected, abs=5e-5)


def test_erlang_b_matches_the_closed_form_and_vectorises() -> None:
    a = np.linspace(0.5, 30, 25)
    got = erlang_b(a, 20)
    assert got == pytest.approx([erlang_b_closed_form(x, 20) for x in a], rel=1e-10)
    assert np.all(np.diff(got) > 0)           # more traffic, more blocking
    # large N stays finite (the closed form would overflow)
    assert 0 < erlang_b(950.0, 1000) < 0.05
    with pytest.raises(ValueError):
        erlang_b(-1, 3)


def test_capacity_helpers() -> None:
    assert lines_for_blocking(10, 0.01) == 18      # Erlang B table: 18 lines carry 10.4 E
    assert erlang_b(10, 18) <= 0.01 < erlang_b(10, 17)
    assert carried_traffic(10, 10) == pytest.approx(10 * (1 - 0.2146), abs=1e-3)
    assert carried_traffic(np.array([0.0, 1e6]), 50) == pytest.approx([0.0, 50.0], rel=1e-3)
    with pytest.raises(ValueError):
        lines_for_blocking(10, 0)


def test_quantile_diff_ci_covers_the_truth_and_detects_a_shift() -> None:
    rng = np.random.default_rng(1)
    tick = 0.02
    # setup latencies quantised to the 20 ms tick, as FreeSWITCH reports them
    a = np.round(rng.gamma(4, 0.025, 3000) / tick) * tick
    b = np.round((rng.gamma(4, 0.025, 3000) + 0.04) / tick) * tick
    ci = bootstrap_quantile_diff(a, b, 0.95, n_boot=1000, seed=2)
    assert ci.estimate == pytest.approx(np.quantile(b, 0.95) - np.quantile(a, 0.95))
    assert ci.low < ci.estimate < ci.high
    assert ci.significant and ci.low > 0
    assert 0.0 < ci.low <= 0.04 <= ci.high < 0.12
    same = bootstrap_quantile_diff(a, a[::-1].copy(), 0.95, n_boot=500, seed=3)
    assert same.estimate == 0 and not same.significant


def test_quantile_bootstrap_paths_agree() -> None:
    """Multinomial resampling over distinct values (quantised data) and plain
    resampling (continuous data) give the same interval for the same sample."""
    rng = np.random.default_rng(4)
    a = np.round(rng.normal(0.1, 0.02, 2000), 3)
    b = np.round(rng.normal(0.12, 0.02, 2000), 3)
    fast = bootstrap_quantile_diff(a, b, 0.9, n_boot=3000, seed=5)
    from switchlab.measure import stats
    old = stats._MAX_DISTINCT
    stats._MAX_DISTINCT = 0
    try:
        slow = bootstrap_quantile_diff(a, b, 0.9, n_boot=3000, seed=5)
    finally:
        stats._MAX_DISTINCT = old
    assert fast.estimate == slow.estimate
    assert fast.low == pytest.approx(slow.low, abs=0.003)
    assert fast.high == pytest.approx(slow.high, abs=0.003)


def test_ratio_ci_coverage_is_about_nominal() -> None:
    """Over 200 simulated pairs of runs (ASR 0.95 vs 0.97, 1000 calls each),
    the 90 % interval holds the true difference about 90 % of the time."""
    rng = np.random.default_rng(7)
    hits = 0
    for i in range(200):
        a = rng.random(1000) < 0.95
        b = rng.random(1000) < 0.97
        ci = bootstrap_ratio_diff(a, b, n_boot=400, confidence=0.90, seed=i)
        hits += ci.low <= 0.02 <= ci.high
    assert 0.82 <= hits / 200 <= 0.97


def test_compare_runs_on_call_frames() -> None:
    T0 = 1_795_694_067_000_680

    def frame(asr_every: int, extra_ticks: int) -> pd.DataFrame:
        rows = []
        for i in range(400):
            ok = i % asr_every != 0
            r = {"call_id": str(i), "caller_create": T0 + i * 40_000, "failed": not ok,
                 "launch": T0 + i * 40_000}
            if ok:
                r["caller_answer"] = r["caller_create"] + 20_000 * (1 + i % 7 + extra_ticks)
            rows.append(r)
        return frame_from_rows(rows)

    a, b = frame(10, 0), frame(5, 2)        # b: ASR 0.8 instead of 0.9, +40 ms setup
    p95 = compare_p95_setup(a, b, n_boot=500)
    assert p95.estimate == pytest.approx(0.04)
    assert p95.significant
    asr = compare_asr(a, b, n_boot=500)
    assert asr.estimate == pytest.approx(-0.1)
    assert asr.high < 0
    assert "CI" in str(asr)
    with pytest.raises(ValueError, match="at least one value"):
        bootstrap_quantile_diff([], [1.0])
