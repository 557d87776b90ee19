"""KPI tables over a call DataFrame (used through the ``df.calls`` accessor).

Definitions (``offered`` = rows, one per call attempt):

* ``answered``: the caller leg got CHANNEL_ANSWER; ``failed``: the row's
  ``failed`` flag (not answered, or the originate job said ``-ERR``).
* ``asr`` (answer-seizure ratio) = answered / offered.
* ``ner`` (network effectiveness ratio, ITU-T E.425) = (answered + attempts
  that failed for a user-side reason: :data:`NER_USER_CAUSES`) / offered; the
  network did its job when the called user was busy, did not answer or refused.
* ``acd`` (average call duration) = mean ``duration`` of answered calls, s.
* ``pdd`` = mean ``post_dial_delay``, s.
* for each latency of :func:`~switchlab.measure.schema.kpi_latencies`:
  ``<col>.mean``, ``.p50``, ``.p90``, ``.p95``, ``.p99``, ``.max`` in seconds
  (percentiles by linear interpolation, as ``Series.quantile``; NaN values
  ignored), ``<col>.count``.
* for each ``bool``/``flag`` column declared with ``ratio`` (an app's, e.g.
  ``dtmf_ok``): ``<col>.ratio``, the share of True among the calls where it
  is known.
* ``achieved_cps`` = (offered - 1) / (last launch - first launch).
* ``tick_ms``: the FreeSWITCH clock tick, the resolution of every
  FreeSWITCH-clock latency in the row (NaN when unknown).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MeasurementError
from .schema import kpi_latencies, ratio_columns
from .tick import TickEstimate, tick_of_frame

#: Hangup causes that count as network success in ``ner``: the call reached
#: the user, who was busy, did not answer, or refused it.
NER_USER_CAUSES: frozenset[str] = frozenset({
    "USER_BUSY",          # Q.850 17 (SIP 486/600)
    "NO_USER_RESPONSE",   # Q.850 18 (SIP 408 from the user agent)
    "NO_ANSWER",          # Q.850 19 (ring no answer, originate_timeout)
    "CALL_REJECTED",      # Q.850 21 (SIP 603)
})

#: The built-in latency columns summarised by :func:`kpi_table` (declared with
#: ``kpi_rank`` in :mod:`~switchlab.measure.columns`; :func:`kpi_latencies`
#: includes an app's registered ones).
KPI_LATENCIES: tuple[str, ...] = kpi_latencies()
PERCENTILES: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)
STATS: tuple[str, ...] = ("count", "mean", "p50", "p90", "p95", "p99", "max")

#: Columns every KPI needs.
REQUIRED = ("failed", "hangup_cause", "caller_answer", "launch")


def pct_name(q: float) -> str:
    """``0.95`` → ``"p95"``, ``0.999`` → ``"p99.9"``."""
    return "p" + f"{q * 100:.10g}"


def require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MeasurementError(
            f"{what} needs the column(s) {missing}; use a per-call DataFrame such as run.df "
            "or switchlab.measure.frame_from_rows(rows)")


def normalise_by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def frame_tick(df: pd.DataFrame) -> tuple[TickEstimate, dict[str, TickEstimate]]:
    """The tick stored in ``df.attrs["fs_tick"]`` (by :class:`~switchlab.measure.Run`),
    else detected from the data and cached there."""
    stored = df.attrs.get("fs_tick")
    if isinstance(stored, dict) and "overall" in stored:
        return (TickEstimate.from_dict(stored["overall"]),
                {h: TickEstimate.from_dict(t) for h, t in stored.get("by_host", {}).items()})
    overall, by_host = tick_of_frame(df)
    df.attrs["fs_tick"] = {"overall": overall.to_dict(),
                           "by_host": {h: t.to_dict() for h, t in by_host.items()}}
    return overall, by_host


def _tick_ms(t: TickEstimate) -> float:
    return np.nan if t.seconds is None else t.seconds * 1e3


def _group_keys(df: pd.DataFrame, keys: list[str]) -> list[Any]:
    if keys:
        return [df[k] for k in keys]
    return [np.zeros(len(df), dtype=np.int8)]


def kpi_table(df: pd.DataFrame, by: str | Sequence[str] | None = None, *,
              latencies: Sequence[str] | None = None,
              percentiles: Sequence[float] = PERCENTILES,
              ner_causes: Iterable[str] = NER_USER_CAUSES) -> pd.DataFrame:
    """One row of KPIs per group (a single row labelled ``"all"`` without ``by``).
    ``latencies`` default: :func:`~switchlab.measure.schema.kpi_latencies`."""
    require(df, REQUIRED, "kpis()")
    keys = normalise_by(by)
    require(df, keys, "kpis(by=...)")
    lats = [c for c in (kpi_latencies() if latencies is None else latencies)
            if c in df.columns]
    ratios = [c for c in ratio_columns() if c in df.columns]
    overall_tick, host_ticks = frame_tick(df)

    answered = df["caller_answer"].notna().to_numpy()
    failed = df["failed"].to_numpy(dtype=bool)
    user_fail = df["hangup_cause"].isin(list(ner_causes)).to_numpy() & ~answered
    launch_ns = df["launch"].to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
    launch_ns[df["launch"].isna().to_numpy()] = np.nan
    work = pd.DataFrame({
        "offered": np.ones(len(df), dtype=np.int64),
        "answered": answered.astype(np.int64),
        "failed": failed.astype(np.int64),
        "_ner": (answered | user_fail).astype(np.int64),
        "_launch": launch_ns,
    }, index=df.index)
    for c in lats + ratios:
        work[c] = df[c].to_numpy(dtype=np.float64, na_value=np.nan)
    if "duration" in df.columns:
        work["_acd"] = np.where(answered, df["duration"].to_numpy(dtype=np.float64,
                                                                   na_value=np.nan), np.nan)
    else:
        work["_acd"] = np.nan
    g = work.groupby(_group_keys(df, keys), observed=True, sort=True, dropna=False)
    sums = g[["offered", "answered", "failed", "_ner"]].sum()
    out = pd.DataFrame(index=sums.index)
    out["offered"] = sums["offered"]
    out["answered"] = sums["answered"]
    out["failed"] = sums["failed"]
    out["asr"] = sums["answered"] / sums["offered"]
    out["ner"] = sums["_ner"] / sums["offered"]
    out["failure_ratio"] = sums["failed"] / sums["offered"]
    out["acd"] = g["_acd"].mean()
    span = (g["_launch"].max() - g["_launch"].min()) / 1e9
    out["achieved_cps"] = ((sums["offered"] - 1) / span).where(span > 0)
    if "post_dial_delay" in work.columns:
        out["pdd"] = g["post_dial_delay"].mean()
    if lats:
        counts = g[lats].count()
        means = g[lats].mean()
        maxes = g[lats].max()
        qs = g[lats].quantile(np.asarray(percentiles, dtype=np.float64)).unstack(-1) if len(df) else None
        for c in lats:
            out[f"{c}.count"] = counts[c].astype(np.int64)
            out[f"{c}.mean"] = means[c]
            for q in percentiles:
                out[f"{c}.{pct_name(q)}"] = qs[(c, q)] if qs is not None else np.nan
            out[f"{c}.max"] = maxes[c]
    if ratios:
        shares = g[ratios].mean()
        for c in ratios:
            out[f"{c}.ratio"] = shares[c]
    # the tick of each group: its host's when grouped by host, else the run's
    if "host" in keys and host_ticks:
        hosts = out.index.get_level_values("host") if out.index.nlevels > 1 else out.index
        out["tick_ms"] = [_tick_ms(host_ticks.get(str(h), overall_tick)) for h in hosts]
    else:
        out["tick_ms"] = _tick_ms(overall_tick)
    if not keys:
        out.index = pd.Index(["all"], name="calls") if len(out) else pd.Index([], name="calls")
        if not len(out):
            out = _empty_row(out)
    else:
        out.index.names = keys
    out.attrs["fs_tick"] = overall_tick.to_dict()
    out.attrs["tick_label"] = overall_tick.label
    return out


def _empty_row(template: pd.DataFrame) -> pd.DataFrame:
    """The KPIs of no calls at all: zero counts and NaN ratios."""
    row = {c: (0 if c in ("offered", "answered", "failed") or c.endswith(".count") else np.nan)
           for c in template.columns}
    return pd.DataFrame([row], index=pd.Index(["all"], name="calls"), columns=template.columns)


def failure_table(df: pd.DataFrame, by: str | Sequence[str] = "hangup_cause") -> pd.DataFrame:
    """Failed attempts counted by ``by`` (default the hangup cause; e.g.
    ``["hangup_cause", "sip_code"]`` or ``"sip_code"``): columns ``count``,
    ``share`` (of all failures) and ``ratio`` (of all offered attempts),
    largest first. Missing values (no SIP code) are a group of their own."""
    keys = normalise_by(by)
    require(df, ["failed", *keys], "failures()")
    failed = df[df["failed"].to_numpy(dtype=bool)]
    counts = failed.groupby([failed[k] for k in keys], observed=True, dropna=False).size()
    counts = counts.sort_values(ascending=False, kind="stable")
    out = pd.DataFrame({"count": counts.astype(np.int64)})
    total = int(counts.sum())
    out["share"] = out["count"] / total if total else np.nan
    out["ratio"] = out["count"] / len(df) if len(df) else np.nan
    return out
