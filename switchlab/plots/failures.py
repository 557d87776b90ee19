"""What failed, when, and why.

* :func:`failures_over_time` — failed attempts per second, stacked by
  hangup cause (or SIP code, app...), one filled step area per cause;
* :func:`cause_sip_table` — failed attempts counted by hangup cause × SIP
  code, as a DataFrame;
* :func:`cause_sip_heatmap` — the same table drawn as an annotated heatmap.

Counts come from ``df.calls.failures`` and ``df.calls.timeseries``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import StepPatch

from switchlab.measure.kpis import require

from ._base import (
    Data,
    band_legend,
    column_label,
    elapsed_seconds,
    frame_of,
    headroom,
    new_axes,
    no_data,
    time_label,
    timeseries_of,
    window_seconds,
)

#: Label of failures without a value of the grouping column (e.g. no SIP code).
NO_SIP = "none"
OTHER = "other"


def largest_first(totals: pd.Series) -> list:
    """The index of ``totals`` by decreasing value, ties by name."""
    return sorted(totals.index, key=lambda k: (-float(totals[k]), str(k)))


def failures_by_window(data: Data, freq: str = "1s", by: str = "hangup_cause",
                       top: int = 8, *, ts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Failed attempts per window (rows, the run's windows) and group of
    ``by`` (columns, the ``top`` most frequent, largest first; the rest
    summed as ``"other"``), from ``df.calls.timeseries(freq, by=by)`` over
    the failed calls. ``ts``: the run's time series of ``freq`` when already
    computed."""
    df = frame_of(data)
    require(df, [by], f"failures by={by!r}")
    if ts is None:
        ts = timeseries_of(data, freq, latencies=())
    failed = df[df["failed"].to_numpy(dtype=bool)]
    if not len(failed) or not len(ts):
        return pd.DataFrame(index=ts.index)
    key = failed[by]
    if key.isna().any():     # keep the failures without a value (no SIP code) as "none"
        named = key.astype(object).where(key.notna(), NO_SIP).astype(str)
        failed = failed.assign(**{by: named.astype("category")})
    fts = failed.calls.timeseries(freq, by, latencies=())
    counts = fts["failed"].unstack(0).reindex(ts.index, fill_value=0).fillna(0)
    counts.columns = [NO_SIP if pd.isna(c) else str(c) for c in counts.columns]
    counts = counts.T.groupby(level=0, sort=False).sum().T   # e.g. int and str 486 merged
    totals = counts.sum()
    totals = totals[totals > 0]
    ranked = largest_first(totals)
    keep = ranked[:top]
    out = counts[keep].astype(np.int64)
    rest = ranked[top:]
    if rest:
        out[OTHER] = counts[rest].sum(axis=1).astype(np.int64)
    out.columns.name = by
    out.attrs["freq"] = ts.attrs.get("freq", freq)
    return out


def failures_over_time(data: Data, freq: str = "1s", *, by: str = "hangup_cause",
                       top: int = 8, ax: Axes | None = None) -> Axes:
    """Failed attempts per second (by launch time), stacked by ``by``
    (``"hangup_cause"``, ``"sip_code"``, ``"app"``, ``"host"``...): the
    ``top`` most frequent values, the rest as ``"other"``. One filled step
    area per value, whatever the number of calls.

    ``plots.failures_over_time(run, "10s", by="sip_code")``
    """
    ax = new_axes(ax)
    ts = timeseries_of(data, freq, latencies=())
    _draw_failures(ax, failures_by_window(data, freq, by, top, ts=ts), by, ts)
    return ax


