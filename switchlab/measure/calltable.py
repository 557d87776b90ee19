"""`CallTable`: the per-call rows of one run, and the typed DataFrame over them.

Rows recorded live go to a compact :class:`~switchlab.measure.store.RowStore`;
rows loaded from disk stay a DataFrame (the base). ``table.df`` is rebuilt
only when rows were added, the FreeSWITCH tick is re-detected while the run
is small or has grown by 10 %, and time series are cached until the next row.
Thread-safe: a recorder thread appends while a notebook reads.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .frame import concat_frames, frame_from_raw
from .journal import CallsJournal
from .store import RowStore
from .tick import UNKNOWN, TickEstimate, tick_of_frame

Ticks = tuple[TickEstimate, dict[str, TickEstimate]]


def tick_attrs(overall: TickEstimate, by_host: Mapping[str, TickEstimate]) -> dict[str, Any]:
    """The ``fs_tick`` entry of ``df.attrs`` and of ``run.json``."""
    return {"overall": overall.to_dict(), "by_host": {h: t.to_dict() for h, t in by_host.items()}}


class CallTable:
    """The rows of run ``run_id``: ``base`` (loaded from disk) then the live ones."""

    def __init__(self, run_id: str, base: pd.DataFrame | None = None) -> None:
        self.run_id = run_id
        self.base = base
        self.lock = threading.RLock()
        self._store = RowStore()
        self._df: pd.DataFrame | None = None
        self._df_rows = -1
        self._tick: Ticks = (UNKNOWN, {})
        self._tick_rows = 0
        self._ts_cache: dict[tuple[Any, ...], tuple[int, pd.DataFrame]] = {}

    def append(self, row: dict[str, Any], journal: CallsJournal | None = None) -> None:
        """Store a complete, derived row (and append it to ``journal``)."""
        with self.lock:
            self._store.append(row, derived=True)
            if journal is not None:
                journal.append_row(row)

    def __len__(self) -> int:
        return (0 if self.base is None else len(self.base)) + len(self._store)

    @property
    def nbytes(self) -> int:
        """Bytes of the in-memory column buffers of the live rows."""
        return self._store.nbytes()

    @property
    def df(self) -> pd.DataFrame:
        """The typed per-call DataFrame; ``attrs``: ``run_id`` and ``fs_tick``."""
        with self.lock:
            n = len(self)
            if self._df is not None and self._df_rows == n:
                return self._df
            raw = self._store.raw_columns()     # a quick copy; appends wait only for it
        live = frame_from_raw(raw)
        if self.base is None:
            df = live
        else:
            df = concat_frames([self.base, live]) if len(live) else self.base
        overall, by_host = self._detect_tick(df, n)
        df.attrs["run_id"] = self.run_id
        df.attrs["fs_tick"] = tick_attrs(overall, by_host)
        self._df, self._df_rows = df, n
        return df

    def rows_since(self, start: int) -> pd.DataFrame:
        """The typed DataFrame of rows ``start:`` only (index: row numbers)."""
        base = 0 if self.base is None else len(self.base)
        with self.lock:
            raw = self._store.raw_columns(max(0, start - base))
        live = frame_from_raw(raw)
        if self.base is not None and start < base:
            live = concat_frames([self.base.iloc[start:], live])
        live.index = pd.RangeIndex(start, start + len(live))
        live.attrs["run_id"] = self.run_id
        return live

    def _detect_tick(self, df: pd.DataFrame, n: int) -> Ticks:
        # detection costs ~0.1 s at 1 M rows: redo it while the run is small
        # or has grown by 10 % since
        if n < 2000 or n >= 1.1 * self._tick_rows or self._tick[0].seconds is None:
            self._tick = tick_of_frame(df)
            self._tick_rows = n
        return self._tick

    @property
    def ticks(self) -> Ticks:
        """``(overall, {host: tick})``, detected on the current rows."""
        _ = self.df
        return self._tick

    @property
    def last_ticks(self) -> Ticks:
        """The ticks of the last detection (no DataFrame is built)."""
        return self._tick

    def timeseries(self, freq: str, by: str | Sequence[str] | None, **kw: Any
                   ) -> pd.DataFrame:
        """``df.calls.timeseries(freq, by, **kw)``, cached until rows are added."""
        key = (freq, by if by is None or isinstance(by, str) else tuple(by),
               tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items())))
        n = len(self)
        hit = self._ts_cache.get(key)
        if hit is not None and hit[0] == n:
            return hit[1]
        ts = self.df.calls.timeseries(freq, by, **kw)
        self._ts_cache[key] = (n, ts)
        return ts
