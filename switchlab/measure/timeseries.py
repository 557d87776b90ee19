"""Fixed-window time series over a call DataFrame (``df.calls.timeseries``).

Windows are laid on the local ``launch`` clock, aligned to ``freq``
(``"1s"`` → whole seconds), every window from the first launch to the last
call's end present (empty windows have ``offered == 0``). A call belongs to
the window it was launched in, so per-window counts, ratios and latency
percentiles describe *the calls offered in that window* (and line up with
the load context at launch). Two columns describe occupancy instead:

* ``active``: attempts in progress (launched, not yet ended) at the window's
  end;
* ``erlangs``: the mean number in progress over the window (traffic in
  Erlangs: the sum of the time each attempt spent in the window / width).

An attempt runs from its launch to its end on the local clock: the local
receive time of the caller's hangup (``launch + rx_caller_hangup -
rx_launch``), else FreeSWITCH's create→hangup time added to the launch, else
the job result time.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .kpis import frame_tick, normalise_by, pct_name, require
from .schema import ts_latencies

#: The built-in latencies with percentiles per window (declared with
#: ``timeseries=True``; :func:`~switchlab.measure.schema.ts_latencies` includes
#: registered ones).
TS_LATENCIES: tuple[str, ...] = ts_latencies()
TS_PERCENTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


def _ns(series: pd.Series) -> np.ndarray:
    """A datetime column as float ns since the epoch (NaN when missing)."""
    out = series.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
    out[series.isna().to_numpy()] = np.nan
    return out


def _f(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return df[col].to_numpy(dtype=np.float64, na_value=np.nan)


def call_intervals(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(start_ns, end_ns)`` of every attempt on the local launch clock (float ns)."""
    start = _ns(df["launch"])
    held = (_f(df, "rx_caller_hangup") - _f(df, "rx_launch")) * 1e9
    if "caller_hangup" in df.columns and "caller_create" in df.columns:
        fs_held = _ns(df["caller_hangup"]) - _ns(df["caller_create"])
        held = np.where(np.isnan(held), fs_held, held)
    if "job_done" in df.columns:
        job = _ns(df["job_done"]) - start
        held = np.where(np.isnan(held), job, held)
    held = np.where(np.isnan(held) | (held < 0), 0.0, held)
    return start, start + held


