"""Host outages as shaded bands on a time axis (seconds since the first window).

:func:`outage_bands` is drawn by the time-series plots (rate, occupancy and
latency over time) when given a Run; it takes ``ax=`` like every plot here.

>>> import matplotlib.figure, pandas as pd
>>> ax = matplotlib.figure.Figure().add_subplot()
>>> out = pd.DataFrame({"host": ["a:8021"], "start": [pd.Timestamp(12, unit="s", tz="UTC")],
...                     "end": [pd.Timestamp(15, unit="s", tz="UTC")], "given_up": [False]})
>>> outage_bands(out, ax=ax, origin=pd.Timestamp(10, unit="s", tz="UTC"))
1
>>> [p.get_gid() for p in ax.patches], ax.patches[0].get_x(), ax.patches[0].get_width()
(['outage'], 2.0, 3.0)
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

__all__ = ["outage_bands", "outages_of"]

#: colour of a host that came back, and of one given up (seaborn's "deep" red and grey)
OUTAGE_COLOR = "#C44E52"
GIVEN_UP_COLOR = "#4C4C4C"


def outages_of(data: Any) -> pd.DataFrame | None:
    """The outages DataFrame of a Run (``run.outages``), or ``data`` itself if
    it is one (has ``start`` and ``end``); None otherwise."""
    if isinstance(data, pd.DataFrame):
        return data if {"start", "end"} <= set(data.columns) else None
    out = getattr(data, "outages", None)
    return out if isinstance(out, pd.DataFrame) else None


def outage_bands(data: Any, *, ax: Axes, origin: pd.Timestamp,
                 end: pd.Timestamp | None = None) -> int:
    """Shade each outage of ``data`` (a Run or its ``outages`` frame) on ``ax``,
    x in seconds since ``origin``. An outage still open at the end of the run
    reaches ``end`` (default: the right edge of the axis). Returns how many."""
    out = outages_of(data)
    if out is None or not len(out):
        return 0
    right = ax.get_xlim()[1] if end is None else (end - origin).total_seconds()
    labelled: set[str] = set()
    n = 0
    starts = pd.to_datetime(out["start"], utc=True)
    ends = pd.to_datetime(out["end"], utc=True)
    gave_up = out["given_up"] if "given_up" in out else pd.Series(False, index=out.index)
    for t0, t1, gone in zip(starts, ends, gave_up):
        start = (t0 - origin).total_seconds()
        stop = right if pd.isna(t1) else (t1 - origin).total_seconds()
        given_up = bool(gone)
        label = "host given up" if given_up else "host down"
        ax.axvspan(start, max(stop, start), color=GIVEN_UP_COLOR if given_up else OUTAGE_COLOR,
                   alpha=0.18, linewidth=0, zorder=0, gid="outage",
                   label=label if label not in labelled else f"_{label}")
        labelled.add(label)
        n += 1
    return n
