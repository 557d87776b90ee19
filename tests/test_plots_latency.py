"""Latency CDF, histogram, facets and percentiles over time, on calls whose
latencies are known: the Axes must carry exactly the expected data."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from plotrows import TICK, call

from switchlab import plots
from switchlab.errors import MeasurementError
from switchlab.measure import frame_from_rows
from switchlab.plots.aggregate import ecdf_points, tick_bin_edges

SETUP_TICKS = [1, 1, 2, 2, 2, 3, 5, 5, 5, 5]       # 20..100 ms


def new_ax():
    return Figure().add_subplot()


@pytest.fixture
def known() -> pd.DataFrame:
    """10 answered calls (setup = SETUP_TICKS × 20 ms; app A for the first 4,
    B for the rest; launched 0.1 s apart) and 2 failed ones."""
    rows = [call(i, setup_ticks=t, launch_s=0.1 * i, app="A" if i < 4 else "B")
            for i, t in enumerate(SETUP_TICKS)]
    rows += [call(10, setup_ticks=None, launch_s=1.0, cause="USER_BUSY", sip=486),
             call(11, setup_ticks=None, launch_s=1.1, cause="NO_ANSWER", sip=487)]
    return frame_from_rows(rows)


def test_cdf_is_the_exact_step_ecdf_with_the_tick_shown(known: pd.DataFrame) -> None:
    ax = plots.latency_cdf(known, ax=new_ax())
    (line,) = ax.lines
    assert line.get_xdata().tolist() == pytest.approx([20, 20, 40, 60, 100])
    assert line.get_ydata().tolist() == pytest.approx([0, 0.2, 0.5, 0.6, 1.0])
    assert line.get_drawstyle() == "steps-post"
    assert line.get_label() == "all calls (n=10)"
    assert ax.get_title(loc="right") == "FS tick 20 ms"
    assert ax.get_xlabel() == "setup latency (ms)"
    assert ax.get_title(loc="left") == "setup latency: CDF"


def test_cdf_by_group_draws_one_line_per_group(known: pd.DataFrame) -> None:
    ax = plots.latency_cdf(known, by="app", ax=new_ax())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["A (n=4)", "B (n=6)"]
    assert ax.get_legend().get_title().get_text() == "app"
    a, b = ax.lines
    assert a.get_xdata().tolist() == pytest.approx([20, 20, 40])
    assert a.get_ydata().tolist() == pytest.approx([0, 0.5, 1.0])
    assert b.get_xdata().tolist() == pytest.approx([40, 40, 60, 100])
    assert b.get_ydata().tolist() == pytest.approx([0, 1 / 6, 2 / 6, 1.0])


def test_complementary_cdf_is_one_minus_f_on_a_log_axis(known: pd.DataFrame) -> None:
    ax = plots.latency_cdf(known, complementary=True, ax=new_ax())
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([1, 0.8, 0.5, 0.4, 0.0])
    assert ax.get_yscale() == "log"
    assert ax.get_title(loc="left") == "setup latency: CCDF"


def test_histogram_bins_are_centred_on_the_tick(known: pd.DataFrame) -> None:
    ax = plots.latency_hist(known, ax=new_ax())
    (patch,) = [p for p in ax.patches if isinstance(p, StepPatch)]
    data = patch.get_data()
    assert data.edges.tolist() == pytest.approx([10, 30, 50, 70, 90, 110])
    assert data.values.tolist() == [2, 3, 1, 0, 4]
    assert ax.get_title(loc="right") == "FS tick 20 ms · bin 20 ms"
    assert ax.get_ylabel() == "calls"
    assert patch.get_label() == "all calls (n=10)"


def test_histogram_percent_by_group(known: pd.DataFrame) -> None:
    ax = plots.latency_hist(known, by="app", stat="percent", ax=new_ax())
    a, b = [p.get_data().values for p in ax.patches if isinstance(p, StepPatch)]
    assert a.tolist() == pytest.approx([50, 50, 0, 0, 0])
    assert b.tolist() == pytest.approx([0, 100 / 6, 100 / 6, 0, 400 / 6])
    assert ax.get_ylabel() == "% of calls"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A (n=4)", "B (n=6)"]


def test_wide_ranges_use_bins_of_whole_ticks_and_lose_no_call() -> None:
    rng = np.random.default_rng(3)
    ticks = rng.integers(1, 301, 5000)
    rows = [call(i, setup_ticks=int(t), launch_s=0.02 * i) for i, t in enumerate(ticks)]
    df = frame_from_rows(rows)
    ax = plots.latency_hist(df, max_bins=80, ax=new_ax())
    data = ax.patches[0].get_data()
    widths = np.diff(data.edges)
    assert widths == pytest.approx(np.full(widths.size, 100.0))   # 5 ticks: 300/5 = 60 bins
    assert len(widths) <= 80
    assert data.values.sum() == 5000
    expected = np.bincount((ticks - 1) // 5, minlength=len(widths))
    assert data.values.tolist() == expected.tolist()
    assert ax.get_title(loc="right") == "FS tick 20 ms · bin 100 ms"


def test_tick_bin_edges_absorb_jitter() -> None:
    v = np.array([0.020003, 0.039998, 0.040001, 0.1, 0.099996])
    edges = tick_bin_edges(v, 0.02)
    counts, _ = np.histogram(v, edges)
    assert counts.tolist() == [1, 2, 0, 0, 2]           # 20, 40, 60, 80, 100 ms
    # no tick: plain equal bins over the range
    assert tick_bin_edges(np.array([0.0, 1.0]), None, 4).tolist() == [0, 0.25, 0.5, 0.75, 1.0]


def test_ecdf_of_many_distinct_values_is_exact_at_a_bounded_number_of_points() -> None:
    v = np.random.default_rng(1).gamma(2.0, 0.05, 200_000)
    x, y = ecdf_points(v, max_points=2000)
    assert len(x) <= 2000
    srt = np.sort(v)
    assert y == pytest.approx(np.searchsorted(srt, x, side="right") / v.size)
    assert x[-1] == v.max() and y[-1] == 1.0
    assert np.searchsorted(y, 0.999) < len(y) - 50     # the tail keeps its resolution


def test_originate_latency_is_marked_local_clock(known: pd.DataFrame) -> None:
    ax = plots.latency_hist(known, "originate_latency", ax=new_ax())
    assert ax.get_title(loc="right").startswith("local clock")
    assert ax.patches[0].get_data().values.sum() == 12


def test_facets_by_group_and_by_column(known: pd.DataFrame) -> None:
    fig = plots.latency_facets(known, ["setup_latency", "answer_latency"], by="app")
    assert len(fig.axes) == 4
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["app = A", "app = B", "app = A", "app = B"]
    assert all(ax.get_title(loc="right").startswith("FS tick 20 ms") for ax in fig.axes)
    top_b = fig.axes[1].patches[0].get_data().values
    assert top_b.sum() == 6
    fig2 = plots.latency_facets(known, kind="cdf")
    shown = [ax for ax in fig2.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in shown] == [
        "setup latency (ms)", "post-dial delay (ms)", "answer latency (ms)"]
    with pytest.raises(ValueError, match="kind"):
        plots.latency_facets(known, kind="violin")


def test_percentiles_over_time_per_window() -> None:
    # window 0 (0-1 s): setups 1, 2, 3 ticks; window 1: 5 ticks twice
    rows = [call(i, setup_ticks=t, launch_s=s) for i, (t, s) in
            enumerate([(1, 0.1), (2, 0.2), (3, 0.3), (5, 1.1), (5, 1.2)])]
    df = frame_from_rows(rows)
    ax = plots.latency_over_time(df, percentiles=[0.5, 0.99], ax=new_ax())
    assert [ln.get_label() for ln in ax.lines] == ["p50", "p99"]
    p50, p99 = ax.lines
    x = p50.get_xdata()
    assert x[:2].tolist() == pytest.approx([0.5, 1.5])
    y50 = p50.get_ydata()
    assert y50[:2].tolist() == pytest.approx([40, 100])
    assert p99.get_ydata()[0] == pytest.approx(np.quantile([20, 40, 60], 0.99))
    assert np.isnan(y50[2:]).all()                  # windows while calls are held
    assert ax.get_title(loc="right") == "FS tick 20 ms"
    assert ax.get_xlabel() == "time since first launch (s; 1s windows)"


def test_percentiles_over_time_by_group(known: pd.DataFrame) -> None:
    ax = plots.latency_over_time(known, percentiles=[0.5, 0.95], by="app", ax=new_ax())
    assert [ln.get_label() for ln in ax.lines] == ["A p50", "A p95", "B p50", "B p95"]
    assert ax.lines[0].get_ydata()[0] == pytest.approx(30)      # A: 20, 20, 40, 40 ms
    assert ax.lines[0].get_color() == ax.lines[1].get_color()
    assert ax.lines[1].get_linestyle() == "--"


def test_bad_input_gets_a_clear_error(known: pd.DataFrame) -> None:
    with pytest.raises(MeasurementError, match="not a latency column"):
        plots.latency_cdf(known, "hangup_cause", ax=new_ax())
    with pytest.raises(MeasurementError, match="by="):
        plots.latency_cdf(known, by="colour", ax=new_ax())
    with pytest.raises(ValueError, match="stat"):
        plots.latency_hist(known, stat="share", ax=new_ax())
    with pytest.raises(TypeError, match="DataFrame or a Run"):
        plots.latency_cdf([1, 2, 3])  # type: ignore[arg-type]


def test_no_values_says_so(known: pd.DataFrame) -> None:
    failed = known[known["failed"]]
    ax = plots.latency_cdf(failed, ax=new_ax())
    assert not ax.lines
    assert [t.get_text() for t in ax.texts] == ["no setup latency values"]


def test_without_ax_a_pyplot_figure_is_made_and_not_shown(known: pd.DataFrame,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() called"))
    before = set(plt.get_fignums())
    ax = plots.latency_hist(known)
    try:
        assert ax.figure.number not in before
        assert ax.patches[0].get_data().values.sum() == 10
    finally:
        plt.close(ax.figure)


def test_tick_of_a_one_ms_server_gives_one_ms_bins() -> None:
    rows = []
    for i in range(400):   # 1 ms tick: stamps on whole ms
        launch = 1_795_694_067_000_000 + 7_000 * i
        rows.append({"call_id": f"c{i}", "launch": launch, "caller_create": launch + 1000,
                     "caller_answer": launch + 1000 + 1000 * (3 + i % 17),
                     "caller_hangup": launch + 500_000 + 1000 * (i % 11)})
    df = frame_from_rows(rows)
    assert df.calls.tick.label == "1 ms"
    ax = plots.latency_hist(df, ax=new_ax())
    data = ax.patches[0].get_data()
    assert np.diff(data.edges) == pytest.approx(np.ones(17))
    assert data.values.tolist() == [24] * 9 + [23] * 8
    assert ax.get_title(loc="right") == "FS tick 1 ms · bin 1 ms"
    assert TICK == 20_000
