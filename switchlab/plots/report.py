"""A run on one page: KPIs (with the detected FreeSWITCH tick), load,
latency and failures.

* :func:`kpi_summary` — the headline KPIs as a small DataFrame of text;
* :func:`kpi_panel` — the same drawn as a table on an Axes (the KPI
  *DataFrame* is ``df.calls.kpis()``, :func:`switchlab.measure.kpis.kpi_table`);
* :func:`report` — one matplotlib Figure summarising a run;
* :func:`report_html` — one self-contained HTML page (the figure embedded as
  a PNG, plus the KPI, failure and parameter tables).

KPIs come from ``df.calls.kpis()``, failures from ``df.calls.failures()``.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from switchlab.measure.kpis import pct_name

from ._base import (
    Data,
    frame_of,
    is_run,
    new_axes,
    new_figure,
    run_label,
    show_tick,
    tick_badge,
    tick_of,
    timeseries_of,
)
from .failures import _draw_failures, cause_sip_table, failures_by_window
from .latency import _draw_percentiles, latency_hist
from .load import _draw_occupancy, _draw_rate

#: Window widths :func:`auto_freq` chooses from.
FREQS = ("1s", "2s", "5s", "10s", "30s", "1min", "5min", "15min", "1h")


def auto_freq(data: Data, max_windows: int = 600) -> str:
    """The narrowest of :data:`FREQS` giving at most ``max_windows`` windows
    over the run's launches (``"1s"`` for runs under 10 minutes)."""
    df = frame_of(data)
    launch = df["launch"]
    if not launch.notna().any():
        return "1s"
    span = (launch.max() - launch.min()).total_seconds()
    for f in FREQS:
        if span / pd.Timedelta(f).total_seconds() <= max_windows:
            return f
    return FREQS[-1]


def _ms(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    ms = v * 1e3
    return f"{ms:,.0f}" if ms >= 1000 else f"{ms:.4g}"


def _with_unit(text: str, unit: str) -> str:
    return text if text == "n/a" else f"{text} {unit}"


def _pct(v: float) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{100 * v:.2f} %"


def _num(v: float, unit: str = "", digits: int = 4) -> str:
    if v is None or math.isnan(v):
        return "n/a"
    return (f"{v:,.0f}" if abs(v) >= 10 ** digits else f"{v:.{digits}g}") + \
        (f" {unit}" if unit else "")


def kpi_summary(data: Data) -> pd.DataFrame:
    """The headline KPIs of all calls as text, one row each (index ``KPI``,
    column ``value``), ending with the detected FreeSWITCH tick, from
    ``df.calls.kpis()``. ``plots.kpi_summary(run)``"""
    df = frame_of(data)
    k = df.calls.kpis().iloc[0]
    tick = tick_of(data)

    def lat(col: str, stats: tuple[str, ...] = ("p50", "p95", "p99", "max")) -> str:
        if f"{col}.count" not in k or not k[f"{col}.count"]:
            return "n/a"
        return " / ".join(_ms(k[f"{col}.{s}"]) for s in stats) + " ms"

    rows = [
        ("offered calls", f"{int(k['offered']):,}"),
        ("answered", f"{int(k['answered']):,}"),
        ("failed", f"{int(k['failed']):,}"),
        ("ASR", _pct(k["asr"])),
        ("NER", _pct(k["ner"])),
        ("achieved rate", _num(k["achieved_cps"], "calls/s")),
        ("ACD (mean duration)", _num(k["acd"], "s")),
        ("PDD (mean)", _with_unit(_ms(k.get("pdd", np.nan)), "ms")),
        ("setup latency p50/p95/p99/max", lat("setup_latency")),
        ("answer latency p50/p95/p99", lat("answer_latency", ("p50", "p95", "p99"))),
        ("originate latency p95 (local)", lat("originate_latency", ("p95",))),
        ("FS tick (latency resolution)", tick.label),
    ]
    return pd.DataFrame({"value": [v for _, v in rows]},
                        index=pd.Index([n for n, _ in rows], name="KPI"))


def kpi_panel(data: Data, *, ax: Axes | None = None) -> Axes:
    """:func:`kpi_summary` drawn as a two-column table on an Axes (the tick in
    the right-hand title too). ``plots.kpi_panel(run)``"""
    ax = new_axes(ax, figsize=(5.5, 4.0))
    summary = kpi_summary(data)
    ax.axis("off")
    cells = [[name, value] for name, value in summary["value"].items()]
    table = ax.table(cellText=cells, colLabels=["KPI", "value"], cellLoc="left",
                     colLoc="left", loc="upper center", colWidths=[0.55, 0.45])
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.35)
    for (row, _), cell in table.get_celld().items():
        cell.set_edgecolor("0.8")
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("0.92")
    ax.set_title("KPIs", loc="left")
    show_tick(ax, tick_of(data))
    return ax


