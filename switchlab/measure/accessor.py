"""The ``df.calls`` accessor: the one API for KPIs over a per-call DataFrame.

Registered when :mod:`switchlab.measure` is imported.

>>> import switchlab.measure as m
>>> df = m.frame_from_rows([
...     {"call_id": "a", "launch": 0, "caller_create": 0, "caller_answer": 20_000,
...      "caller_hangup": 1_020_000, "hangup_cause": "NORMAL_CLEARING", "failed": False},
...     {"call_id": "b", "launch": 500_000, "hangup_cause": "USER_BUSY", "failed": True}])
>>> k = df.calls.kpis()
>>> float(k.loc["all", "asr"]), float(k.loc["all", "ner"]), float(k.loc["all", "acd"])
(0.5, 1.0, 1.0)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .check import CheckResult, evaluate
from .kpis import (
    NER_USER_CAUSES,
    PERCENTILES,
    failure_table,
    frame_tick,
    kpi_table,
)
from .tick import TickEstimate
from .timeseries import TS_PERCENTILES, timeseries_table


@pd.api.extensions.register_dataframe_accessor("calls")
class CallsAccessor:
    """KPIs, failures, time series and threshold checks of a per-call DataFrame."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def kpis(self, by: str | Sequence[str] | None = None, *,
             latencies: Sequence[str] | None = None,
             percentiles: Sequence[float] = PERCENTILES,
             ner_causes: Iterable[str] = NER_USER_CAUSES) -> pd.DataFrame:
        """ASR, NER, ACD, PDD, latency percentiles and ``tick_ms``, one row
        per group of ``by`` (e.g. ``"app"``, ``"host"``, ``["host", "app"]``),
        or one row ``"all"``. See :mod:`switchlab.measure.kpis`."""
        return kpi_table(self._df, by, latencies=latencies, percentiles=percentiles,
                         ner_causes=ner_causes)

    def timeseries(self, freq: str = "1s", by: str | Sequence[str] | None = None, *,
                   latencies: Sequence[str] | None = None,
                   percentiles: Sequence[float] = TS_PERCENTILES) -> pd.DataFrame:
        """Offered, answered, failed, asr, achieved cps, target rate, active
        calls, erlangs and latency percentiles per fixed window of ``freq``.
        See :mod:`switchlab.measure.timeseries`."""
        return timeseries_table(self._df, freq, by, latencies=latencies,
                                percentiles=percentiles)

    def failures(self, by: str | Sequence[str] = "hangup_cause") -> pd.DataFrame:
        """Failed attempts by cause (or ``"sip_code"``, ``["hangup_cause",
        "sip_code"]``, ``["app", "hangup_cause"]``...)."""
        return failure_table(self._df, by)

    @property
    def tick(self) -> TickEstimate:
        """The FreeSWITCH clock tick (the resolution of FreeSWITCH-clock latencies)."""
        return frame_tick(self._df)[0]

    @property
    def tick_by_host(self) -> dict[str, TickEstimate]:
        return frame_tick(self._df)[1]

    def check(self, thresholds: Mapping[str, Any] | None = None, **limits: float
              ) -> CheckResult:
        """Evaluate thresholds on the KPIs of all calls, e.g.
        ``df.calls.check(asr_min=0.99, p95_setup_max=0.2)`` or
        ``df.calls.check({"asr": ">= 0.99", "setup_latency.p95": "< 200ms"})``."""
        row = self.kpis().iloc[0]
        return evaluate(row.to_dict(), thresholds, tick=self.tick.label, **limits)
