"""Per-call measurement: rows, the typed DataFrame, KPIs, runs on disk.

Takes plain data (events, row dicts); imports nothing above the wire layer.

* :class:`ColumnSpec` — the per-call columns, each declared once
  (:mod:`~switchlab.measure.columns`); :func:`register_columns` adds an app's;
* :class:`CallRecord` — one call attempt's events in, one row dict out;
* :class:`Run` — parameters, retunes, event log, rows (memory + append-only
  journal), ``run.df``, ``run.kpis()``, ``run.check(...)``, ``run.save()``,
  ``run.report()`` (drawn by the report backend, :mod:`~switchlab.measure.backend`);
* :func:`load` — open a run directory;
* the ``df.calls`` accessor — ``df.calls.kpis(by=...)``,
  ``df.calls.timeseries("1s")``, ``df.calls.failures()``, ``df.calls.tick``;
* :func:`detect_tick` — FreeSWITCH's clock tick from the stamps;
* :mod:`~switchlab.measure.stats` — bootstrap CIs, Erlang B.
"""
from . import accessor as _accessor  # noqa: F401  (registers df.calls)
from . import stats
from .check import CheckResult, Threshold
from .frame import coerce_frame, empty_frame, frame_from_rows, frame_from_store
from .journal import JournalWarning
from .kpis import NER_USER_CAUSES
from .backend import ReportBackend
from .columns import ColumnSpec, Diff, Formula
from .record import CallRecord, derive, parse_job_result
from .run import Run, load, read_csv
from .schema import (
    COLUMNS,
    SCHEMA_VERSION,
    app_columns,
    column_specs,
    live_columns,
    register_app_columns,
    register_columns,
    unregister_columns,
)
from .store import RowStore
from .tick import TickEstimate, detect_tick

__all__ = [
    "COLUMNS",
    "NER_USER_CAUSES",
    "SCHEMA_VERSION",
    "CallRecord",
    "CheckResult",
    "ColumnSpec",
    "Diff",
    "Formula",
    "JournalWarning",
    "ReportBackend",
    "RowStore",
    "Run",
    "Threshold",
    "TickEstimate",
    "coerce_frame",
    "column_specs",
    "derive",
    "detect_tick",
    "empty_frame",
    "frame_from_rows",
    "frame_from_store",
    "live_columns",
    "load",
    "parse_job_result",
    "read_csv",
    "app_columns",
    "register_app_columns",
    "register_columns",
    "stats",
    "unregister_columns",
]
