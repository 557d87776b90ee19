"""Latency distributions and latency percentiles over time.

* :func:`latency_cdf` — empirical CDF (or its complement) of one latency
  column, overlaid by app, host or cause;
* :func:`latency_hist` — histogram with tick-aligned bins, overlaid by group;
* :func:`latency_facets` — one panel per latency column and/or per group;
* :func:`latency_over_time` — latency percentiles per time window.

Latencies are shown in ms (durations in s); every panel names the detected
FreeSWITCH tick ("FS tick 20 ms") in its right-hand title, since the tick is
the resolution of every FreeSWITCH-clock latency.

>>> import matplotlib.figure, switchlab.measure as m
>>> df = m.frame_from_rows([{"call_id": str(i), "launch": i * 100_000,
...     "caller_create": i * 100_000, "caller_answer": i * 100_000 + 20_000 * (1 + i % 3)}
...     for i in range(30)])
>>> ax = latency_cdf(df, ax=matplotlib.figure.Figure().add_subplot())
>>> ax.lines[0].get_xdata().tolist(), ax.get_title(loc="right")
([20.0, 20.0, 40.0, 60.0], 'FS tick 20 ms')
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from switchlab.measure.kpis import pct_name
from switchlab.measure.tick import TickEstimate

from ._base import (
    Data,
    band_legend,
    check_latency_column,
    column_label,
    elapsed_seconds,
    frame_of,
    grouped_values,
    headroom,
    is_fs_clock,
    latency_label,
    latency_name,
    new_axes,
    new_figure,
    no_data,
    show_tick,
    tick_of,
    time_label,
    timeseries_of,
    unit_of,
    window_seconds,
)
from .aggregate import ecdf_points, tick_bin_edges
from .outages import outage_bands

#: Latency columns shown by :func:`latency_facets` by default.
DEFAULT_FACET_COLUMNS: tuple[str, ...] = ("setup_latency", "post_dial_delay",
                                          "answer_latency", "invite_latency")
STATS = ("count", "percent", "density")


def _badge(ax: Axes, column: str, tick: TickEstimate, extra: str = "") -> None:
    if is_fs_clock(column):
        show_tick(ax, tick, extra)
    else:
        ax.set_title("local clock" + (f" · {extra}" if extra else ""), loc="right",
                     fontsize="small", color="0.35")


def _legend(ax: Axes, by: str | None, n: int) -> None:
    if by is not None and n:
        ax.legend(title=column_label(by), fontsize="small", title_fontsize="small")


def latency_cdf(data: Data, column: str = "setup_latency", *, by: str | None = None,
                complementary: bool = False, logx: bool = False, max_groups: int = 10,
                ax: Axes | None = None) -> Axes:
    """Empirical CDF of ``column`` (one line per group of ``by``: ``"app"``,
    ``"host"``, ``"hangup_cause"``...). ``complementary=True`` draws
    ``1 - F`` on a log scale, which spreads out the tail (p99, p99.9).

    Each line is the exact step ECDF when the values sit on a tick (a few
    hundred distinct values), else the ECDF at ≤ 2000 ranks, never one point
    per call. ``plots.latency_cdf(run, by="host")``
    """
    df = frame_of(data)
    check_latency_column(df, column)
    ax = new_axes(ax)
    _, scale = unit_of(column)
    groups = grouped_values(df, column, by, max_groups)
    drawn = sum(draw_ecdf(ax, values, scale, label=f"{label} (n={values.size:,})",
                          complementary=complementary) for label, values in groups)
    style_ecdf_axes(ax, column, complementary, logx)
    _badge(ax, column, tick_of(data))
    ax.grid(True, alpha=0.3)
    if not drawn:
        return no_data(ax, f"{latency_name(column)} values")
    _legend(ax, by, drawn)
    if by is None:
        ax.legend(fontsize="small")
    return ax


def draw_ecdf(ax: Axes, values: np.ndarray, scale: float, *, label: str,
              complementary: bool = False, **kw: object) -> bool:
    """One ECDF step line of ``values`` (seconds × ``scale``); False when empty."""
    x, y = ecdf_points(values)
    if not x.size:
        return False
    x = np.concatenate([x[:1], x]) * scale
    y = np.concatenate([[0.0], y])
    if complementary:
        y = 1.0 - y
    ax.plot(x, y, drawstyle="steps-post", label=label, **kw)  # type: ignore[arg-type]
    return True


def style_ecdf_axes(ax: Axes, column: str, complementary: bool = False,
                    logx: bool = False) -> None:
    if complementary:
        ax.set_yscale("log")
        ax.set_ylabel("share of calls slower than x")
    else:
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("share of calls ≤ x")
    if logx:
        ax.set_xscale("log")
    else:
        ax.set_xlim(left=0)
    ax.set_xlabel(latency_label(column))
    ax.set_title(f"{latency_name(column)}: "
                 f"{'CCDF' if complementary else 'CDF'}", loc="left")


def latency_hist(data: Data, column: str = "setup_latency", *, by: str | None = None,
                 stat: str = "count", max_bins: int = 80,
                 bins: Sequence[float] | np.ndarray | None = None, max_groups: int = 10,
                 ax: Axes | None = None) -> Axes:
    """Histogram of ``column``, one outline per group of ``by`` (filled when
    there is one group).

    Bins are whole multiples of the detected FreeSWITCH tick, centred on the
    multiples of it (see :func:`~switchlab.plots.aggregate.tick_bin_edges`),
    at most ``max_bins`` of them; pass ``bins=`` (edges, in seconds) to
    choose. ``stat``: ``"count"``, ``"percent"`` (of each group) or
    ``"density"`` (per second). ``plots.latency_hist(df, "post_dial_delay")``
    """
    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, not {stat!r}")
    df = frame_of(data)
    check_latency_column(df, column)
    ax = new_axes(ax)
    unit, scale = unit_of(column)
    tick = tick_of(data)
    groups = [(label, v) for label, v in grouped_values(df, column, by, max_groups) if v.size]
    ax.set_xlabel(latency_label(column))
    ax.set_ylabel({"count": "calls", "percent": "% of calls",
                   "density": "density (1/s)"}[stat])
    ax.set_title(f"{latency_name(column)}: histogram", loc="left")
    if not groups:
        _badge(ax, column, tick)
        return no_data(ax, f"{latency_name(column)} values")
    if bins is None:
        allv = np.concatenate([v for _, v in groups])
        edges = tick_bin_edges(allv, tick.seconds if is_fs_clock(column) else None, max_bins)
    else:
        edges = np.asarray(bins, dtype=np.float64)
    width = float(np.diff(edges).min())
    bin_text = f"bin {width * scale:.3g} {unit}"
    single = len(groups) == 1
    for label, values in groups:
        counts, _ = np.histogram(values, edges)
        heights = counts.astype(np.float64)
        if stat == "percent":
            heights = 100.0 * heights / values.size
        elif stat == "density":
            heights = heights / (values.size * np.diff(edges))
        ax.stairs(heights, edges * scale, fill=single, alpha=0.75 if single else 1.0,
                  linewidth=1.5, label=f"{label} (n={values.size:,})")
    _badge(ax, column, tick, bin_text)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=min(0.0, float(edges[0]) * scale))
    _legend(ax, by, len(groups))
    return ax


def latency_facets(data: Data, columns: str | Sequence[str] = DEFAULT_FACET_COLUMNS, *,
                   by: str | None = None, kind: str = "hist", max_groups: int = 6,
                   fig: Figure | SubFigure | None = None, **kw: object) -> Figure | SubFigure:
    """A grid of latency panels: one row per latency column and, with ``by``,
    one column per group (the ``max_groups`` largest); ``kind`` is
    ``"hist"`` or ``"cdf"``. Columns without any value are skipped. Extra
    keywords go to :func:`latency_hist` / :func:`latency_cdf`.

    ``plots.latency_facets(run, ["setup_latency", "post_dial_delay"], by="host")``
    """
    if kind not in ("hist", "cdf"):
        raise ValueError(f"kind must be 'hist' or 'cdf', not {kind!r}")
    df = frame_of(data)
    cols = [columns] if isinstance(columns, str) else list(columns)
    for c in cols:
        check_latency_column(df, c)
    cols = [c for c in cols if df[c].notna().any()] or cols[:1]
    labels: list[str | None] = [None] if by is None else [lab for lab, _ in
                                       grouped_values(df, cols[0], by, max_groups)] or [None]
    if by is None:
        ncols = min(2, len(cols))
        nrows = -(-len(cols) // ncols)
    else:
        ncols, nrows = len(labels), len(cols)
    fig = new_figure(fig, (4.6 * ncols, 3.3 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    draw = latency_hist if kind == "hist" else latency_cdf
    if by is None:
        for i, c in enumerate(cols):
            draw(data, c, ax=axes.flat[i], **kw)  # type: ignore[arg-type]
        for extra in axes.flat[len(cols):]:
            extra.set_visible(False)
        return fig
    keys = df[by].astype(str).to_numpy()
    for j, label in enumerate(labels):
        part = df[keys == label]
        for i, c in enumerate(cols):
            ax = axes[i, j]
            draw(_with_tick(part, data), c, ax=ax, **kw)  # type: ignore[arg-type]
            ax.set_title(f"{column_label(by)} = {label}", loc="left",
                         fontsize="medium")
            if ax.get_legend() is not None:
                ax.get_legend().remove()
    return fig


def _with_tick(part: pd.DataFrame, data: Data) -> pd.DataFrame:
    """A sub-frame that shows the whole run's tick (not re-detected on the part)."""
    part.attrs = {**part.attrs, "fs_tick": {"overall": tick_of(data).to_dict(), "by_host": {}}}
    return part


