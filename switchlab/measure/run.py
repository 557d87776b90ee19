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
the rows live in a :class:`~switchlab.measure.calltable.CallTable`; what can
be read of a run (``df``, ``kpis``, ``check``, ``report``...) is
:class:`~switchlab.measure.runview.RunView`.
"""
from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MeasurementError, RunDirectoryError
from .calltable import CallTable
from .journal import CallsJournal, Journal
from .record import CallRecord
from .rundir import (
    jsonable,
    journal_size,
    make_directory,
    new_run_id,
    open_journals,
    read_csv,
    read_run_files,
    write_meta,
    write_parquet,
)
from .runview import RunView
from .schema import COLUMNS
from .store import checked_derive

__all__ = ["Run", "load", "new_run_id", "read_csv"]


class Run(RunView):
    """A load test run: parameters, retunes, event log, per-call rows, KPIs
    (recording and saving here; reading: :class:`~switchlab.measure.runview.RunView`).

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
        self.call_table = CallTable(self.run_id)
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
        unknown = [k for k in row if k not in COLUMNS]
        if unknown:
            raise MeasurementError(
                f"unknown row column(s) {unknown}; the columns are {list(COLUMNS)}")
        full = dict.fromkeys(COLUMNS)  # every column, in column order
        full.update(row)
        checked_derive(full)
        return self._store(full)

    def add_record(self, record: CallRecord) -> dict[str, Any]:
        """Add a :class:`~switchlab.measure.record.CallRecord`'s row; returns it."""
        if type(self).add_row is not Run.add_row:  # a subclass's add_row sees every row
            return self.add_row(record.row())
        # CallRecord.row() is a new dict of every column in column order, derived;
        # an app's own columns were checked by CallRecord.set_column: only the run
        # id is left
        return self._store(record.row())

    def _store(self, full: dict[str, Any]) -> dict[str, Any]:
        """``full`` (a new dict of every column, in column order, derived) with the
        run id filled in, kept and journalled; the row as stored."""
        if full["run_id"] is None:
            full["run_id"] = self.run_id
        self.call_table.append(full, self._calls_journal)
        return full

    def _journal(self, entry: dict[str, Any], into: list[dict[str, Any]],
                 **extra: Any) -> dict[str, Any]:
        with self.call_table.lock:
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

    def close(self) -> None:
        """Stop recording: close the journals (rows stay in memory)."""
        with self.call_table.lock:
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

    # -- persistence (the files: switchlab.measure.rundir) ----------------------------
    def save(self, directory: str | os.PathLike[str] | None = None) -> Path:
        """Write ``calls.parquet``, ``timeseries.parquet`` and ``run.json`` into
        ``directory`` (default: the run's own directory). Returns the path."""
        if directory is None and self.directory is None:
            raise RunDirectoryError("this run has no directory: call run.save(path)")
        path = self.directory if directory is None else Path(directory)
        assert path is not None
        make_directory(path)
        with self.call_table.lock:
            df = self.df
            jbytes = journal_size(path) if path == self.directory else None
        write_parquet(path, df, self.ts)
        write_meta(path, self.metadata(), saved=True, journal_bytes=jbytes)
        return path

    def __repr__(self) -> str:
        where = f" dir={self.directory}" if self.directory else ""
        tick = self.call_table.last_ticks[0].label
        return f"<Run {self.run_id} calls={len(self)} tick={tick}{where}>"


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
    run.call_table.base = files.df
    return run
