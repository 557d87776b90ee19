"""Live aggregates of a running originator, and the chart drawn from them.

:class:`LiveSeries` samples the originator's counters about once a second
and keeps one point per sample (bounded): active calls, achieved calls/s
over the last interval, the target rate, and the p95 setup latency of the
calls that finished in the last ``window`` seconds (read incrementally with
``run.rows_since``). Its cost does not depend on how many calls the run
holds, and :func:`render_chart` draws a handful of lines whatever the count.
"""
from __future__ import annotations

import io
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..measure.schema import live_columns


class Sampled(Protocol):
    """What :class:`LiveSeries` reads (an :class:`~switchlab.originator.Originator`)."""

    run: Any

    def stats(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Sample:
    """One point of the live chart."""

    t: float                 # seconds since the first sample
    state: str
    active: int
    offered: int
    answered: int
    failed: int
    achieved_cps: float      # launches per second since the previous sample
    recent_cps: float        # launches per second over the last ``window`` seconds
    target_rate: float       # 0 while not launching
    asr: float | None
    #: ``{"p95_<alias>": seconds}`` for each live column of the column
    #: declaration (``ColumnSpec(live=True)``); NaN when no call finished in the window
    p95: dict[str, float]
    finished_in_window: int
    #: hosts whose event socket is down now / given up, and launches due while no host
    #: was up (``Originator.stats()``: ``hosts_down``, ``hosts_given_up``, ``not_offered``)
    hosts_down: int = 0
    hosts_given_up: int = 0
    not_offered: int = 0

    @property
    def p95_setup(self) -> float:
        """p95 setup latency (s) of the window: the panel's first live column."""
        return self.p95.get("p95_setup", math.nan)


#: the series' columns that do not come from the column declaration
BASE_COLUMNS = ("t", "active", "achieved_cps", "target_rate")


def live_keys() -> dict[str, str]:
    """``{"p95_<alias>": column}`` for the columns declared live (today ``p95_setup``).

    >>> live_keys()
    {'p95_setup': 'setup_latency'}
    """
    return {f"p95_{spec.alias or spec.name}": spec.name for spec in live_columns()}


class LiveSeries:
    """Bounded time series of an originator's live counters.

    ``window``: seconds of finished calls the p95 is computed over (and of
    launches the ``recent_cps`` rate is). ``max_points``: points kept (older
    ones are dropped, so the chart covers the last ``max_points`` samples).
    """

    def __init__(self, orig: Sampled, *, window: float = 5.0, max_points: int = 3600,
                 clock: Any = time.monotonic) -> None:
        if not window > 0:
            raise ValueError(f"window must be > 0 seconds, got {window!r}")
        self.orig = orig
        self.window = float(window)
        self.clock = clock
        self.points: deque[Sample] = deque(maxlen=int(max_points))
        self._t0: float | None = None
        #: rows of the run already read (those finished before the panel came are not "live")
        self.rows_seen = len(orig.run)
        #: ``{"p95_<alias>": column}``: the live columns, fixed when the series starts
        self.keys = live_keys()
        self._recent: deque[tuple[float, dict[str, np.ndarray]]] = deque()
        self._launches: deque[tuple[float, int]] = deque()
        self.rows_read = 0

    @property
    def last(self) -> Sample | None:
        return self.points[-1] if self.points else None

    def _new_values(self) -> dict[str, np.ndarray]:
        """The non-missing values of each live column in the rows finished since last time."""
        run = self.orig.run
        if len(run) <= self.rows_seen:
            return {key: np.empty(0) for key in self.keys}
        new = run.rows_since(self.rows_seen)
        self.rows_seen += len(new)
        self.rows_read += len(new)
        out = {}
        for key, column in self.keys.items():
            values = new[column].to_numpy(dtype=np.float64, na_value=np.nan)
            out[key] = values[~np.isnan(values)]
        return out

    def sample(self, *, keep: bool = True) -> Sample:
        """Read the counters and the rows finished since the last sample.

        With ``keep`` the point is added to the series (the chart's data)."""
        now = self.clock()
        if self._t0 is None:
            self._t0 = now
        stats = self.orig.stats()
        launching = stats["state"] == "ORIGINATING"
        values = self._new_values()
        self._recent.append((now, values))
        while self._recent and self._recent[0][0] < now - self.window:
            self._recent.popleft()
        p95: dict[str, float] = {}
        finished = 0
        for key in self.keys:
            window = np.concatenate([v[key] for _, v in self._recent])
            p95[key] = float(np.quantile(window, 0.95)) if window.size else math.nan
            finished = max(finished, int(window.size))
        offered = int(stats["offered"])
        prev = self._launches[-1] if self._launches else None
        self._launches.append((now, offered))
        while len(self._launches) > 2 and self._launches[0][0] < now - self.window:
            self._launches.popleft()
        cps = 0.0
        if prev is not None and now > prev[0]:
            cps = max(0.0, (offered - prev[1]) / (now - prev[0]))
        first = self._launches[0]
        recent = max(0.0, (offered - first[1]) / (now - first[0])) if now > first[0] else cps
        s = Sample(t=now - self._t0, state=str(stats["state"]), active=int(stats["active"]),
                   offered=offered, answered=int(stats["answered"]), failed=int(stats["failed"]),
                   achieved_cps=cps, recent_cps=recent,
                   target_rate=float(stats["target_rate"]) if launching else 0.0,
                   asr=stats["asr"], p95=p95, finished_in_window=finished,
                   hosts_down=int(stats.get("hosts_down") or 0),
                   hosts_given_up=int(stats.get("hosts_given_up") or 0),
                   not_offered=int(stats.get("not_offered") or 0))
        if keep:
            self.points.append(s)
        return s

    def frame(self) -> pd.DataFrame:
        """The kept points: ``t`` (s), ``active``, ``achieved_cps``,
        ``target_rate``, and ``p95_<alias>`` (s) for each live column."""
        return pd.DataFrame(self.arrays(), columns=[*BASE_COLUMNS, *self.keys])

    def arrays(self) -> dict[str, np.ndarray]:
        """The kept points as numpy arrays (a snapshot, safe to draw from another thread)."""
        pts = list(self.points)
        return {"t": np.fromiter((p.t for p in pts), float, len(pts)),
                "active": np.fromiter((p.active for p in pts), float, len(pts)),
                "achieved_cps": np.fromiter((p.achieved_cps for p in pts), float, len(pts)),
                "target_rate": np.fromiter((p.target_rate for p in pts), float, len(pts)),
                **{key: np.fromiter((p.p95.get(key, math.nan) for p in pts), float, len(pts))
                   for key in self.keys}}


class LiveChart:
    """The live chart: one matplotlib Figure (object API, no pyplot, so the
    notebook's inline backend never shows it) whose lines get new data at
    each redraw. Use it from one thread at a time (the panel draws in one
    worker thread)."""

    def __init__(self, *, width: float = 8.0, height: float = 4.6, dpi: int = 80,
                 window: float = 5.0, key: str = "p95_setup") -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.dpi = dpi
        self.figure = Figure(figsize=(width, height), dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.09, right=0.985, top=0.97, bottom=0.12, hspace=0.12)
        ax_active, ax_cps, ax_lat = self.axes = self.figure.subplots(3, 1, sharex=True)
        (self.active,) = ax_active.plot([], [], color="C0", linewidth=1.6)
        ax_active.set_ylabel("active calls", fontsize="small")
        (self.achieved,) = ax_cps.plot([], [], color="C1", linewidth=1.4, label="achieved")
        (self.target,) = ax_cps.plot([], [], color="0.35", linewidth=1.0, linestyle="--",
                                     label="target")
        ax_cps.set_ylabel("calls/s", fontsize="small")
        ax_cps.legend(loc="upper left", fontsize="x-small", ncol=2, frameon=False)
        (self.p95,) = ax_lat.plot([], [], color="C3", linewidth=1.4, marker=".", markersize=3)
        #: the live column drawn on the bottom axes (a key of :func:`live_keys`)
        self.key = key
        ax_lat.set_ylabel(f"{key.replace('_', ' ', 1)} ms", fontsize="small")
        ax_lat.set_xlabel(f"seconds (p95 over calls finished in the last {window:g} s)",
                          fontsize="small")
        for ax in self.axes:
            ax.grid(True, alpha=0.3)
            ax.tick_params(labelsize="small")

    def render(self, data: dict[str, np.ndarray]) -> bytes:
        """PNG bytes of the chart for ``data`` (see :meth:`LiveSeries.arrays`)."""
        t = data["t"]
        self.active.set_data(t, data["active"])
        self.achieved.set_data(t, data["achieved_cps"])
        self.target.set_data(t, data["target_rate"])
        lat_ms = data.get(self.key, np.full(t.shape, math.nan)) * 1e3
        self.p95.set_data(t, lat_ms)
        for ax, ys in zip(self.axes, (data["active"],
                                      np.concatenate([data["achieved_cps"], data["target_rate"]]),
                                      lat_ms)):
            finite = ys[np.isfinite(ys)]
            top = float(finite.max()) if finite.size else 0.0
            ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
        if t.size:
            self.axes[-1].set_xlim(t[0], max(t[-1], t[0] + 10.0))
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.dpi)
        return buf.getvalue()


def render_chart(data: dict[str, np.ndarray], *, width: float = 8.0, height: float = 4.6,
                 dpi: int = 80, window: float = 5.0) -> bytes:
    """PNG bytes of the live chart: active calls, achieved vs target calls/s,
    p95 setup latency (ms), over seconds since the panel started (a one-off
    :class:`LiveChart`)."""
    return LiveChart(width=width, height=height, dpi=dpi, window=window).render(data)
