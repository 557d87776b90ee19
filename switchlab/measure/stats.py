"""Statistics for comparing runs and for capacity: bootstrap CIs, Erlang B.

>>> round(erlang_b(10, 10), 4)
0.2146
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Above this many distinct values a percentile bootstrap resamples values
#: directly instead of drawing multinomial counts over the distinct values.
_MAX_DISTINCT = 20_000


def erlang_b(traffic: Any, lines: int) -> Any:
    """Blocking probability of ``traffic`` Erlangs offered to ``lines`` lines
    (Erlang B). ``traffic`` may be an array (one result per value).

    Uses the stable recursion B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)).

    >>> round(erlang_b(2, 5), 4)
    0.0367
    """
    if lines < 0:
        raise ValueError(f"lines must be >= 0, not {lines}")
    a = np.asarray(traffic, dtype=np.float64)
    if np.any(a < 0):
        raise ValueError("traffic must be >= 0 Erlangs")
    b = np.ones_like(a)
    for n in range(1, int(lines) + 1):
        ab = a * b
        b = ab / (n + ab)
    return float(b) if b.ndim == 0 else b


def carried_traffic(traffic: Any, lines: int) -> Any:
    """Traffic carried by ``lines`` lines when ``traffic`` Erlangs are offered:
    ``A · (1 - B(A, N))`` (the Erlang-B overlay of a load plot)."""
    a = np.asarray(traffic, dtype=np.float64)
    out = a * (1.0 - np.asarray(erlang_b(a, lines)))
    return float(out) if out.ndim == 0 else out


def lines_for_blocking(traffic: float, blocking: float) -> int:
    """The fewest lines that carry ``traffic`` Erlangs with at most ``blocking``
    probability of blocking (e.g. ``lines_for_blocking(10, 0.01) == 18``)."""
    if not 0 < blocking < 1:
        raise ValueError("blocking must be a probability strictly between 0 and 1")
    b, n = 1.0, 0
    while b > blocking:
        n += 1
        b = traffic * b / (n + traffic * b)
    return n


@dataclass(frozen=True)
class BootstrapCI:
    """A difference ``b - a`` with its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    a: float
    b: float
    n_boot: int

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0."""
        return bool(self.low > 0 or self.high < 0)

    def __str__(self) -> str:
        return (f"{self.estimate:+.6g} [{self.low:+.6g}, {self.high:+.6g}] "
                f"({self.confidence:.0%} CI, b={self.b:.6g} vs a={self.a:.6g})")


def _values(x: Any) -> np.ndarray:
    arr = np.asarray(x.to_numpy(dtype=np.float64, na_value=np.nan)
                     if isinstance(x, pd.Series) else x, dtype=np.float64)
    return arr[~np.isnan(arr)]


def _boot_quantiles(x: np.ndarray, q: float, n_boot: int, rng: np.random.Generator
                    ) -> np.ndarray:
    """``n_boot`` bootstrap replicates of the q-quantile (linear interpolation)."""
    n = x.size
    u, counts = np.unique(x, return_counts=True)
    h = (n - 1) * q
    lo = int(np.floor(h))
    frac = h - lo
    if u.size <= _MAX_DISTINCT:
        # resample counts over the distinct values: exact and fast for tick-quantised data
        draws = rng.multinomial(n, counts / n, size=n_boot)
        cum = np.cumsum(draws, axis=1)
        i_lo = (cum <= lo).sum(axis=1)
        i_hi = (cum <= min(lo + 1, n - 1)).sum(axis=1)
        return u[i_lo] + frac * (u[i_hi] - u[i_lo])
    out = np.empty(n_boot)
    for i in range(n_boot):
        out[i] = np.quantile(x[rng.integers(0, n, n)], q)
    return out


def _ci(estimate: float, reps: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(reps, [alpha, 1 - alpha])
    return float(lo), float(hi)


def bootstrap_quantile_diff(a: Any, b: Any, q: float = 0.95, *, n_boot: int = 2000,
                            confidence: float = 0.95, seed: int | None = 0) -> BootstrapCI:
    """CI of ``quantile(b, q) - quantile(a, q)`` by the percentile bootstrap
    (NaN values ignored). E.g. the change in p95 setup latency between two
    runs: ``bootstrap_quantile_diff(run_a.df.setup_latency, run_b.df.setup_latency)``."""
    xa, xb = _values(a), _values(b)
    if xa.size == 0 or xb.size == 0:
        raise ValueError("both samples need at least one value (no answered calls?)")
    rng = np.random.default_rng(seed)
    qa, qb = float(np.quantile(xa, q)), float(np.quantile(xb, q))
    reps = _boot_quantiles(xb, q, n_boot, rng) - _boot_quantiles(xa, q, n_boot, rng)
    lo, hi = _ci(qb - qa, reps, confidence)
    return BootstrapCI(qb - qa, lo, hi, confidence, qa, qb, n_boot)


def bootstrap_ratio_diff(success_a: Any, success_b: Any, *, n_boot: int = 2000,
                         confidence: float = 0.95, seed: int | None = 0) -> BootstrapCI:
    """CI of ``mean(success_b) - mean(success_a)`` for boolean outcomes
    (e.g. answered or not: the change in ASR), by the bootstrap (binomial
    resampling, which is exactly resampling the attempts)."""
    sa = np.asarray(success_a, dtype=bool)
    sb = np.asarray(success_b, dtype=bool)
    if sa.size == 0 or sb.size == 0:
        raise ValueError("both runs need at least one attempt")
    rng = np.random.default_rng(seed)
    pa, pb = float(sa.mean()), float(sb.mean())
    reps = rng.binomial(sb.size, pb, n_boot) / sb.size - rng.binomial(sa.size, pa, n_boot) / sa.size
    lo, hi = _ci(pb - pa, reps, confidence)
    return BootstrapCI(pb - pa, lo, hi, confidence, pa, pb, n_boot)


def compare_p95_setup(df_a: pd.DataFrame, df_b: pd.DataFrame, **kw: Any) -> BootstrapCI:
    """Bootstrap CI of the difference in p95 setup latency (run b − run a), s."""
    return bootstrap_quantile_diff(df_a["setup_latency"], df_b["setup_latency"], 0.95, **kw)


def compare_asr(df_a: pd.DataFrame, df_b: pd.DataFrame, **kw: Any) -> BootstrapCI:
    """Bootstrap CI of the difference in ASR (run b − run a)."""
    return bootstrap_ratio_diff(df_a["caller_answer"].notna().to_numpy(),
                                df_b["caller_answer"].notna().to_numpy(), **kw)