def report(data: Data, *, freq: str | None = None, capacity: int | None = None,
           column: str = "setup_latency", fig: Figure | SubFigure | None = None
           ) -> Figure | SubFigure:
    """One Figure summarising a run (a Run or a per-call DataFrame): the KPI
    table, offered vs achieved rate, the ``column`` histogram (tick-aligned
    bins) and its percentiles over time, failures over time by cause, and
    occupancy (with the Erlang-B overlay when ``capacity`` is given).
    ``freq`` defaults to :func:`auto_freq`.

    ``plots.report(run).savefig("run.png")``; in a notebook the returned
    Figure shows when it is the cell's value.
    """
    df = frame_of(data)
    freq = freq or auto_freq(df)
    fig = new_figure(fig, (15.0, 13.0))
    grid = fig.add_gridspec(3, 2, width_ratios=[1.0, 1.25])
    ax_kpi = fig.add_subplot(grid[0, 0])
    ax_rate = fig.add_subplot(grid[0, 1])
    ax_hist = fig.add_subplot(grid[1, 0])
    ax_pct = fig.add_subplot(grid[1, 1], sharex=ax_rate)
    ax_fail = fig.add_subplot(grid[2, 0], sharex=ax_rate)
    ax_occ = fig.add_subplot(grid[2, 1], sharex=ax_rate)
    kpi_panel(data, ax=ax_kpi)
    latency_hist(data, column, ax=ax_hist)
    ts = timeseries_of(data, freq)
    tick = tick_of(data)
    percentiles = (0.5, 0.95, 0.99)
    if len(ts):
        _draw_rate(ax_rate, ts, data)
        have = all(f"{column}.{pct_name(q)}" in ts.columns for q in percentiles)
        _draw_percentiles(ax_pct, ts if have else timeseries_of(
            data, freq, latencies=[column], percentiles=list(percentiles)), column,
            percentiles, tick)
        _draw_occupancy(ax_occ, ts, capacity, None)
    _draw_failures(ax_fail, failures_by_window(data, freq, ts=ts), "hangup_cause", ts)
    offered = len(df)
    answered = int(df["caller_answer"].notna().sum())
    asr = f", ASR {answered / offered:.2%}" if offered else ""
    fig.suptitle(f"switchlab run {run_label(data)} — {offered:,} calls{asr} · "
                 f"{tick_badge(tick)}", fontsize="large", weight="bold")
    return fig


def _png(fig: Figure | SubFigure, dpi: int) -> str:
    buf = io.BytesIO()
    (fig if isinstance(fig, Figure) else fig.figure).savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
img{max-width:100%;height:auto;border:1px solid #eee}
.muted{color:#666;font-size:.9em}
table.kv td{text-align:left}
"""


def _table_html(df: pd.DataFrame, **kw: Any) -> str:
    return df.to_html(border=0, escape=True, na_rep="", **kw)


def _params_html(params: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in params.items())
    return f"<table class='kv'><tr><th>parameter</th><th>value</th></tr>{rows}</table>"


def report_html(data: Data, path: str | os.PathLike[str], *, freq: str | None = None,
                capacity: int | None = None, dpi: int = 90, max_events: int = 500) -> Path:
    """Write one self-contained HTML page summarising a run (no external
    files or links: the figure of :func:`report` is embedded as a base64
    PNG) and return its path. The page holds the KPIs, the figure, the
    cause × SIP-code table, failures by cause, KPIs per host and per app,
    and for a Run its parameters, retunes and event log (the first
    ``max_events`` entries). ``plots.report_html(run, "run.html")``
    """
    df = frame_of(data)
    out = Path(path)
    fig = report(data, freq=freq, capacity=capacity)
    img = _png(fig, dpi)
    label = run_label(data)
    parts = [f"<h1>switchlab run {html.escape(label)}</h1>",
             (f"<p class='muted'>{len(df):,} call attempts · "
              f"{html.escape(tick_badge(tick_of(data)))} · generated "
              f"{_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M:%S} UTC</p>"),
             "<h2>KPIs</h2>", _table_html(kpi_summary(data)),
             "<h2>Summary figure</h2>",
             f"<img alt='run summary' src='data:image/png;base64,{img}'>"]
    if is_run(data):
        params = dict(getattr(data, "params", {}) or {})
        if params:
            parts += ["<h2>Parameters</h2>", _params_html(params)]
    parts += ["<h2>Failures: hangup cause × SIP code</h2>",
              _table_html(cause_sip_table(data)) if df["failed"].any()
              else "<p>No failed calls.</p>"]
    if df["failed"].any():
        f = df.calls.failures().copy()
        f["share"] = (100 * f["share"]).map("{:.2f} %".format)
        f["ratio"] = (100 * f["ratio"]).map("{:.3f} %".format)
        f = f.rename(columns={"share": "share of failures", "ratio": "share of attempts"})
        parts += ["<h2>Failures by cause</h2>", _table_html(f)]
    cols = ["offered", "answered", "failed", "asr", "achieved_cps", "setup_latency.p50",
            "setup_latency.p95", "setup_latency.p99", "tick_ms"]
    for by in ("host", "app"):
        if df[by].nunique() > 1:
            k = df.calls.kpis(by=by)
            k = k[[c for c in cols if c in k.columns]]
            parts += [f"<h2>KPIs by {by}</h2>",
                      _table_html(k, float_format=lambda v: f"{v:.4g}")]
    if is_run(data):
        log = getattr(data, "event_log", None)
        if isinstance(log, pd.DataFrame) and len(log):
            shown = log[["time", "kind", "message"]].head(max_events)
            more = f"<p class='muted'>{len(log) - max_events:,} more entries not shown.</p>" \
                if len(log) > max_events else ""
            parts += ["<h2>Event log and retunes</h2>", _table_html(shown, index=False), more]
    page = ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>switchlab run {html.escape(label)}</title><style>{_CSS}</style></head>"
            "<body>\n" + "\n".join(parts) + "\n</body></html>\n")
    out.write_text(page, encoding="utf-8")
    return out