def _occupancy(start: np.ndarray, end: np.ndarray, edges: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Active count at each window end and mean occupancy over each window.

    ``edges`` are the window boundaries (n_windows + 1), float ns.
    """
    ok = ~np.isnan(start)
    start, end = start[ok], end[ok]
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(start.size), -np.ones(end.size)])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    level = np.cumsum(steps)                       # active just after times[i]
    # integral of the step function up to each change point
    widths = np.diff(times, prepend=times[:1] if times.size else times)
    area = np.cumsum(np.concatenate([[0.0], level[:-1]]) * widths) if times.size else times

    def integral(x: np.ndarray) -> np.ndarray:
        i = np.searchsorted(times, x, side="right") - 1
        res = np.zeros(x.size)
        has = i >= 0
        j = i[has]
        res[has] = area[j] + level[j] * (x[has] - times[j])
        return res

    def active_at(x: np.ndarray) -> np.ndarray:
        i = np.searchsorted(times, x, side="right") - 1
        res = np.zeros(x.size)
        res[i >= 0] = level[i[i >= 0]]
        return res

    cum = integral(edges)
    width = np.diff(edges)
    return active_at(edges[1:]), np.diff(cum) / width


def _one(df: pd.DataFrame, origin: int, width: int, nwin: int, latencies: Sequence[str],
         percentiles: Sequence[float], edges: np.ndarray) -> pd.DataFrame:
    start, end = call_intervals(df)
    known = ~np.isnan(start)
    bins = np.full(len(df), -1, dtype=np.int64)
    bins[known] = ((start[known] - origin) // width).astype(np.int64)
    sel = (bins >= 0) & (bins < nwin)
    b = bins[sel]
    answered = df["caller_answer"].notna().to_numpy()[sel]
    failed = df["failed"].to_numpy(dtype=bool)[sel]
    offered = np.bincount(b, minlength=nwin)
    out = pd.DataFrame(index=np.arange(nwin))
    out["offered"] = offered
    out["answered"] = np.bincount(b, weights=answered, minlength=nwin).astype(np.int64)
    out["failed"] = np.bincount(b, weights=failed, minlength=nwin).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["asr"] = np.where(offered > 0, out["answered"] / np.maximum(offered, 1), np.nan)
        out["achieved_cps"] = offered / (width / 1e9)
        if "target_rate" in df.columns:
            tr = _f(df, "target_rate")[sel]
            have = ~np.isnan(tr)
            n = np.bincount(b[have], minlength=nwin)
            s = np.bincount(b[have], weights=tr[have], minlength=nwin)
            out["target_rate"] = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    active, erlangs = _occupancy(start, end, edges)
    out["active"] = active.astype(np.int64)
    out["erlangs"] = erlangs
    lats = [c for c in latencies if c in df.columns]
    if lats and len(b):
        lat = pd.DataFrame({c: _f(df, c)[sel] for c in lats})
        qs = lat.groupby(b).quantile(np.asarray(percentiles, dtype=np.float64)).unstack(-1)
        for c in lats:
            for q in percentiles:
                out[f"{c}.{pct_name(q)}"] = qs[(c, q)].reindex(out.index)
    else:
        for c in lats:
            for q in percentiles:
                out[f"{c}.{pct_name(q)}"] = np.nan
    return out


def timeseries_table(df: pd.DataFrame, freq: str = "1s", by: str | Sequence[str] | None = None,
                     *, latencies: Sequence[str] | None = None,
                     percentiles: Sequence[float] = TS_PERCENTILES) -> pd.DataFrame:
    """Per-window counts, rates, occupancy and latency percentiles.

    Index: window start (``datetime64[ns, UTC]``, named ``window``); with
    ``by``, a MultiIndex ``(*by, window)`` with the same windows for every
    group. ``df.attrs``: ``freq`` and the FreeSWITCH tick (``fs_tick``).
    """
    require(df, ("launch", "failed", "caller_answer"), "timeseries()")
    if latencies is None:
        latencies = ts_latencies()
    keys = normalise_by(by)
    require(df, keys, "timeseries(by=...)")
    width = int(pd.Timedelta(freq).value)
    if width <= 0:
        raise ValueError(f"freq {freq!r} must be a positive duration such as '1s' or '100ms'")
    overall_tick, _ = frame_tick(df)
    start, end = call_intervals(df)
    cols_template = None
    if np.isnan(start).all():
        idx = pd.DatetimeIndex([], tz="UTC", name="window")
        out = _one(df.iloc[:0], 0, width, 0, latencies, percentiles, np.zeros(1))
        out.index = idx
        cols_template = out
    else:
        first = int(np.nanmin(start))
        last = float(np.nanmax(end))
        origin = (first // width) * width
        nwin = int((last - origin) // width) + 1
        edges = origin + width * np.arange(nwin + 1, dtype=np.float64)
        idx = pd.DatetimeIndex(pd.to_datetime(origin + width * np.arange(nwin), unit="ns",
                                              utc=True), name="window")
        if not keys:
            out = _one(df, origin, width, nwin, latencies, percentiles, edges)
            out.index = idx
        else:
            parts = {}
            for key, part in df.groupby(keys if len(keys) > 1 else keys[0], observed=True,
                                        sort=True):
                t = _one(part, origin, width, nwin, latencies, percentiles, edges)
                t.index = idx
                parts[key] = t
            if parts:
                out = pd.concat(parts, names=[*keys, "window"])
            else:
                cols_template = _one(df.iloc[:0], origin, width, 0, latencies, percentiles,
                                     np.zeros(1))
                out = cols_template
    out.attrs["freq"] = freq
    out.attrs["fs_tick"] = overall_tick.to_dict()
    out.attrs["tick_label"] = overall_tick.label
    return out
