"""`Run`: one load test's parameters, retunes, event log and per-call rows.

Live use (the originator drives it)::

    run = Run({"rate": 50, "limit": 500, "dest": "answer"}, directory="runs/r1")
    run.log("state", "ORIGINATING")
    run.add_row(record.row())          # one per finished call attempt
    run.retune(rate=80)
    run.df                             # always current (rebuilt when rows arrive)
    run.close()                        # or run.save()

Afterwards::

    run = switchlab.measure.load("runs/r1")
    run.check(asr_min=0.99, p95_setup_max=0.2)

The files of a run directory are described in :mod:`~switchlab.measure.rundir`;
the rows live in a :class:`~switchlab.measure.calltable.CallTable`.
"""
from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..errors import MeasurementError, RunDirectoryError
from .backend import get_report_backend
from .calltable import CallTable, tick_attrs
from .check import CheckResult, evaluate
from .journal import CallsJournal, Journal
from .record import CallRecord
from .rundir import (
    RUN_FORMAT,
    jsonable,
    journal_size,
    make_directory,
    new_run_id,
    now_iso,
    open_journals,
    read_csv,
    read_run_files,
    write_meta,
    write_parquet,
)
from .schema import COLUMNS, SCHEMA_VERSION, kpi_latencies
from .store import checked_derive
from .tick import TickEstimate

__all__ = ["Run", "load", "new_run_id", "read_csv"]


