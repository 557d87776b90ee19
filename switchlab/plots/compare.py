"""Compare two or more runs: distributions and time series overlaid, and
bootstrap confidence intervals for the change in a latency percentile (p95
setup latency by default) and in ASR, each run against the first.

* :func:`compare_table` — the differences and their CIs as a DataFrame;
* :func:`compare_runs` — one Figure: CDFs, percentile over time, and the two
  differences with their CIs.

The intervals come from :mod:`switchlab.measure.stats`
(``bootstrap_quantile_diff``, ``compare_asr``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from switchlab.measure import stats
from switchlab.measure.kpis import pct_name

from ._base import (
    Data,
    check_latency_column,
    frame_of,
    grouped_values,
    latency_name,
    new_figure,
    no_data,
    run_label,
    tick_badge,
    tick_of,
    timeseries_of,
    unit_of,
)
from .latency import _draw_percentiles, draw_ecdf, style_ecdf_axes

Runs = Mapping[str, Data] | Sequence[Data]


def named_runs(runs: Runs) -> list[tuple[str, Data]]:
    """``[(label, run), ...]``: a mapping's keys, else each run's id (or
    ``"run 1"``, ``"run 2"``...), made unique."""
    if isinstance(runs, Mapping):
        items = [(str(k), v) for k, v in runs.items()]
    elif isinstance(runs, (pd.DataFrame, str)) or not isinstance(runs, Sequence):
        raise TypeError("pass the runs as a list or a {label: run} mapping")
    else:
        items = [(run_label(r, f"run {i + 1}"), r) for i, r in enumerate(runs)]
    seen: dict[str, int] = {}
    out = []
    for label, r in items:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append((label if n == 0 else f"{label} ({n + 1})", r))
    if len(out) < 2:
        raise ValueError("compare at least two runs (a list or a {label: run} mapping)")
    return out


def compare_table(runs: Runs, *, column: str = "setup_latency", q: float = 0.95,
                  n_boot: int = 2000, confidence: float = 0.95,
                  seed: int | None = 0) -> pd.DataFrame:
    """For each run after the first: the difference (run − first run) in the
    ``q`` percentile of ``column`` (seconds) and in ASR, with its bootstrap
    confidence interval. Columns: ``run``, ``baseline``, ``metric``,
    ``baseline_value``, ``value``, ``difference``, ``low``, ``high``,
    ``confidence``, ``significant`` (the interval excludes 0). A percentile
    of a run without any value is NaN.

    ``plots.compare_table({"before": run_a, "after": run_b})``
    """
    named = named_runs(runs)
    frames = [(label, frame_of(r)) for label, r in named]
    base_label, base = frames[0]
    check_latency_column(base, column)
    metric_q = f"{pct_name(q)} {column}"
    rows = []
    for label, df in frames[1:]:
        try:
            d = stats.bootstrap_quantile_diff(base[column], df[column], q, n_boot=n_boot,
                                              confidence=confidence, seed=seed)
            lat = (d.a, d.b, d.estimate, d.low, d.high, d.significant)
        except ValueError:        # a run without a single value
            lat = (np.nan,) * 5 + (False,)
        a = stats.compare_asr(base, df, n_boot=n_boot, confidence=confidence, seed=seed)
        for metric, vals in ((metric_q, lat),
                             ("asr", (a.a, a.b, a.estimate, a.low, a.high, a.significant))):
            rows.append({"run": label, "baseline": base_label, "metric": metric,
                         "baseline_value": vals[0], "value": vals[1], "difference": vals[2],
                         "low": vals[3], "high": vals[4], "confidence": confidence,
                         "significant": bool(vals[5])})
    return pd.DataFrame(rows, columns=["run", "baseline", "metric", "baseline_value", "value",
                                       "difference", "low", "high", "confidence",
                                       "significant"])


def _forest(ax: Axes, rows: pd.DataFrame, scale: float, unit: str, title: str) -> None:
    """One marker and CI bar per comparison, a line at 0."""
    ax.axvline(0, color="0.5", linewidth=1)
    labels = []
    difference, low, high = (rows[c].to_numpy(dtype=np.float64)
                             for c in ("difference", "low", "high"))
    for i, (run, baseline, significant) in enumerate(
            zip(rows["run"], rows["baseline"], rows["significant"])):
        labels.append(f"{run}\n− {baseline}")
        if np.isnan(difference[i]):
            ax.text(0, i, "no data", ha="center", va="center", color="0.4", fontsize="small")
            continue
        est, lo, hi = (float(difference[i]) * scale, float(low[i]) * scale,
                       float(high[i]) * scale)
        colour = "C3" if significant else "0.35"
        ax.errorbar([est], [i], xerr=[[est - lo], [hi - est]], fmt="o", color=colour,
                    capsize=4, linewidth=1.6, gid="ci")
        ax.annotate(f"{est:+.3g} {unit}  [{lo:+.3g}, {hi:+.3g}]", (est, i),
                    xytext=(0, 7), textcoords="offset points", ha="center",
                    fontsize="small", color=colour, gid="ci-label")
    n = len(labels)
    known = rows.dropna(subset=["low", "high"])
    if len(known):
        lo = min(0.0, float(known["low"].min()) * scale)
        hi = max(0.0, float(known["high"].max()) * scale)
        pad = 0.3 * (hi - lo) or 1.0
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_yticks(range(n), labels, fontsize="small")
    ax.set_ylim(-0.6, n - 0.4)
    ax.invert_yaxis()
    conf = rows["confidence"].iloc[0] if n else 0.95
    ax.set_xlabel(f"difference ({unit}), {conf:.0%} bootstrap CI")
    ax.set_title(title, loc="left")
    ax.grid(True, axis="x", alpha=0.3)


def compare_runs(runs: Runs, *, column: str = "setup_latency", q: float = 0.95,
                 freq: str = "1s", n_boot: int = 2000, confidence: float = 0.95,
                 seed: int | None = 0, fig: Figure | SubFigure | None = None
                 ) -> Figure | SubFigure:
    """Overlay two or more runs (a list, or ``{label: run}``): the CDF of
    ``column``, its ``q`` percentile over time (each run from its own first
    launch), and, against the first run, the difference in that percentile
    and in ASR with bootstrap CIs (red when the interval excludes 0).
    The table of :func:`compare_table` is in ``fig.comparison``.

    ``plots.compare_runs({"20 ms tick": run_a, "1 ms tick": run_b})``
    """
    named = named_runs(runs)
    table = compare_table(dict(named), column=column, q=q, n_boot=n_boot,
                          confidence=confidence, seed=seed)
    fig = new_figure(fig, (12.0, 6.0 + 0.8 * len(named)))
    (ax_cdf, ax_time), (ax_lat, ax_asr) = fig.subplots(
        2, 2, height_ratios=[2.0, 0.6 + 0.4 * (len(named) - 1)])
    unit, scale = unit_of(column)
    ticks = []
    for i, (label, r) in enumerate(named):
        df = frame_of(r)
        (_, values), = grouped_values(df, column, None)
        draw_ecdf(ax_cdf, values, scale, label=f"{label} (n={values.size:,})", color=f"C{i}")
        ts = timeseries_of(r, freq, latencies=[column], percentiles=[q])
        tick = tick_of(r)
        ticks.append((label, tick))
        if len(ts):
            _draw_percentiles(ax_time, ts, column, [q], tick, label_prefix=f"{label} ",
                              color=f"C{i}")
    ax_time.relim()
    ax_time.autoscale(enable=True, axis="y")
    ax_time.set_ylim(bottom=0)
    style_ecdf_axes(ax_cdf, column)
    ax_cdf.grid(True, alpha=0.3)
    if ax_cdf.lines:
        ax_cdf.legend(fontsize="small", loc="lower right")
    else:
        no_data(ax_cdf, f"{latency_name(column)} values")
    badges = {tick_badge(t) for _, t in ticks}
    badge = badges.pop() if len(badges) == 1 else \
        "; ".join(f"{lab}: {tick_badge(t)}" for lab, t in ticks)
    for ax in (ax_cdf, ax_time):
        ax.set_title(badge, loc="right", fontsize="small", color="0.35")
    ax_time.set_title(f"{pct_name(q)} {latency_name(column)} over time",
                      loc="left")
    lat_rows = table[table["metric"] != "asr"]
    _forest(ax_lat, lat_rows, scale, unit,
            f"change in {pct_name(q)} {latency_name(column)}")
    _forest(ax_asr, table[table["metric"] == "asr"], 100.0, "pp", "change in ASR")
    ax_asr.set_xlabel(ax_asr.get_xlabel().replace("(pp)", "(percentage points)"))
    fig.comparison = table  # type: ignore[union-attr]
    return fig
