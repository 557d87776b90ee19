"""`RunView`: what can be read of a run: rows, KPIs, time series, checks, report.

:class:`~switchlab.measure.Run` records and saves; everything it offers to
read is here, computed from its :class:`~switchlab.measure.calltable.CallTable`
(``run.call_table``), its parameters, retunes and event log.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from .backend import get_report_backend
from .calltable import CallTable, tick_attrs
from .check import CheckResult, evaluate
from .outages import not_offered_count, outage_records, outages_frame
from .rundir import RUN_FORMAT, now_iso
from .schema import COLUMNS, SCHEMA_VERSION, app_column_records, kpi_latencies
from .tick import TickEstimate


class RunView:
    """The reading side of a run (subclassed by :class:`~switchlab.measure.Run`)."""

    run_id: str
    params: dict[str, Any]
    retunes: list[dict[str, Any]]
    events: list[dict[str, Any]]
    created: float
    closed_at: float | None
    call_table: CallTable

    @property
    def current_params(self) -> dict[str, Any]:
        """The start parameters with every retune applied."""
        out = dict(self.params)
        for r in self.retunes:
            out.update(r["changes"])
        return out

    def __len__(self) -> int:
        return len(self.call_table)

    @property
    def store_nbytes(self) -> int:
        """Bytes of the in-memory column buffers of the live rows."""
        return self.call_table.nbytes

    @property
    def df(self) -> pd.DataFrame:
        """The typed per-call DataFrame, current (rebuilt when rows were added).
        ``df.attrs`` carries ``run_id`` and ``fs_tick``."""
        return self.call_table.df

    def rows_since(self, start: int) -> pd.DataFrame:
        """The typed DataFrame of rows ``start:`` only (cheap at any run size:
        a live display keeps its own totals and asks for the new rows).
        ``len(run)`` is the next start. Index: row numbers from ``start``."""
        return self.call_table.rows_since(start)

    @property
    def tick(self) -> TickEstimate:
        """FreeSWITCH's clock tick detected from the rows (see :mod:`~switchlab.measure.tick`)."""
        return self.call_table.ticks[0]

    @property
    def tick_by_host(self) -> dict[str, TickEstimate]:
        return self.call_table.ticks[1]

    def kpis(self, by: str | Sequence[str] | None = None, **kw: Any) -> pd.DataFrame:
        """``run.df.calls.kpis(by)``."""
        return self.df.calls.kpis(by, **kw)

    def timeseries(self, freq: str = "1s", by: str | Sequence[str] | None = None,
                   **kw: Any) -> pd.DataFrame:
        """``run.df.calls.timeseries(freq, by)``, cached until rows are added."""
        return self.call_table.timeseries(freq, by, **kw)

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

    @property
    def outages(self) -> pd.DataFrame:
        """Host outages of the run (see :mod:`~switchlab.measure.outages`):
        ``host``, ``start``, ``end``, ``duration``, ``reason``, ``restarted``, ``given_up``."""
        return outages_frame(self.events)

    @property
    def not_offered(self) -> int:
        """Launches that were due while no host was up (not offered, not in the rows)."""
        return not_offered_count(self.events)

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

    def metadata(self) -> dict[str, Any]:
        """Everything but the rows, as saved in ``run.json``."""
        overall, by_host = self.call_table.last_ticks
        return {
            "format": RUN_FORMAT, "schema_version": SCHEMA_VERSION,
            "switchlab_version": __version__, "run_id": self.run_id,
            "created": now_iso(self.created),
            "closed": None if self.closed_at is None else now_iso(self.closed_at),
            "params": self.params, "retunes": self.retunes, "events": self.events,
            "outages": outage_records(self.events), "not_offered": self.not_offered,
            "rows": len(self), "fs_tick": {**tick_attrs(overall, by_host), "label": overall.label},
            "columns": dict(COLUMNS), "kpi_latencies": list(kpi_latencies()),
            "app_columns": app_column_records(),
        }

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-call rows as CSV (ISO 8601 UTC times); returns the path.
        Read it back with :func:`switchlab.measure.read_csv`."""
        p = Path(path)
        self.df.to_csv(p, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        return p


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
