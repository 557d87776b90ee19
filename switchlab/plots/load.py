"""Load over time, and latency against load.

* :func:`rate_over_time` — target (offered) rate vs achieved calls/s, and
  answered calls/s, per window; a Run's retunes are marked;
* :func:`occupancy_over_time` — active calls and erlangs, with an Erlang-B
  overlay of the traffic a stated number of lines would carry;
* :func:`load_over_time` — both, stacked, sharing the time axis;
* :func:`latency_vs_load` — latency percentiles against the load at launch
  (active calls, erlangs, target or achieved rate): where the knee shows.

Every per-window figure comes from ``df.calls.timeseries``; Erlang B from
:mod:`switchlab.measure.stats`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from switchlab.measure import stats
from switchlab.measure.kpis import pct_name

from ._base import (
    Data,
    band_legend,
    check_latency_column,
    column_label,
    elapsed_seconds,
    frame_of,
    headroom,
    is_run,
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
from .aggregate import knee_point, launch_windows, mean_holding_time
from .outages import outage_bands

#: Load measures :func:`latency_vs_load` accepts.
LOADS = ("active_calls", "erlangs", "target_rate", "achieved_cps")
#: At most this many retunes are marked on a time axis (the rest are not drawn).
MAX_RETUNE_MARKS = 30


def _centres(ts: pd.DataFrame) -> np.ndarray:
    return elapsed_seconds(ts.index) + 0.5 * window_seconds(ts)


def _retune_marks(ax: Axes, data: Data, ts: pd.DataFrame) -> int:
    """Dotted vertical lines at a Run's retunes (labelled with the change)."""
    retunes = list(getattr(data, "retunes", None) or []) if is_run(data) else []
    if not retunes or not len(ts):
        return 0
    t0 = ts.index[0].timestamp()
    span = float(elapsed_seconds(ts.index)[-1]) + window_seconds(ts)
    marks = [(float(r["time"]) - t0, r.get("changes", {})) for r in retunes if "time" in r]
    marks = [(t, c) for t, c in marks if 0 <= t <= span][:MAX_RETUNE_MARKS]
    label_them = len(marks) <= 8
    for i, (t, changes) in enumerate(marks):
        ax.axvline(t, color="0.5", linestyle=":", linewidth=1, gid="retune",
                   label="retune" if i == 0 else "_retune")
        if label_them:
            text = ", ".join(f"{k}={v}" for k, v in dict(changes).items())[:30]
            ax.annotate(text, (t, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", fontsize="x-small",
                        color="0.35", rotation=90, ha="left", va="top", gid="retune-label")
    return len(marks)


def _draw_rate(ax: Axes, ts: pd.DataFrame, data: Data | None = None) -> None:
    x = _centres(ts)
    width = window_seconds(ts)
    achieved = ts["achieved_cps"].to_numpy(dtype=np.float64)
    answered = ts["answered"].to_numpy(dtype=np.float64) / width
    ax.plot(x, achieved, color="C0", linewidth=1.6, label="achieved (offered) calls/s")
    ax.plot(x, answered, color="C2", linewidth=1.0, alpha=0.9, label="answered calls/s")
    top = float(np.nanmax(np.concatenate([achieved, answered]))) if len(x) else 0.0
    if "target_rate" in ts.columns and ts["target_rate"].notna().any():
        target = ts["target_rate"].to_numpy(dtype=np.float64, na_value=np.nan)
        ax.plot(x, target, color="k", linestyle=(0, (4, 3)), linewidth=1.2,
                label="target rate", zorder=3)
        top = max(top, float(np.nanmax(target)))
    if data is not None:
        _retune_marks(ax, data, ts)
        outage_bands(data, ax=ax, origin=ts.index[0])
    ax.set_xlabel(time_label(ts))
    ax.set_ylabel("calls/s (by launch time)")
    ax.set_title("call rate: target vs achieved", loc="left")
    headroom(ax, top)
    ax.grid(True, alpha=0.3)
    band_legend(ax)


def rate_over_time(data: Data, freq: str = "1s", *, ax: Axes | None = None) -> Axes:
    """Target rate (what the originator was asked for), achieved calls/s
    (attempts launched) and answered calls/s per window; a Run's retunes
    are dotted lines. ``plots.rate_over_time(run, "5s")``"""
    ax = new_axes(ax)
    ts = timeseries_of(data, freq)
    if not len(ts):
        return no_data(ax, "calls")
    _draw_rate(ax, ts, data)
    return ax


def _draw_occupancy(ax: Axes, ts: pd.DataFrame, capacity: int | None,
                    holding_time: float | None, data: Data | None = None) -> dict[str, float]:
    x = _centres(ts)
    active = ts["active"].to_numpy(dtype=np.float64)
    erlangs = ts["erlangs"].to_numpy(dtype=np.float64)
    ax.plot(x, active, color="C1", linewidth=1.0, label="active calls (window end)")
    ax.plot(x, erlangs, color="C3", linewidth=1.6, label="traffic (erlangs, window mean)")
    top = float(np.nanmax(np.concatenate([active, erlangs]))) if len(x) else 0.0
    info: dict[str, float] = {}
    if capacity is not None:
        if capacity < 1:
            raise ValueError(f"capacity must be a positive number of lines, not {capacity}")
        h = mean_holding_time(ts) if holding_time is None else float(holding_time)
        rate_col = "target_rate" if ("target_rate" in ts.columns
                                     and ts["target_rate"].notna().any()) else "achieved_cps"
        rate = ts[rate_col].to_numpy(dtype=np.float64, na_value=np.nan)
        offered = rate * h
        carried = np.full(offered.shape, np.nan)
        known = ~np.isnan(offered)
        carried[known] = stats.carried_traffic(offered[known], int(capacity))
        ax.plot(x, carried, color="k", linestyle="--", linewidth=1.2,
                label=f"Erlang B carried ({int(capacity)} lines, h={h:.3g} s)")
        ax.axhline(capacity, color="0.5", linestyle=":", linewidth=1,
                   label=f"capacity {int(capacity)} lines")
        top = max(top, float(capacity))
        info = {"holding_time": h, "capacity": float(capacity)}
    ax.set_xlabel(time_label(ts))
    ax.set_ylabel("calls in progress")
    ax.set_title("occupancy: active calls and erlangs", loc="left")
    if data is not None:
        outage_bands(data, ax=ax, origin=ts.index[0])
    headroom(ax, top)
    ax.grid(True, alpha=0.3)
    band_legend(ax)
    return info


def occupancy_over_time(data: Data, freq: str = "1s", *, capacity: int | None = None,
                        holding_time: float | None = None, ax: Axes | None = None) -> Axes:
    """Active calls at each window's end and traffic in erlangs (mean calls
    in progress) per window. With ``capacity`` (lines of the device under
    test), adds the Erlang-B carried traffic ``A·(1 − B(A, N))`` for the
    offered traffic ``A = rate × h`` (target rate, else achieved; ``h`` the
    mean holding time measured, or ``holding_time`` s).

    ``plots.occupancy_over_time(run, capacity=200)``
    """
    ax = new_axes(ax)
    ts = timeseries_of(data, freq)
    if not len(ts):
        return no_data(ax, "calls")
    _draw_occupancy(ax, ts, capacity, holding_time, data)
    return ax


def load_over_time(data: Data, freq: str = "1s", *, capacity: int | None = None,
                   holding_time: float | None = None,
                   fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """:func:`rate_over_time` above :func:`occupancy_over_time`, sharing the
    time axis. ``plots.load_over_time(run, capacity=500).savefig("load.png")``"""
    fig = new_figure(fig, (9.0, 6.5))
    ax_rate, ax_occ = fig.subplots(2, 1, sharex=True)
    ts = timeseries_of(data, freq)
    if not len(ts):
        no_data(ax_rate, "calls")
        no_data(ax_occ, "calls")
        return fig
    _draw_rate(ax_rate, ts, data)
    _draw_occupancy(ax_occ, ts, capacity, holding_time, data)
    ax_rate.set_xlabel("")
    return fig


def _load_per_call(df: pd.DataFrame, data: Data, load: str, freq: str) -> np.ndarray:
    if load == "achieved_cps":
        ts = timeseries_of(data, freq)
        w = launch_windows(df, ts)
        cps = ts["achieved_cps"].to_numpy(dtype=np.float64)
        return np.where(w >= 0, cps[np.clip(w, 0, None)], np.nan) if len(ts) \
            else np.full(len(df), np.nan)
    return df[load].to_numpy(dtype=np.float64, na_value=np.nan)


def latency_vs_load(data: Data, column: str = "setup_latency", *, load: str = "active_calls",
                    percentiles: Sequence[float] = (0.5, 0.95, 0.99), bins: int = 20,
                    min_calls: int = 20, freq: str = "1s", mark_knee: bool = False,
                    ax: Axes | None = None) -> Axes:
    """Latency percentiles against the load each call met at launch: the
    calls are put in ``bins`` equal-width bins of ``load`` and the
    percentiles of each bin (with at least ``min_calls`` values) are drawn
    at the bin's centre; computed by ``df.calls.kpis(by=<bin>)``.

    ``load``: ``"active_calls"``, ``"erlangs"``, ``"target_rate"`` (the
    per-call load context) or ``"achieved_cps"`` (the achieved rate of the
    call's launch window of ``freq``). ``mark_knee=True`` marks the knee of
    the highest percentile ≤ p95 (see
    :func:`~switchlab.plots.aggregate.knee_point`; nothing is marked when
    the curve has no clear knee). The returned Axes carries ``ax.knee``:
    the load at the knee, or None.

    ``plots.latency_vs_load(run, load="achieved_cps", mark_knee=True)``
    """
    if load not in LOADS:
        raise ValueError(f"load must be one of {LOADS}, not {load!r}")
    if bins < 1:
        raise ValueError("bins must be at least 1")
    df = frame_of(data)
    check_latency_column(df, column)
    ax = new_axes(ax)
    _, scale = unit_of(column)
    x = _load_per_call(df, data, load, freq)
    ax.set_xlabel(column_label(load))
    ax.set_ylabel(latency_label(column))
    ax.set_title(f"{latency_name(column)} against load", loc="left")
    show_tick(ax, tick_of(data))
    ax.grid(True, alpha=0.3)
    ax.knee = None  # type: ignore[attr-defined]
    finite = x[~np.isnan(x)]
    if not finite.size or not df[column].notna().any():
        return no_data(ax, "calls with a load and a latency")
    table = latency_by_load(df, x, column, percentiles, bins)
    table = table[table["count"] >= min_calls]
    if table.empty:
        return no_data(ax, f"load bin with {min_calls} calls or more")
    for q in percentiles:
        name = pct_name(q)
        ax.plot(table["load"], table[name] * scale, marker="o", markersize=3.5,
                linewidth=1.4, label=name)
    if mark_knee:
        eligible = [q for q in percentiles if q <= 0.95] or list(percentiles)
        name = pct_name(max(eligible))
        i = knee_point(table["load"].to_numpy(), table[name].to_numpy())
        if i is not None:
            knee = float(table["load"].iloc[i])
            ax.knee = knee  # type: ignore[attr-defined]
            ax.axvline(knee, color="0.3", linestyle="--", linewidth=1, gid="knee",
                       label=f"knee ≈ {knee:.3g} ({name})")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def latency_by_load(df: pd.DataFrame, load_values: np.ndarray, column: str,
                    percentiles: Sequence[float], bins: int) -> pd.DataFrame:
    """Per equal-width bin of ``load_values`` (one per call): the bin centre
    ``load``, the ``count`` of ``column`` values and their percentiles
    (``p50``, ``p95``...), via ``df.calls.kpis(by=<bin>)``."""
    x = np.asarray(load_values, dtype=np.float64)
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    if hi == lo:
        edges = np.array([lo - 0.5, hi + 0.5])
    else:
        edges = np.linspace(lo, hi, bins + 1)
    code = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    code = np.where(np.isnan(x), -1, code)
    key = pd.Categorical.from_codes(code, categories=pd.Index(np.arange(len(edges) - 1)))
    k = df.assign(_load_bin=key).calls.kpis(by="_load_bin", latencies=[column],
                                            percentiles=list(percentiles))
    k = k[k.index.notna()]          # calls without a load value
    centres = 0.5 * (edges[:-1] + edges[1:])
    out = pd.DataFrame({"load": centres[k.index.to_numpy(dtype=np.int64)],
                        "count": k[f"{column}.count"].to_numpy()})
    for q in percentiles:
        out[pct_name(q)] = k[f"{column}.{pct_name(q)}"].to_numpy()
    return out.reset_index(drop=True)
