"""Load over time (rates, occupancy, Erlang-B overlay, retunes) and latency
against load (bins, knee), on calls whose timing is known."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from plotrows import T0, call

from switchlab import plots
from switchlab.measure import Run, frame_from_rows, stats
from switchlab.plots.aggregate import knee_point, mean_holding_time


def new_ax():
    return Figure().add_subplot()


def two_windows() -> list[dict]:
    """3 calls in second 0 (target 3 cps), 5 in second 1 (target 5 cps); each
    answered after one tick and held 0.5 s, so it occupies a line 0.52 s."""
    rows = [call(i, launch_s=0.1 * (i + 1), setup_ticks=1, hold_s=0.5, target_rate=3.0)
            for i in range(3)]
    rows += [call(3 + i, launch_s=1.1 + 0.1 * i, setup_ticks=1, hold_s=0.5, target_rate=5.0)
             for i in range(5)]
    return rows


@pytest.fixture
def steps() -> pd.DataFrame:
    return frame_from_rows(two_windows())


def by_label(ax) -> dict:
    return {ln.get_label(): ln for ln in ax.lines}


def test_rates_are_the_per_window_counts(steps: pd.DataFrame) -> None:
    ax = plots.rate_over_time(steps, ax=new_ax())
    lines = by_label(ax)
    assert set(lines) == {"achieved (offered) calls/s", "answered calls/s", "target rate"}
    achieved = lines["achieved (offered) calls/s"]
    assert achieved.get_xdata().tolist() == pytest.approx([0.5, 1.5, 2.5])
    assert achieved.get_ydata().tolist() == [3, 5, 0]
    assert lines["answered calls/s"].get_ydata().tolist() == [3, 5, 0]
    target = lines["target rate"].get_ydata()
    assert target[:2].tolist() == [3, 5] and np.isnan(target[2])
    assert ax.get_ylabel() == "calls/s (by launch time)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "achieved (offered) calls/s", "answered calls/s", "target rate"]


def test_occupancy_and_the_erlang_b_overlay(steps: pd.DataFrame) -> None:
    ax = plots.occupancy_over_time(steps, capacity=2, ax=new_ax())
    lines = by_label(ax)
    # each call holds a line 0.52 s: second 0 carries 3 × 0.52, second 1
    # 4 × 0.52 + 0.5 (the last call runs over into second 2 by 0.02 s)
    assert lines["traffic (erlangs, window mean)"].get_ydata() == pytest.approx(
        [1.56, 2.58, 0.02])
    assert lines["active calls (window end)"].get_ydata().tolist() == [0, 1, 0]
    ts = steps.calls.timeseries("1s")
    h = mean_holding_time(ts)
    assert h == pytest.approx(0.52)
    erlang = lines["Erlang B carried (2 lines, h=0.52 s)"].get_ydata()
    expected = stats.carried_traffic(np.array([3.0, 5.0]) * 0.52, 2)
    assert erlang[:2] == pytest.approx(expected)
    assert np.isnan(erlang[2])                 # no target rate once launches stopped
    cap = lines["capacity 2 lines"]
    assert list(cap.get_ydata()) == [2, 2]
    assert ax.get_ylim()[1] >= 2


def test_stated_holding_time_is_used(steps: pd.DataFrame) -> None:
    ax = plots.occupancy_over_time(steps, capacity=3, holding_time=2.0, ax=new_ax())
    erl = by_label(ax)["Erlang B carried (3 lines, h=2 s)"].get_ydata()
    assert erl[:2] == pytest.approx(stats.carried_traffic(np.array([6.0, 10.0]), 3))
    with pytest.raises(ValueError, match="capacity"):
        plots.occupancy_over_time(steps, capacity=0, ax=new_ax())


def test_a_runs_retunes_are_marked() -> None:
    run = Run({"rate": 3})
    for row in two_windows():
        run.add_row(row)
    run.retune(rate=5)
    run.retunes[0]["time"] = T0 / 1e6 + 1.0        # retuned one second into the run
    ax = plots.rate_over_time(run, ax=new_ax())
    marks = [ln for ln in ax.lines if ln.get_gid() == "retune"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == pytest.approx(1.0)
    assert [t.get_text() for t in ax.texts if t.get_gid() == "retune-label"] == ["rate=5"]


def test_load_over_time_stacks_rate_and_occupancy(steps: pd.DataFrame) -> None:
    fig = plots.load_over_time(steps, capacity=4)
    top, bottom = fig.axes
    assert top.get_shared_x_axes().joined(top, bottom)
    assert "achieved (offered) calls/s" in by_label(top)
    assert "Erlang B carried (4 lines, h=0.52 s)" in by_label(bottom)
    assert bottom.get_xlabel() == "time since first launch (s; 1s windows)"


def load_rows(n: int, setup_of) -> list[dict]:
    return [call(i, launch_s=0.02 * i, setup_ticks=setup_of(i), active=float(i))
            for i in range(n)]


def test_latency_against_active_calls_per_bin() -> None:
    df = frame_from_rows(load_rows(100, lambda i: 1 if i < 50 else 10))
    ax = plots.latency_vs_load(df, bins=2, percentiles=[0.5, 0.95], ax=new_ax())
    p50, p95 = ax.lines
    assert p50.get_label() == "p50" and p95.get_label() == "p95"
    assert p50.get_xdata().tolist() == pytest.approx([24.75, 74.25])
    assert p50.get_ydata().tolist() == pytest.approx([20, 200])
    assert ax.get_xlabel() == "active calls at launch"
    assert ax.get_title(loc="right") == "FS tick 20 ms"
    table = plots.latency_by_load(df, df["active_calls"].to_numpy(), "setup_latency",
                                  [0.5], 2)
    assert table["count"].tolist() == [50, 50]


def test_sparse_bins_are_left_out() -> None:
    df = frame_from_rows(load_rows(100, lambda i: 1))
    ax = plots.latency_vs_load(df, bins=4, min_calls=30, ax=new_ax())
    assert not ax.lines
    assert [t.get_text() for t in ax.texts] == ["no load bin with 30 calls or more"]
    ax = plots.latency_vs_load(df, bins=4, min_calls=25, percentiles=[0.5], ax=new_ax())
    assert len(ax.lines[0].get_xdata()) == 4


def test_the_knee_is_marked_where_latency_takes_off() -> None:
    df = frame_from_rows(load_rows(200, lambda i: 1 + max(0, i - 150) // 2))
    ax = plots.latency_vs_load(df, bins=20, min_calls=5, mark_knee=True, ax=new_ax())
    assert ax.knee is not None and 140 <= ax.knee <= 170
    (knee_line,) = [ln for ln in ax.lines if ln.get_gid() == "knee"]
    assert knee_line.get_xdata()[0] == pytest.approx(ax.knee)
    assert knee_line.get_label().startswith("knee ≈ ")
    linear = frame_from_rows(load_rows(200, lambda i: 1 + i // 10))
    ax = plots.latency_vs_load(linear, bins=20, min_calls=5, mark_knee=True, ax=new_ax())
    assert len(ax.lines) == 3
    assert ax.knee is None
    assert not [ln for ln in ax.lines if ln.get_gid() == "knee"]


def test_latency_against_achieved_rate_uses_each_calls_launch_window() -> None:
    rows = [call(i, launch_s=0.1 * i, setup_ticks=1) for i in range(10)]            # 10 cps
    rows += [call(10 + i, launch_s=1.0 + 0.025 * i, setup_ticks=5) for i in range(40)]  # 40
    df = frame_from_rows(rows)
    ax = plots.latency_vs_load(df, load="achieved_cps", bins=2, min_calls=5,
                               percentiles=[0.5], ax=new_ax())
    assert ax.lines[0].get_xdata().tolist() == pytest.approx([17.5, 32.5])
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([20, 100])
    assert ax.get_xlabel() == "achieved rate (calls/s)"
    with pytest.raises(ValueError, match="load must be one of"):
        plots.latency_vs_load(df, load="cpu", ax=new_ax())


def test_knee_point_rules() -> None:
    x = np.arange(10.0)
    assert knee_point(x, np.r_[np.ones(7), 3, 6, 12]) == 6
    assert knee_point(x, x + 1) is None                     # straight: no knee
    assert knee_point(x, 1 + 0.01 * np.sin(x)) is None      # flat noise: no rise
    assert knee_point(x[:2], x[:2]) is None
