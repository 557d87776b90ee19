"""The run report (figure and HTML page), the KPI table, the doctests of
switchlab.plots, and plotting 1 M calls: fast, with a bounded number of
artists."""
from __future__ import annotations

import base64
import doctest
import io
import os
import re
import time
from html.parser import HTMLParser

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from plotrows import T0, call, ramp_frame

from switchlab import plots
from switchlab.measure import Run, frame_from_rows


def mix_rows() -> list[dict]:
    """6 answered (setup 1..6 ticks), USER_BUSY/486, NO_ANSWER/487, 2 × 503."""
    rows = [call(i, launch_s=0.1 * i, setup_ticks=i + 1, hold_s=float(i + 1))
            for i in range(6)]
    rows += [call(6, launch_s=0.6, setup_ticks=None, cause="USER_BUSY", sip=486),
             call(7, launch_s=0.7, setup_ticks=None, cause="NO_ANSWER", sip=487),
             call(8, launch_s=0.8, setup_ticks=None, cause="NORMAL_TEMPORARY_FAILURE",
                  sip=503, host="fs2"),
             call(9, launch_s=0.9, setup_ticks=None, cause="NORMAL_TEMPORARY_FAILURE",
                  sip=503, host="fs2")]
    return rows


@pytest.fixture
def run() -> Run:
    r = Run({"rate": 10, "limit": 20, "dest": "answer"}, run_id="r-known")
    for row in mix_rows():
        r.add_row(row)
    r.log("state", "ORIGINATING <b>now</b>")
    r.retune(rate=12)
    r.retunes[0]["time"] = T0 / 1e6 + 0.5
    return r


def test_kpi_summary_text(run: Run) -> None:
    s = plots.kpi_summary(run)["value"]
    assert s["offered calls"] == "10"
    assert (s["answered"], s["failed"]) == ("6", "4")
    assert s["ASR"] == "60.00 %" and s["NER"] == "80.00 %"
    assert s["ACD (mean duration)"] == "3.5 s"
    assert s["setup latency p50/p95/p99/max"] == "70 / 115 / 119 / 120 ms"
    assert s["PDD (mean)"] == "20 ms"
    assert s["FS tick (latency resolution)"] == "20 ms"
    assert s.index[-1] == "FS tick (latency resolution)"


def test_kpi_panel_cells_and_tick(run: Run) -> None:
    ax = plots.kpi_panel(run, ax=Figure().add_subplot())
    (table,) = ax.tables
    cells = table.get_celld()
    text = {(r, c): cell.get_text().get_text() for (r, c), cell in cells.items()}
    assert (text[(0, 0)], text[(0, 1)]) == ("KPI", "value")
    rows = {text[(r, 0)]: text[(r, 1)] for r in range(1, 13)}
    assert rows["ASR"] == "60.00 %"
    assert rows["FS tick (latency resolution)"] == "20 ms"
    assert ax.get_title(loc="right") == "FS tick 20 ms"


def test_report_figure_of_a_run(run: Run) -> None:
    before = dict(matplotlib.rcParams)
    fig = plots.report(run, capacity=5)
    assert dict(matplotlib.rcParams) == before
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 6
    assert fig.get_suptitle() == ("switchlab run r-known — 10 calls, ASR 60.00% · "
                                  "FS tick 20 ms")
    kpi, rate, hist, pct, fail, occ = fig.axes
    assert kpi.tables and kpi.get_title(loc="right") == "FS tick 20 ms"
    assert hist.patches[0].get_data().values.sum() == 6
    assert hist.get_title(loc="right").startswith("FS tick 20 ms")
    assert [ln.get_label() for ln in pct.lines] == ["p50", "p95", "p99"]
    assert [ln.get_gid() for ln in rate.lines].count("retune") == 1
    assert [p.get_label() for p in fail.patches][:1] == ["NORMAL_TEMPORARY_FAILURE (2)"]
    assert "capacity 5 lines" in [ln.get_label() for ln in occ.lines]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue().startswith(b"\x89PNG")


def test_report_of_a_plain_dataframe() -> None:
    fig = plots.report(frame_from_rows(mix_rows()))
    assert fig.get_suptitle().startswith("switchlab run run — 10 calls")


