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

A run directory holds ``run.json`` (metadata), ``calls.jsonl`` (the
append-only per-call journal, one line per finished call, written as the call
finishes), ``log.jsonl`` (event log and retunes, append-only), and after
:meth:`Run.save` ``calls.parquet`` and ``timeseries.parquet``. A run whose
process was killed loads from its journals.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import MeasurementError, RunDirectoryError
from .check import CheckResult, evaluate
from .frame import (
    coerce_frame,
    concat_frames,
    empty_frame,
    frame_from_arrow,
    frame_from_raw,
    journal_arrow_types,
)
from .journal import (
    CallsJournal,
    Journal,
    JournalWarning,
    read_calls_table,
    read_journal,
)
from .kpis import KPI_LATENCIES
from .record import CallRecord
from .schema import COLUMN_NAMES, COLUMNS, SCHEMA_VERSION
from .store import RowStore, checked_derive
from .tick import UNKNOWN, TickEstimate, tick_of_frame

META_FILE = "run.json"
CALLS_JOURNAL = "calls.jsonl"
LOG_JOURNAL = "log.jsonl"
CALLS_PARQUET = "calls.parquet"
TIMESERIES_PARQUET = "timeseries.parquet"
RUN_FORMAT = "switchlab-run"


def _now_iso(t: float | None = None) -> str:
    return _dt.datetime.fromtimestamp(time.time() if t is None else t,
                                      _dt.UTC).isoformat(timespec="microseconds")


def _version() -> str | None:
    import switchlab
    return getattr(switchlab, "__version__", None)


