"""Small aggregates the plots need that the measurement layer does not offer
(yet): an ECDF reduced to a bounded number of points, tick-aligned histogram
bin edges, the knee of a latency-vs-load curve, the mean holding time and the
launch window of every call. All work on numpy arrays, so that a plot of
1 M calls draws a few thousand points at most.

>>> import numpy as np
>>> x, y = ecdf_points(np.array([0.02, 0.04, 0.04, 0.10]))
>>> x.tolist(), y.tolist()
([0.02, 0.04, 0.1], [0.25, 0.75, 1.0])
>>> (tick_bin_edges(np.array([0.02, 0.04, 0.1]), 0.02) * 1e3).round(3).tolist()
[10.0, 30.0, 50.0, 70.0, 90.0, 110.0]
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Bin multiples of the tick tried in order (the first that fits ``max_bins``).
NICE_MULTIPLES = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000)


def ecdf_points(values: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of ``values`` (NaN ignored) as ``(x, F(x))`` step
    points, ``F`` right-continuous (draw with ``drawstyle="steps-post"``).

    Exact (one point per distinct value) when there are at most
    ``max_points`` distinct values, which is the case for latencies on a
    FreeSWITCH tick. Otherwise the ECDF evaluated at ``max_points`` ranks:
    evenly spaced, plus a log-spaced tail so p99.9 and p99.99 stay exact.
    """
    x = np.asarray(values, dtype=np.float64)
    x = np.sort(x[~np.isnan(x)])
    n = x.size
    if n == 0:
        return np.empty(0), np.empty(0)
    last = np.ones(n, dtype=bool)
    last[:-1] = x[1:] != x[:-1]          # the last occurrence of each distinct value
    ends = np.flatnonzero(last)
    if ends.size > max_points:
        body = np.linspace(0.0, 1.0, max_points * 3 // 4)
        tail = 1.0 - np.logspace(-1, -min(8, math.log10(n) + 1), max_points // 4)
        ranks = np.unique(np.clip(np.ceil(np.concatenate([body, tail]) * n) - 1, 0, n - 1)
                          .astype(np.int64))
        # the rank of the last occurrence of each chosen value
        ends = np.unique(ends[np.searchsorted(ends, ranks)])
    return x[ends], (ends + 1) / n


def tick_bin_edges(values: np.ndarray, tick: float | None, max_bins: int = 80) -> np.ndarray:
    """Histogram bin edges (same unit as ``values``) that respect the clock tick.

    With a tick (seconds, > 1 µs) every bin is ``k`` ticks wide, ``k`` the
    smallest of :data:`NICE_MULTIPLES` that keeps at most ``max_bins`` bins,
    and the edges sit half a tick off the multiples of the tick, so each
    quantised latency falls in the middle of a bin and no bin is empty
    because of aliasing. Without a tick: up to ``max_bins`` equal bins over
    the range.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.array([0.0, 1.0])
    lo, hi = float(x.min()), float(x.max())
    if tick is not None and tick > 1e-6:
        m0, m1 = math.floor(lo / tick + 0.5), math.floor(hi / tick + 0.5)
        n = m1 - m0 + 1
        k = next((k for k in NICE_MULTIPLES if math.ceil(n / k) <= max_bins),
                 math.ceil(n / max_bins))
        nbins = math.ceil(n / k)
        return (m0 + k * np.arange(nbins + 1) - 0.5) * tick
    if hi == lo:
        half = max(abs(lo) * 0.01, 1e-6)
        return np.array([lo - half, hi + half])
    return np.histogram_bin_edges(x, bins=max_bins, range=(lo, hi))


def knee_point(x: np.ndarray, y: np.ndarray, *, min_rise: float = 0.5,
               min_bend: float = 0.15) -> int | None:
    """Index of the knee of an increasing convex curve (latency against
    load), by the Kneedle rule: after scaling both axes to [0, 1], the point
    farthest below the chord from the first to the last point.

    Returns None when there is no clear knee: fewer than 3 points, ``y``
    rises by less than ``min_rise`` (a share of its minimum), or the curve
    bends less than ``min_bend`` below its chord.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = ~(np.isnan(x) | np.isnan(y))
    idx = np.flatnonzero(ok)
    if idx.size < 3:
        return None
    order = idx[np.argsort(x[idx], kind="stable")]
    xs, ys = x[order], y[order]
    if xs[-1] == xs[0]:
        return None
    ymin = ys.min()
    if ys.max() - ymin < min_rise * abs(ymin) or ys.max() == ymin:
        return None
    xn = (xs - xs[0]) / (xs[-1] - xs[0])
    yn = (ys - ymin) / (ys.max() - ymin)
    chord = yn[0] + (yn[-1] - yn[0]) * xn
    bend = chord - yn
    i = int(np.argmax(bend))
    if bend[i] < min_bend:
        return None
    return int(order[i])


def mean_holding_time(ts: pd.DataFrame) -> float:
    """Mean time an attempt occupies a line, s: the traffic carried (erlang
    seconds, from the time series' ``erlangs``) over the attempts offered."""
    width = pd.Timedelta(ts.attrs.get("freq", "1s")).total_seconds()
    offered = float(ts["offered"].sum())
    if offered <= 0:
        return float("nan")
    return float(ts["erlangs"].sum()) * width / offered


def launch_windows(df: pd.DataFrame, ts: pd.DataFrame) -> np.ndarray:
    """Index (into ``ts``) of the window each call was launched in, -1 when
    the launch time is missing or outside the series."""
    if not len(ts):
        return np.full(len(df), -1, dtype=np.int64)
    width = pd.Timedelta(ts.attrs.get("freq", "1s")).value
    origin = ts.index[0].value
    launch = df["launch"]
    ns = launch.to_numpy(dtype="datetime64[ns]").view(np.int64)
    w = (ns - origin) // width
    w[launch.isna().to_numpy()] = -1
    w[(w < 0) | (w >= len(ts))] = -1
    return w.astype(np.int64)