def latency_over_time(data: Data, column: str = "setup_latency", *,
                      percentiles: Sequence[float] = (0.5, 0.95, 0.99), freq: str = "1s",
                      by: str | None = None, max_groups: int = 8,
                      ax: Axes | None = None) -> Axes:
    """Latency percentiles of the calls launched in each window of ``freq``
    (one line per percentile; with ``by``, one colour per group and one line
    style per percentile). Computed by ``df.calls.timeseries``.

    ``plots.latency_over_time(run, percentiles=[0.5, 0.99], freq="5s")``
    """
    df = frame_of(data)
    check_latency_column(df, column)
    ax = new_axes(ax)
    ts = timeseries_of(data, freq, by, latencies=[column], percentiles=list(percentiles))
    _draw_percentiles(ax, ts, column, percentiles, tick_of(data), by=by, max_groups=max_groups)
    if by is None and len(ts) and outage_bands(data, ax=ax, origin=ts.index[0]):
        band_legend(ax, ncols=3)
    return ax


_STYLES = ("-", "--", ":", "-.")


def _draw_percentiles(ax: Axes, ts: pd.DataFrame, column: str, percentiles: Sequence[float],
                      tick: TickEstimate, *, by: str | None = None, max_groups: int = 8,
                      origin: pd.Timestamp | None = None, label_prefix: str = "",
                      color: str | None = None) -> None:
    _, scale = unit_of(column)
    if by is None:
        parts = [("", ts)]
    else:
        level = ts.index.get_level_values(0)
        sizes = ts.groupby(level, observed=True)["offered"].sum().sort_values(ascending=False)
        names = sorted([k for k in sizes.index[:max_groups] if sizes[k] > 0], key=str)
        # a row key of the group level gives a DataFrame (pandas-stubs: DataFrame | Series)
        parts = [(str(k), cast(pd.DataFrame, ts.xs(k, level=0))) for k in names]
        origin = ts.index.get_level_values(-1).min()
    half = 0.5 * window_seconds(ts)
    drawn = 0
    for gi, (name, part) in enumerate(parts):
        x = elapsed_seconds(part.index, origin) + half
        colour = color if color is not None else (f"C{gi}" if by is not None else None)
        for pi, q in enumerate(percentiles):
            col = f"{column}.{pct_name(q)}"
            if col not in part.columns:
                continue
            y = part[col].to_numpy(dtype=np.float64, na_value=np.nan) * scale
            label = label_prefix + (f"{name} {pct_name(q)}" if by is not None else pct_name(q))
            kw: dict[str, Any] = {} if colour is None else {
                "color": colour, "linestyle": _STYLES[pi % len(_STYLES)]}
            ax.plot(x, y, label=label, linewidth=1.4, **kw)
            drawn += 1
    ax.set_xlabel(time_label(ts))
    ax.set_ylabel(latency_label(column))
    ax.set_title(f"{latency_name(column)} percentiles over time", loc="left")
    if is_fs_clock(column):
        show_tick(ax, tick)
    ax.grid(True, alpha=0.3)
    if drawn:
        ys = [np.asarray(ln.get_ydata(), dtype=np.float64) for ln in ax.lines]
        finite = np.concatenate([y[np.isfinite(y)] for y in ys])
        headroom(ax, float(finite.max()) if finite.size else 0.0, 0.12 + 0.06 * -(-drawn // 3))
        band_legend(ax, ncols=min(drawn, 3))
    else:
        ax.set_ylim(bottom=0)
        no_data(ax, "windows")