def _draw_failures(ax: Axes, counts: pd.DataFrame, by: str, ts: pd.DataFrame) -> None:
    """Stacked filled steps of ``counts`` (windows × groups) per second."""
    ax.set_title(f"failures over time by {column_label(by)}", loc="left")
    ax.set_ylabel("failed attempts/s")
    ax.grid(True, axis="y", alpha=0.3)
    if counts.empty or counts.shape[1] == 0:
        ax.set_xlabel(time_label(ts) if len(ts) else "time since first launch (s)")
        no_data(ax, "failed calls")
        return
    width = window_seconds(counts)
    starts = elapsed_seconds(counts.index)
    edges = np.append(starts, starts[-1] + width)
    base = np.zeros(len(counts))
    for i, name in enumerate(counts.columns):
        rate = counts[name].to_numpy(dtype=np.float64) / width
        colour = "0.6" if name == OTHER else f"C{i % 10}"
        # added as an artist: Axes.stairs would walk every vertex to update the
        # data limits (slow for thousands of windows); the limits are set below
        # matplotlib's stubs say baseline: float; StepPatch documents "float, array-like"
        ax.add_artist(StepPatch(base + rate, edges,
                                baseline=base.copy(),  # type: ignore[arg-type]
                                fill=True,
                                facecolor=colour, edgecolor="none", alpha=0.85,
                                label=f"{name} ({int(counts[name].sum()):,})"))
        base = base + rate
    ax.set_xlabel(time_label(counts))
    ax.set_xlim(edges[0], edges[-1])
    rows = -(-counts.shape[1] // 2)
    top = float(base.max()) if base.size else 0.0
    headroom(ax, top if top > 0 else 1.0, min(0.55, 0.1 + 0.07 * rows))
    band_legend(ax, title=column_label(by), title_fontsize="small",
                alignment="left")


def cause_sip_table(data: Data, *, margins: bool = True) -> pd.DataFrame:
    """Failed attempts counted by hangup cause (rows, most frequent first)
    and SIP code (columns, ascending; ``"none"`` for failures without one),
    from ``df.calls.failures(["hangup_cause", "sip_code"])``. ``margins``
    adds a ``"total"`` row and column.

    >>> import switchlab.measure as m
    >>> df = m.frame_from_rows([
    ...     {"call_id": "a", "launch": 0, "hangup_cause": "USER_BUSY", "sip_code": 486, "failed": True},
    ...     {"call_id": "b", "launch": 0, "hangup_cause": "USER_BUSY", "sip_code": 486, "failed": True},
    ...     {"call_id": "c", "launch": 0, "hangup_cause": "NO_ANSWER", "failed": True}])
    >>> cause_sip_table(df)
    sip_code      486  none  total
    hangup_cause
    USER_BUSY       2     0      2
    NO_ANSWER       0     1      1
    total           2     1      3
    """
    df = frame_of(data)
    f = df.calls.failures(["hangup_cause", "sip_code"])["count"]
    if f.empty:
        out = pd.DataFrame(index=pd.Index([], name="hangup_cause"),
                           columns=pd.Index([], name="sip_code"), dtype=np.int64)
    else:
        out = f.unstack("sip_code", fill_value=0)
        codes = [c for c in out.columns if not pd.isna(c)]
        order = sorted(codes, key=int) + [c for c in out.columns if pd.isna(c)]
        out = out[order]
        out.columns = pd.Index([str(int(c)) if not pd.isna(c) else NO_SIP for c in order],
                               name="sip_code")
        out.index = pd.Index([str(c) for c in out.index], name="hangup_cause")
        out = out.loc[largest_first(out.sum(axis=1))]
        out = out.astype(np.int64)
    if margins:
        out["total"] = out.sum(axis=1).astype(np.int64)
        out.loc["total"] = out.sum(axis=0).astype(np.int64)
    return out


def cause_sip_heatmap(data: Data, *, top: int = 12, ax: Axes | None = None) -> Axes:
    """:func:`cause_sip_table` as a heatmap with the count in every non-empty
    cell (the ``top`` most frequent causes and SIP codes; share of all
    failures as the colour). ``plots.cause_sip_heatmap(run)``"""
    ax = new_axes(ax, figsize=(7.5, 4.5))
    table = cause_sip_table(data, margins=False)
    ax.set_title("failures: hangup cause × SIP code", loc="left")
    if table.empty:
        ax.set_xticks([])
        ax.set_yticks([])
        return no_data(ax, "failed calls")
    table = table.iloc[:top]
    col_order = largest_first(table.sum(axis=0))[:top]
    table = table[[c for c in table.columns if c in set(col_order)]]
    counts = table.to_numpy(dtype=np.float64)
    total = float(counts.sum())
    ax.imshow(counts / total, cmap="Reds", vmin=0, vmax=max(counts.max() / total, 1e-9),
              aspect="auto")
    peak = counts.max()
    for (i, j), n in np.ndenumerate(counts):
        if n > 0:
            ax.text(j, i, f"{int(n):,}", ha="center", va="center", fontsize="small",
                    color="white" if n > 0.6 * peak else "black", gid="cell")
    ax.set_xticks(range(counts.shape[1]), list(table.columns))
    ax.set_yticks(range(counts.shape[0]), list(table.index))
    ax.set_xlabel("SIP code")
    ax.set_ylabel("hangup cause")
    ax.tick_params(length=0)
    return ax
