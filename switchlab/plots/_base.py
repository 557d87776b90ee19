"""Shared plumbing of the plots: inputs (a Run or a per-call DataFrame),
axes and figures, units and labels, the FreeSWITCH tick badge, elapsed time.

Nothing here touches pyplot's global state except :func:`new_axes`, which
creates a pyplot figure (so that an Axes-returning plot shows in a notebook)
when the caller passed no ``ax``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeGuard, cast, runtime_checkable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

import switchlab.measure  # noqa: F401  (registers the df.calls accessor)
from switchlab.measure.kpis import require
from switchlab.measure.schema import (
    column_labels,
    column_spec,
    fs_latency_columns,
    latency_columns,
    latency_labels,
)
from switchlab.measure.tick import TickEstimate

from ..errors import MeasurementError


@runtime_checkable
class RunLike(Protocol):
    """What the plots use of a :class:`switchlab.measure.Run`."""

    run_id: str

    @property
    def df(self) -> pd.DataFrame: ...

    @property
    def tick(self) -> TickEstimate: ...

    def timeseries(self, freq: str = ..., by: Any = ..., **kw: Any) -> pd.DataFrame: ...


Data = pd.DataFrame | RunLike

#: Labels of what the plots draw that is not a per-call column.
OTHER_LABELS: dict[str, str] = {"achieved_cps": "achieved rate (calls/s)"}

#: Human names of the built-in latency columns (from their declarations in
#: :mod:`switchlab.measure.columns`; :func:`latency_name` also knows an app's).
LATENCY_LABELS: dict[str, str] = latency_labels()

#: Human names (with unit) of the other built-in columns and of ``achieved_cps``
#: (:func:`column_label` also knows an app's).
COLUMN_LABELS: dict[str, str] = {**column_labels(), **OTHER_LABELS}


def latency_name(column: str) -> str:
    """A latency column's human name, without unit (``"post-dial delay"``)."""
    spec = column_spec(column)
    return spec.display_label if spec is not None else column


def column_label(column: str) -> str:
    """A column's human name with unit (``"target rate at launch (calls/s)"``)."""
    if column in OTHER_LABELS:
        return OTHER_LABELS[column]
    spec = column_spec(column)
    return spec.label_with_unit if spec is not None else column


def frame_of(data: Data) -> pd.DataFrame:
    """The per-call DataFrame of a Run or of a DataFrame (checked)."""
    if isinstance(data, pd.DataFrame):
        df = data
    elif hasattr(data, "df"):
        df = data.df
    else:
        raise TypeError(f"expected a per-call DataFrame or a Run, not {type(data).__name__}")
    require(df, ("launch", "failed", "caller_answer"), "the plots")
    return df


def is_run(data: Data) -> TypeGuard[RunLike]:
    """A Run (anything with a per-call ``df``), not a DataFrame."""
    return not isinstance(data, pd.DataFrame) and hasattr(data, "df")


def timeseries_of(data: Data, freq: str = "1s", by: str | Sequence[str] | None = None,
                  **kw: Any) -> pd.DataFrame:
    """``df.calls.timeseries`` (a Run's cached ``run.timeseries``)."""
    if is_run(data) and hasattr(data, "timeseries"):
        return data.timeseries(freq, by, **kw)
    return frame_of(data).calls.timeseries(freq, by, **kw)


def tick_of(data: Data) -> TickEstimate:
    """The detected FreeSWITCH tick of a Run or DataFrame."""
    if is_run(data) and hasattr(data, "tick"):
        return data.tick
    return frame_of(data).calls.tick


def run_label(data: Data, default: str = "run") -> str:
    if is_run(data):
        return str(getattr(data, "run_id", default))
    rid = data.attrs.get("run_id") if isinstance(data, pd.DataFrame) else None
    return str(rid) if rid else default


def tick_badge(tick: TickEstimate) -> str:
    """``"FS tick 20 ms"``, ``"FS clock 1 µs (no tick)"``, ``"FS tick unknown"``."""
    if tick.seconds is not None and tick.seconds <= 1e-6:
        return "FS clock 1 µs (no tick)"
    return f"FS tick {tick.label}"


def show_tick(ax: Axes, tick: TickEstimate, extra: str = "") -> None:
    """Put the tick badge in the Axes' right-hand title."""
    text = tick_badge(tick) + (f" · {extra}" if extra else "")
    ax.set_title(text, loc="right", fontsize="small", color="0.35")