def new_run_id() -> str:
    """``20260512T101500Z-3f2a9c``: UTC start time and a random suffix."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _jsonable(value: Any) -> Any:
    """Parameters as JSON: numbers/str/bool/None/lists/dicts kept, numpy scalars
    unwrapped, anything else (callables, load shapes...) as its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False, default=str) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


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
        self.params: dict[str, Any] = _jsonable(dict(params or {}))
        self.created = time.time()
        self.closed_at: float | None = None
        self.retunes: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.directory: Path | None = None
        self._store = RowStore()
        self._base: pd.DataFrame | None = None   # rows loaded from disk
        self._lock = threading.RLock()
        self._df: pd.DataFrame | None = None
        self._df_rows = -1
        self._tick: tuple[TickEstimate, dict[str, TickEstimate]] = (UNKNOWN, {})
        self._tick_rows = 0
        self._ts_cache: dict[tuple[Any, ...], tuple[int, pd.DataFrame]] = {}
        self._calls_journal: CallsJournal | None = None
        self._log_journal: Journal | None = None
        if directory is not None:
            self._open_directory(Path(directory), fsync)

    # -- live recording -----------------------------------------------------
    def _open_directory(self, path: Path, fsync: bool) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirectoryError(f"cannot create run directory {path}: {exc.strerror}") \
                from None
        taken = [n for n in (META_FILE, CALLS_JOURNAL, CALLS_PARQUET) if (path / n).exists()]
        if taken:
            raise RunDirectoryError(
                f"{path} already holds a run ({', '.join(taken)}); choose a new directory "
                "or delete the old run first")
        self.directory = path
        self._write_meta(path, saved=False)
        self._calls_journal = CallsJournal(path / CALLS_JOURNAL, COLUMN_NAMES,
                                           schema_version=SCHEMA_VERSION, fsync=fsync)
        self._log_journal = Journal(path / LOG_JOURNAL, fsync=fsync)

    def add_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Add one finished call attempt (a row dict, see
        :mod:`switchlab.measure.schema`): kept in memory and, with a run
        directory, appended to ``calls.jsonl`` before this returns. Returns
        the row as stored (``run_id`` and derived latencies filled in)."""
        full = {c: None for c in COLUMN_NAMES}
        unknown = [k for k in row if k not in COLUMNS]
        if unknown:
            raise MeasurementError(
                f"unknown row column(s) {unknown}; the columns are {list(COLUMN_NAMES)}")
        full.update(row)
        if full["run_id"] is None:
            full["run_id"] = self.run_id
        checked_derive(full)
        with self._lock:
            self._store.append(full, derived=True)
            if self._calls_journal is not None:
                self._calls_journal.append_row(full)
        return full

    def add_record(self, record: CallRecord) -> dict[str, Any]:
        """Add a :class:`~switchlab.measure.record.CallRecord`'s row; returns it."""
        return self.add_row(record.row())

    def log(self, kind: str, message: str = "", **data: Any) -> dict[str, Any]:
        """Add an event-log entry, e.g. ``run.log("state", "ORIGINATING")`` or
        ``run.log("host_error", "connection refused", host="10.0.0.5:8021")``."""
        entry = {"time": time.time(), "monotonic": time.monotonic(), "kind": str(kind),
                 "message": str(message), "data": _jsonable(data)}
        with self._lock:
            self.events.append(entry)
            if self._log_journal is not None:
                self._log_journal.append(entry)
        return entry

    def retune(self, **changes: Any) -> dict[str, Any]:
        """Record a parameter change made while running, with its time, e.g.
        ``run.retune(rate=80, limit=400)``."""
        entry = {"time": time.time(), "monotonic": time.monotonic(),
                 "changes": _jsonable(changes)}
        with self._lock:
            self.retunes.append(entry)
            if self._log_journal is not None:
                self._log_journal.append({**entry, "kind": "retune"})
        return entry

    @property
    def current_params(self) -> dict[str, Any]:
        """The start parameters with every retune applied."""
        out = dict(self.params)
        for r in self.retunes:
            out.update(r["changes"])
        return out

    def close(self) -> None:
        """Stop recording: close the journals (rows stay in memory)."""
        with self._lock:
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

    # -- data ---------------------------------------------------------------
    def __len__(self) -> int:
        return (0 if self._base is None else len(self._base)) + len(self._store)

    @property
    def store_nbytes(self) -> int:
        """Bytes of the in-memory column buffers of the live rows."""
        return self._store.nbytes()

    @property
    def df(self) -> pd.DataFrame:
        """The typed per-call DataFrame, current (rebuilt when rows were added).
        ``df.attrs`` carries ``run_id`` and ``fs_tick``."""
        with self._lock:
            n = len(self)
            if self._df is not None and self._df_rows == n:
                return self._df
            raw = self._store.raw_columns()     # a quick copy; the add_row path waits only for it
        live = frame_from_raw(raw)
        if self._base is None:
            df = live
        else:
            df = concat_frames([self._base, live]) if len(live) else self._base
        overall, by_host = self._detect_tick(df, n)
        df.attrs["run_id"] = self.run_id
        df.attrs["fs_tick"] = {"overall": overall.to_dict(),
                               "by_host": {h: t.to_dict() for h, t in by_host.items()}}
        self._df, self._df_rows = df, n
        return df

    def rows_since(self, start: int) -> pd.DataFrame:
        """The typed DataFrame of rows ``start:`` only (cheap at any run size:
        a live display keeps its own totals and asks for the new rows).
        ``len(run)`` is the next start. Index: row numbers from ``start``."""
        base = 0 if self._base is None else len(self._base)
        with self._lock:
            raw = self._store.raw_columns(max(0, start - base))
        live = frame_from_raw(raw)
        if self._base is not None and start < base:
            live = concat_frames([self._base.iloc[start:], live])
        live.index = pd.RangeIndex(start, start + len(live))
        live.attrs["run_id"] = self.run_id
        return live

    def _detect_tick(self, df: pd.DataFrame, n: int
                     ) -> tuple[TickEstimate, dict[str, TickEstimate]]:
        # detection costs ~0.1 s at 1 M rows: redo it while the run is small
        # or has grown by 10 % since
        if n < 2000 or n >= 1.1 * self._tick_rows or self._tick[0].seconds is None:
            self._tick = tick_of_frame(df)
            self._tick_rows = n
        return self._tick

    @property
    def tick(self) -> TickEstimate:
        """FreeSWITCH's clock tick detected from the rows (see :mod:`~switchlab.measure.tick`)."""
        _ = self.df
        return self._tick[0]

    @property
    def tick_by_host(self) -> dict[str, TickEstimate]:
        _ = self.df
        return self._tick[1]

    def kpis(self, by: str | Sequence[str] | None = None, **kw: Any) -> pd.DataFrame:
        """``run.df.calls.kpis(by)``."""
        return self.df.calls.kpis(by, **kw)

    def timeseries(self, freq: str = "1s", by: str | Sequence[str] | None = None,
                   **kw: Any) -> pd.DataFrame:
        """``run.df.calls.timeseries(freq, by)``, cached until rows are added."""
        key = (freq, by if by is None or isinstance(by, str) else tuple(by),
               tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items())))
        n = len(self)
        hit = self._ts_cache.get(key)
        if hit is not None and hit[0] == n:
            return hit[1]
        ts = self.df.calls.timeseries(freq, by, **kw)
        self._ts_cache[key] = (n, ts)
        return ts

    @property
    def ts(self) -> pd.DataFrame:
        """The 1-second time series."""
        return self.timeseries("1s")

    def failures(self, by: str | Sequence[str] = "hangup_cause") -> pd.DataFrame:
        return self.df.calls.failures(by)

    @property
    def event_log(self) -> pd.DataFrame:
        """The event log (and retunes, kind ``"retune"``) as a DataFrame."""
        entries = [dict(e) for e in self.events]
        entries += [{"time": r["time"], "monotonic": r["monotonic"], "kind": "retune",
                     "message": ", ".join(f"{k}={v}" for k, v in r["changes"].items()),
                     "data": r["changes"]} for r in self.retunes]
        df = pd.DataFrame(entries, columns=["time", "monotonic", "kind", "message", "data"])
        df["time"] = pd.to_datetime(df["time"].astype("float64"), unit="s", utc=True)
        return df.sort_values("time", kind="stable").reset_index(drop=True)

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

        Like ``DataFrame.plot`` in pandas, this convenience loads the plotting
        layer (:mod:`switchlab.plots`) only when called."""
        from .. import plots  # the one upward import: lazy, for convenience

        if html is not None:
            return plots.report_html(self, html)
        return plots.report(self)

    # -- persistence ----------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """Everything but the rows, as saved in ``run.json``."""
        overall, by_host = self._tick
        return {
            "format": RUN_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "switchlab_version": _version(),
            "run_id": self.run_id,
            "created": _now_iso(self.created),
            "closed": None if self.closed_at is None else _now_iso(self.closed_at),
            "params": self.params,
            "retunes": self.retunes,
            "events": self.events,
            "rows": len(self),
            "fs_tick": {"overall": overall.to_dict(),
                        "by_host": {h: t.to_dict() for h, t in by_host.items()},
                        "label": overall.label},
            "columns": {c: k for c, k in COLUMNS.items()},
            "kpi_latencies": list(KPI_LATENCIES),
        }

    def _write_meta(self, path: Path, saved: bool, journal_bytes: int | None = None) -> None:
        meta = self.metadata()
        meta["saved"] = _now_iso() if saved else None
        meta["journal_bytes"] = journal_bytes
        _write_json_atomic(path / META_FILE, meta)

    def save(self, directory: str | os.PathLike[str] | None = None) -> Path:
        """Write ``calls.parquet``, ``timeseries.parquet`` and ``run.json`` into
        ``directory`` (default: the run's own directory). Returns the path."""
        if directory is None:
            if self.directory is None:
                raise RunDirectoryError("this run has no directory: call run.save(path)")
            path = self.directory
        else:
            path = Path(directory)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirectoryError(f"cannot create {path}: {exc.strerror}") from None
        with self._lock:
            df = self.df
            journal = path / CALLS_JOURNAL
            jbytes = journal.stat().st_size if (
                journal.exists() and path == self.directory) else None
        ts = self.ts
        for name, frame, index in ((CALLS_PARQUET, df, False), (TIMESERIES_PARQUET, ts, True)):
            tmp = path / (name + ".tmp")
            frame.to_parquet(tmp, engine="pyarrow", index=index)
            os.replace(tmp, path / name)
        self._write_meta(path, saved=True, journal_bytes=jbytes)
        return path

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-call rows as CSV (ISO 8601 UTC times); returns the path.
        Read it back with :func:`switchlab.measure.read_csv`."""
        p = Path(path)
        self.df.to_csv(p, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        return p

    def __repr__(self) -> str:
        where = f" dir={self.directory}" if self.directory else ""
        return f"<Run {self.run_id} calls={len(self)} tick={self._tick[0].label}{where}>"


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A per-call CSV written by :meth:`Run.to_csv`, with the typed dtypes back."""
    return coerce_frame(pd.read_csv(path, low_memory=False))


def _frame_from_journal(path: Path) -> pd.DataFrame:
    header, table = read_calls_table(path, journal_arrow_types())
    unknown = [c for c in header["columns"] if c not in COLUMNS]
    if unknown:
        warnings.warn(f"{path}: columns {unknown} are not in this switchlab's schema; "
                      "they were dropped", JournalWarning, stacklevel=3)
    return frame_from_arrow(table)


def load(directory: str | os.PathLike[str]) -> Run:
    """Open a run directory written by :class:`Run` (saved, or recovered from
    its journals when the recording process died)."""
    path = Path(directory)
    if not path.is_dir():
        raise RunDirectoryError(f"{path} is not a directory; pass the run directory "
                                "(the one holding run.json and calls.jsonl)")
    meta: dict[str, Any] = {}
    meta_path = path / META_FILE
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise RunDirectoryError(f"{meta_path} is not valid JSON ({exc})") from None
        if meta.get("format") != RUN_FORMAT:
            raise RunDirectoryError(f"{meta_path} is not switchlab run metadata")
        if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
            raise RunDirectoryError(
                f"{path} was written with row schema {meta['schema_version']}, newer than this "
                f"switchlab's ({SCHEMA_VERSION}); upgrade switchlab to open it")
    parquet, journal = path / CALLS_PARQUET, path / CALLS_JOURNAL
    use_parquet = parquet.exists() and (
        not journal.exists() or meta.get("journal_bytes") in (None, journal.stat().st_size))
    if use_parquet:
        df = coerce_frame(pd.read_parquet(parquet, engine="pyarrow"))
    elif journal.exists():
        df = _frame_from_journal(journal)
    elif meta:
        df = empty_frame()
    else:
        raise RunDirectoryError(f"{path} holds no run: no {META_FILE}, {CALLS_PARQUET} "
                                f"or {CALLS_JOURNAL}")
    run_id = meta.get("run_id")
    if not run_id:
        ids = df["run_id"].dropna().unique()
        run_id = str(ids[0]) if len(ids) else path.name
    run = Run(meta.get("params"), run_id=run_id)
    run.directory = path
    created = meta.get("created")
    if created:
        run.created = _dt.datetime.fromisoformat(created).timestamp()
    closed = meta.get("closed")
    if closed:
        run.closed_at = _dt.datetime.fromisoformat(closed).timestamp()
    run.retunes = list(meta.get("retunes") or [])
    run.events = list(meta.get("events") or [])
    log_path = path / LOG_JOURNAL
    if log_path.exists():  # the journal is complete even when run.json is not
        retunes, events = [], []
        for entry in read_journal(log_path):
            if not isinstance(entry, dict):
                continue
            if entry.get("kind") == "retune":
                retunes.append({k: v for k, v in entry.items() if k != "kind"})
            else:
                events.append(entry)
        run.retunes, run.events = retunes, events
    run._base = df
    return run