def test_report_html_is_self_contained(run: Run, tmp_path) -> None:
    path = plots.report_html(run, tmp_path / "r.html", dpi=40)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    srcs = re.findall(r"""src=['"]([^'"]+)""", page)
    assert len(srcs) == 1 and srcs[0].startswith("data:image/png;base64,")
    assert base64.b64decode(srcs[0].split(",", 1)[1]).startswith(b"\x89PNG")
    assert not re.search(r"""(href|src)=['"](?!data:)""", page)
    assert "<link" not in page and "<script" not in page
    tables = html_tables(page)
    kpis = {row[0]: row[1] for row in tables[0][1:]}
    assert kpis["ASR"] == "60.00 %" and kpis["FS tick (latency resolution)"] == "20 ms"
    cause_sip = next(t for t in tables if any("NORMAL_TEMPORARY_FAILURE" in r for r in t))
    ntf = next(r for r in cause_sip if r[0] == "NORMAL_TEMPORARY_FAILURE")
    header = next(r for r in cause_sip if "503" in r)
    assert ntf[header.index("503")] == "2" and ntf[header.index("total")] == "2"
    assert "NORMAL_TEMPORARY_FAILURE" in page and "486" in page
    assert "ORIGINATING &lt;b&gt;now&lt;/b&gt;" in page      # escaped, not markup
    assert "rate=12" in page
    assert "<h2>KPIs by host</h2>" in page


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_tables(page: str) -> list[list[list[str]]]:
    """Every table of a page as rows of cell texts (header rows included)."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def test_auto_freq_keeps_windows_bounded() -> None:
    assert plots.auto_freq(frame_from_rows(mix_rows())) == "1s"
    long = frame_from_rows([call(i, launch_s=60.0 * i) for i in range(121)])   # 2 hours
    assert plots.auto_freq(long) == "30s"        # 240 windows; 10s would be 720


def test_doctests_of_the_plots_package() -> None:
    import switchlab.plots.aggregate
    import switchlab.plots.failures
    import switchlab.plots.latency

    for mod in (switchlab.plots.aggregate, switchlab.plots.failures, switchlab.plots.latency):
        result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, mod.__name__


# --------------------------------------------------------------------- 1 M calls
MAX_ARTISTS = 200


@pytest.fixture(scope="module")
def million() -> pd.DataFrame:
    return ramp_frame(1_000_000, rates=(200.0, 2000.0), capacity=5000.0, seed=11)


def artists(fig) -> int:
    return sum(len(ax.get_children()) for ax in fig.axes)


def test_one_million_calls_plot_in_seconds_with_few_artists(million: pd.DataFrame) -> None:
    assert len(million) == 1_000_000
    ax = lambda: Figure().add_subplot()
    cases = {
        "cdf": lambda: plots.latency_cdf(million, by="host", ax=ax()).figure,
        "hist": lambda: plots.latency_hist(million, by="app", ax=ax()).figure,
        "over_time": lambda: plots.latency_over_time(million, ax=ax()).figure,
        "vs_load": lambda: plots.latency_vs_load(million, load="achieved_cps", ax=ax()).figure,
        "failures": lambda: plots.failures_over_time(million, ax=ax()).figure,
        "report": lambda: plots.report(million, capacity=5000),
    }
    times = {}
    for name, make in cases.items():
        t = time.perf_counter()
        fig = make()
        fig.savefig(io.BytesIO(), format="png", dpi=60)
        times[name] = time.perf_counter() - t
        assert artists(fig) <= MAX_ARTISTS, (name, artists(fig))
        if name == "report":
            kpi = fig.axes[0].tables[0].get_celld()
            assert any(c.get_text().get_text() == "1,000,000" for c in kpi.values())
    print({k: round(v, 2) for k, v in times.items()})
    assert times["report"] < 6.0, times
    assert max(v for k, v in times.items() if k != "report") < 3.0, times
    line = plots.latency_cdf(million, ax=ax()).lines[0]
    assert len(line.get_xdata()) <= 2001
    assert np.isclose(line.get_ydata()[-1], 1.0)