def check_latency_column(df: pd.DataFrame, column: str) -> None:
    known = latency_columns()
    if column not in df.columns or column not in known:
        raise MeasurementError(
            f"{column!r} is not a latency column; choose one of {list(known)}")


def is_fs_clock(column: str) -> bool:
    """True for latencies measured on FreeSWITCH's clock (quantised by its tick)."""
    return column in fs_latency_columns()


def unit_of(column: str) -> tuple[str, float]:
    """Display unit and scale from seconds, as declared: ms for latencies, s
    for durations."""
    spec = column_spec(column)
    return ("s", 1.0) if spec is not None and spec.unit == "s" else ("ms", 1e3)


def latency_label(column: str) -> str:
    unit, _ = unit_of(column)
    return f"{latency_name(column)} ({unit})"


def values_of(df: pd.DataFrame, column: str) -> np.ndarray:
    """A float column without its missing values."""
    v = df[column].to_numpy(dtype=np.float64, na_value=np.nan)
    return v[~np.isnan(v)]


def grouped_values(df: pd.DataFrame, column: str, by: str | None, max_groups: int = 12
                   ) -> list[tuple[str, np.ndarray]]:
    """``[(label, values), ...]``: the non-missing values of ``column``, all
    together (label ``"all calls"``) when ``by`` is None, else per group of
    ``by`` (the ``max_groups`` largest groups, ordered by label; groups with
    no value are left out). No copy of the frame is made."""
    v = df[column].to_numpy(dtype=np.float64, na_value=np.nan)
    if by is None:
        return [("all calls", v[~np.isnan(v)])]
    require(df, [by], f"by={by!r}")
    codes, uniques = pd.factorize(df[by], sort=True)
    ok = ~np.isnan(v) & (codes >= 0)
    codes, v = codes[ok], v[ok]
    counts = np.bincount(codes, minlength=len(uniques))
    largest = np.argsort(-counts, kind="stable")[:max_groups]
    top = [int(i) for i in largest if counts[i] > 0]
    order = np.argsort(codes, kind="stable")
    parts = np.split(v[order], np.cumsum(counts)[:-1])
    out = [(str(uniques[i]), parts[i]) for i in top]
    return sorted(out, key=lambda kv: kv[0])


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.2)) -> Axes:
    """``ax``, or a new Axes on a new pyplot figure (shown by notebooks)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def new_figure(fig: Figure | SubFigure | None, figsize: tuple[float, float]
               ) -> Figure | SubFigure:
    """``fig`` (which must be empty), or a new Figure not registered with
    pyplot: it shows in a notebook when it is a cell's value, is saved with
    ``fig.savefig(path)``, and is freed when dropped."""
    if fig is None:
        return Figure(figsize=figsize, layout="constrained")
    if fig.axes:
        raise ValueError("pass an empty Figure (or SubFigure) as fig=, or none to get a new one")
    return fig


def elapsed_seconds(index: pd.Index, origin: pd.Timestamp | None = None) -> np.ndarray:
    """Seconds from ``origin`` (default: the first window) to each window start."""
    if not len(index):
        return np.empty(0)
    # the windows' DatetimeIndex: pandas-stubs types DataFrame.index as a plain Index
    windows = cast(pd.DatetimeIndex, index)
    t0 = windows[0] if origin is None else origin
    return np.asarray((windows - t0).total_seconds(), dtype=np.float64)


def window_seconds(ts: pd.DataFrame) -> float:
    """Width of a time series' windows, s."""
    return pd.Timedelta(ts.attrs.get("freq", "1s")).total_seconds()


def time_label(ts: pd.DataFrame) -> str:
    return f"time since first launch (s; {ts.attrs.get('freq', '1s')} windows)"


def no_data(ax: Axes, what: str) -> Axes:
    """Say on the Axes that there is nothing to draw."""
    ax.text(0.5, 0.5, f"no {what}", transform=ax.transAxes, ha="center", va="center",
            color="0.4", gid="no-data")
    return ax


def headroom(ax: Axes, top: float, share: float = 0.3) -> None:
    """Y from 0 to ``top``, leaving the top ``share`` of the Axes free for a
    legend band (so the legend never hides data)."""
    if np.isfinite(top) and top > 0:
        ax.set_ylim(0, top / (1 - share))
    else:
        ax.set_ylim(bottom=0)


def band_legend(ax: Axes, ncols: int = 2, **kw: Any) -> None:
    """A frameless legend across the top of the Axes (see :func:`headroom`)."""
    ax.legend(fontsize="small", loc="upper left", ncols=ncols, frameon=False, **kw)