class Run:
    """A load test run: parameters, retunes, event log, per-call rows, KPIs.

    ``directory``: when given, the run writes its journals there as it goes
    (created if missing; refused if it already holds a run). ``fsync``: flush
    every journal line to disk (survives a power cut, not only a killed
    process; slower).
    """

    def __init__(self, params: Mapping[str, Any] | None = None, *,
                 directory: str | os.PathLike[str] | None = None, run_id: str | None = None,
                 fsync: bool = False) -> None:
        self.run_id = run_id or new_run_id()
        self.params: dict[str, Any] = jsonable(dict(params or {}))
        self.created = time.time()
        self.closed_at: float | None = None
        self.retunes: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.directory: Path | None = None
        self.rows = CallTable(self.run_id)
        self._calls_journal: CallsJournal | None = None
        self._log_journal: Journal | None = None
        if directory is not None:
            self.directory = Path(directory)
            self._calls_journal, self._log_journal = open_journals(self.directory, fsync)
            write_meta(self.directory, self.metadata(), saved=False)

    # -- recording --------------------------------------------------------------------
    def add_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Add one finished call attempt (a row dict, see
        :mod:`switchlab.measure.schema`): kept in memory and, with a run
        directory, appended to ``calls.jsonl`` before this returns. Returns
        the row as stored (``run_id`` and derived latencies filled in)."""
        full = dict.fromkeys(COLUMNS)
        unknown = [k for k in row if k not in COLUMNS]
        if unknown:
            raise MeasurementError(
                f"unknown row column(s) {unknown}; the columns are {list(COLUMNS)}")
        full.update(row)
        if full["run_id"] is None:
            full["run_id"] = self.run_id
        checked_derive(full)
        self.rows.append(full, self._calls_journal)
        return full

    def add_record(self, record: CallRecord) -> dict[str, Any]:
        """Add a :class:`~switchlab.measure.record.CallRecord`'s row; returns it."""
        return self.add_row(record.row())

    def _journal(self, entry: dict[str, Any], into: list[dict[str, Any]],
                 **extra: Any) -> dict[str, Any]:
        with self.rows.lock:
            into.append(entry)
            if self._log_journal is not None:
                self._log_journal.append({**entry, **extra})
        return entry

    def log(self, kind: str, message: str = "", **data: Any) -> dict[str, Any]:
        """Add an event-log entry, e.g. ``run.log("state", "ORIGINATING")`` or
        ``run.log("host_error", "connection refused", host="10.0.0.5:8021")``."""
        return self._journal({"time": time.time(), "monotonic": time.monotonic(),
                              "kind": str(kind), "message": str(message),
                              "data": jsonable(data)}, self.events)

    def retune(self, **changes: Any) -> dict[str, Any]:
        """Record a parameter change made while running, with its time, e.g.
        ``run.retune(rate=80, limit=400)``."""
        return self._journal({"time": time.time(), "monotonic": time.monotonic(),
                              "changes": jsonable(changes)}, self.retunes, kind="retune")

    @property
    def current_params(self) -> dict[str, Any]:
        """The start parameters with every retune applied."""
        out = dict(self.params)
        for r in self.retunes:
            out.update(r["changes"])
        return out

    def close(self) -> None:
        """Stop recording: close the journals (rows stay in memory)."""
        with self.rows.lock:
            if self.closed_at is None:
                self.closed_at = time.time()
            for j in (self._calls_journal, self._log_journal):
                if j is not None:
                    j.close()
            self._calls_journal = self._log_journal = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data (see CallTable and the df.calls accessor) -------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    @property
    def store_nbytes(self) -> int:
        """Bytes of the in-memory column buffers of the live rows."""
        return self.rows.nbytes

    @property
    def df(self) -> pd.DataFrame:
        """The typed per-call DataFrame, current (rebuilt when rows were added).
        ``df.attrs`` carries ``run_id`` and ``fs_tick``."""
        return self.rows.df

    def rows_since(self, start: int) -> pd.DataFrame:
        """The typed DataFrame of rows ``start:`` only (cheap at any run size:
        a live display keeps its own totals and asks for the new rows).
        ``len(run)`` is the next start. Index: row numbers from ``start``."""
        return self.rows.rows_since(start)

    @property
    def tick(self) -> TickEstimate:
        """FreeSWITCH's clock tick detected from the rows (see :mod:`~switchlab.measure.tick`)."""
        return self.rows.ticks[0]

    @property
    def tick_by_host(self) -> dict[str, TickEstimate]:
        return self.rows.ticks[1]

    def kpis(self, by: str | Sequence[str] | None = None, **kw: Any) -> pd.DataFrame:
        """``run.df.calls.kpis(by)``."""
        return self.df.calls.kpis(by, **kw)

    def timeseries(self, freq: str = "1s", by: str | Sequence[str] | None = None,
                   **kw: Any) -> pd.DataFrame:
        """``run.df.calls.timeseries(freq, by)``, cached until rows are added."""
        return self.rows.timeseries(freq, by, **kw)

    @property
    def ts(self) -> pd.DataFrame:
        """The 1-second time series."""
        return self.timeseries("1s")

    def failures(self, by: str | Sequence[str] = "hangup_cause") -> pd.DataFrame:
        return self.df.calls.failures(by)

    @property
    def event_log(self) -> pd.DataFrame:
        """The event log (and retunes, kind ``"retune"``) as a DataFrame."""
        return event_log_frame(self.events, self.retunes)

    def check(self, thresholds: Mapping[str, Any] | None = None, **limits: float
              ) -> CheckResult:
        """Evaluate thresholds on the run's KPIs into a pass/fail result:
        ``run.check(asr_min=0.99, p95_setup_max=0.2)`` or
        ``run.check({"asr": ">= 0.99", "setup_latency.p95": "< 200ms"})``.
        Unknown KPI names raise :class:`~switchlab.errors.UnknownKPIError`."""
        row = self.kpis().iloc[0]
        return evaluate(row.to_dict(), thresholds, tick=self.tick.label, **limits)

    def report(self, html: str | os.PathLike[str] | None = None) -> Any:
        """One figure summarising the run (KPIs, load, latency, failures), or,
        with ``html=path``, one self-contained HTML page written there.

        Like ``DataFrame.plot`` in pandas, this hands the run to the report
        backend (:mod:`switchlab.measure.backend`; default :mod:`switchlab.plots`),
        loaded only when called."""
        backend = get_report_backend()
        return backend.report(self) if html is None else backend.report_html(self, html)

    # -- persistence (the files: switchlab.measure.rundir) ----------------------------
    def metadata(self) -> dict[str, Any]:
        """Everything but the rows, as saved in ``run.json``."""
        overall, by_host = self.rows.last_ticks
        return {
            "format": RUN_FORMAT, "schema_version": SCHEMA_VERSION,
            "switchlab_version": __version__, "run_id": self.run_id,
            "created": now_iso(self.created),
            "closed": None if self.closed_at is None else now_iso(self.closed_at),
            "params": self.params, "retunes": self.retunes, "events": self.events,
            "rows": len(self), "fs_tick": {**tick_attrs(overall, by_host), "label": overall.label},
            "columns": dict(COLUMNS), "kpi_latencies": list(kpi_latencies()),
        }

    def save(self, directory: str | os.PathLike[str] | None = None) -> Path:
        """Write ``calls.parquet``, ``timeseries.parquet`` and ``run.json`` into
        ``directory`` (default: the run's own directory). Returns the path."""
        if directory is None and self.directory is None:
            raise RunDirectoryError("this run has no directory: call run.save(path)")
        path = self.directory if directory is None else Path(directory)
        assert path is not None
        make_directory(path)
        with self.rows.lock:
            df = self.df
            jbytes = journal_size(path) if path == self.directory else None
        write_parquet(path, df, self.ts)
        write_meta(path, self.metadata(), saved=True, journal_bytes=jbytes)
        return path

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-call rows as CSV (ISO 8601 UTC times); returns the path.
        Read it back with :func:`switchlab.measure.read_csv`."""
        p = Path(path)
        self.df.to_csv(p, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        return p

    def __repr__(self) -> str:
        where = f" dir={self.directory}" if self.directory else ""
        tick = self.rows.last_ticks[0].label
        return f"<Run {self.run_id} calls={len(self)} tick={tick}{where}>"


def event_log_frame(events: list[dict[str, Any]], retunes: list[dict[str, Any]]
                    ) -> pd.DataFrame:
    """Event-log entries and retunes (kind ``"retune"``) as one DataFrame, by time."""
    entries = [dict(e) for e in events]
    entries += [{"time": r["time"], "monotonic": r["monotonic"], "kind": "retune",
                 "message": ", ".join(f"{k}={v}" for k, v in r["changes"].items()),
                 "data": r["changes"]} for r in retunes]
    df = pd.DataFrame(entries, columns=["time", "monotonic", "kind", "message", "data"])
    df["time"] = pd.to_datetime(df["time"].astype("float64"), unit="s", utc=True)
    return df.sort_values("time", kind="stable").reset_index(drop=True)


def load(directory: str | os.PathLike[str]) -> Run:
    """Open a run directory written by :class:`Run` (saved, or recovered from
    its journals when the recording process died)."""
    path = Path(directory)
    files = read_run_files(path)
    run_id = files.run_id
    if not run_id:
        ids = files.df["run_id"].dropna().unique()
        run_id = str(ids[0]) if len(ids) else path.name
    run = Run(files.meta.get("params"), run_id=run_id)
    run.directory = path
    created, closed = files.meta.get("created"), files.meta.get("closed")
    if created:
        run.created = _dt.datetime.fromisoformat(created).timestamp()
    if closed:
        run.closed_at = _dt.datetime.fromisoformat(closed).timestamp()
    run.retunes, run.events = files.retunes, files.events
    run.rows.base = files.df
    return run
