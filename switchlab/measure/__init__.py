"""Per-call measurement: rows, the typed DataFrame, KPIs, runs on disk.

Takes plain data (events, row dicts); imports nothing above the wire layer.

* :class:`CallRecord` — one call attempt's events in, one row dict out;
* :class:`Run` — parameters, retunes, event log, rows (memory + append-only
  journal), ``run.df``, ``run.kpis()``, ``run.check(...)``, ``run.save()``;
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
from .record import CallRecord, derive, parse_job_result
from .run import Run, load, read_csv
from .schema import COLUMNS, SCHEMA_VERSION
from .store import RowStore
from .tick import TickEstimate, detect_tick

__all__ = [
    "COLUMNS",
    "NER_USER_CAUSES",
    "SCHEMA_VERSION",
    "CallRecord",
    "CheckResult",
    "JournalWarning",
    "RowStore",
    "Run",
    "Threshold",
    "TickEstimate",
    "coerce_frame",
    "derive",
    "detect_tick",
    "empty_frame",
    "frame_from_rows",
    "frame_from_store",
    "load",
    "parse_job_result",
    "read_csv",
    "stats",
]
