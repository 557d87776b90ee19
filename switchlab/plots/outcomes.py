"""App outcomes: the share of calls whose app said "ok", over time and by cause.

The outcome columns are the ``bool``/``flag`` columns apps declare with
``ratio=True`` (``ringback_ok``, ``bridge_ok``, ``dtmf_ok``...): a call counts
where its app recorded a value (NA: not that app's call).

* :func:`outcome_table` — per group of ``by`` (default the hangup cause) and
  outcome column: calls with a value, how many were True, the ratio;
* :func:`app_outcomes_over_time` — the ratio per time window, one line per
  outcome column;
* :func:`app_outcomes_by_cause` — the ratio per hangup cause, grouped bars
  annotated with the number of calls.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from switchlab.measure.columns import BUILTIN_COLUMNS
from switchlab.measure.kpis import require
from switchlab.measure.schema import ratio_columns

from ._base import Data, band_legend, column_label, frame_of, new_axes, no_data

_BUILTIN = frozenset(c.name for c in BUILTIN_COLUMNS)


def outcome_columns(df: pd.DataFrame) -> list[str]:
    """The app outcome columns of ``df`` (declared with ``ratio=True``, not built in)."""
    return [c for c in ratio_columns() if c not in _BUILTIN and c in df.columns]


def _columns(df: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    cols = outcome_columns(df) if columns is None else list(columns)
    require(df, cols, "app outcome plots")
    return cols


def outcome_table(data: Data, columns: Sequence[str] | None = None,
                  by: str = "hangup_cause") -> pd.DataFrame:
    """Rows: (group of ``by``, outcome column); columns ``calls`` (with a value),
    ``ok`` (True) and ``ratio``. Groups without any value are left out."""
    df = frame_of(data)
    require(df, [by], f"outcome_table by={by!r}")
    cols = _columns(df, columns)
    key = df[by].astype(object).where(df[by].notna(), "none").astype(str)
    parts = []
    for c in cols:
        v = df[c].astype("boolean")
        t = pd.DataFrame({by: key, "calls": v.notna().astype(np.int64),
                          "ok": v.fillna(False).astype(np.int64)})
        g = t.groupby(by, sort=True)[["calls", "ok"]].sum()
        g = g[g["calls"] > 0]
        g["outcome"] = c
        parts.append(g.reset_index())
    if not parts:
        return pd.DataFrame(columns=[by, "outcome", "calls", "ok", "ratio"]).set_index(
            [by, "outcome"])
    out = pd.concat(parts, ignore_index=True).set_index([by, "outcome"])
    out["ratio"] = out["ok"] / out["calls"]
    return out


def app_outcomes_over_time(data: Data, columns: Sequence[str] | None = None,
                           freq: str = "5s", *, ax: Axes | None = None) -> Axes:
    """The share of True of each outcome column per ``freq`` window of launch time."""
    df = frame_of(data)
    cols = _columns(df, columns)
    ax = new_axes(ax)
    launched = df[df["launch"].notna()]
    if not cols or not len(launched):
        return no_data(ax, "app outcomes")
    t0 = launched["launch"].min()
    window = pd.Timedelta(freq).total_seconds()
    bins = np.floor((launched["launch"] - t0).dt.total_seconds().to_numpy() / window) * window
    for c in cols:
        v = launched[c].astype("boolean").astype("Float64").to_numpy(dtype=np.float64,
                                                                      na_value=np.nan)
        series = pd.Series(v).groupby(bins).mean().dropna()
        if len(series):
            ax.plot(series.index.to_numpy(), series.to_numpy(), marker="o", ms=3,
                    drawstyle="steps-post", label=column_label(c))
    ax.set_ylim(-0.02, 1.3)
    ax.set_xlabel(f"time since first launch (s; {freq} windows)")
    ax.set_ylabel("share of calls ok")
    ax.set_title("App outcomes over time")
    band_legend(ax)
    return ax


def app_outcomes_by_cause(data: Data, columns: Sequence[str] | None = None,
                          by: str = "hangup_cause", *, ax: Axes | None = None) -> Axes:
    """The share of True of each outcome column per group of ``by`` (default the
    hangup cause), as grouped bars annotated with the number of calls."""
    table = outcome_table(data, columns, by)
    ax = new_axes(ax)
    if not len(table):
        return no_data(ax, "app outcomes")
    groups = list(dict.fromkeys(table.index.get_level_values(0)))
    outcomes = list(dict.fromkeys(table.index.get_level_values(1)))
    width = 0.8 / len(outcomes)
    x = np.arange(len(groups), dtype=np.float64)
    for k, c in enumerate(outcomes):
        ratios = [table["ratio"].get((g, c), np.nan) for g in groups]
        calls = [table["calls"].get((g, c), 0) for g in groups]
        bars = ax.bar(x + (k - (len(outcomes) - 1) / 2) * width, ratios, width,
                      label=column_label(c))
        ax.bar_label(bars, labels=[f"n={n}" if n else "" for n in calls], fontsize=7)
    ax.set_xticks(x, groups, rotation=20, ha="right")
    ax.set_ylim(0, 1.3)
    ax.set_ylabel("share of calls ok")
    ax.set_xlabel(column_label(by))
    ax.set_title(f"App outcomes by {column_label(by)}")
    band_legend(ax)
    return ax
