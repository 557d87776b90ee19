"""Run comparison: overlaid CDFs and time series, and bootstrap CIs for the
change in p95 setup latency and in ASR."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
from plotrows import call

from switchlab import plots
from switchlab.measure import Run, frame_from_rows, stats


def frame(setup_ticks: list[int | None]) -> pd.DataFrame:
    return frame_from_rows([call(i, launch_s=0.1 * i, setup_ticks=t)
                            for i, t in enumerate(setup_ticks)])


@pytest.fixture
def before() -> pd.DataFrame:
    return frame([5] * 40)                               # 100 ms, all answered


@pytest.fixture
def after() -> pd.DataFrame:
    return frame([7] * 30 + [None] * 10)                 # 140 ms, ASR 0.75


def test_compare_table_holds_the_bootstrap_cis(before: pd.DataFrame,
                                               after: pd.DataFrame) -> None:
    t = plots.compare_table({"before": before, "after": after}, n_boot=500)
    assert t["metric"].tolist() == ["p95 setup_latency", "asr"]
    lat, asr = t.iloc[0], t.iloc[1]
    assert (lat["run"], lat["baseline"]) == ("after", "before")
    assert lat["difference"] == pytest.approx(0.04)
    assert (lat["low"], lat["high"]) == pytest.approx((0.04, 0.04))   # no spread at all
    assert lat["significant"]
    expected = stats.compare_asr(before, after, n_boot=500, seed=0)
    assert asr["difference"] == pytest.approx(-0.25)
    assert (asr["low"], asr["high"]) == pytest.approx((expected.low, expected.high))
    assert asr["baseline_value"] == 1.0 and asr["value"] == 0.75


def test_compare_runs_figure(before: pd.DataFrame, after: pd.DataFrame) -> None:
    fig = plots.compare_runs({"before": before, "after": after}, n_boot=500)
    ax_cdf, ax_time, ax_lat, ax_asr = fig.axes
    assert [ln.get_label() for ln in ax_cdf.lines] == ["before (n=40)", "after (n=30)"]
    assert ax_cdf.lines[0].get_xdata().tolist() == pytest.approx([100, 100])
    assert ax_cdf.lines[1].get_xdata().tolist() == pytest.approx([140, 140])
    assert ax_cdf.get_title(loc="right") == "FS tick 20 ms"
    assert [ln.get_label() for ln in ax_time.lines] == ["before p95", "after p95"]
    assert np.nanmax(ax_time.lines[1].get_ydata()) == pytest.approx(140)
    # the CI markers: one per comparison, at the estimate, in ms and percentage points
    (lat_marker,) = [ln for ln in ax_lat.lines if ln.get_marker() == "o"]
    assert lat_marker.get_xdata()[0] == pytest.approx(40.0)
    (asr_marker,) = [ln for ln in ax_asr.lines if ln.get_marker() == "o"]
    assert asr_marker.get_xdata()[0] == pytest.approx(-25.0)
    row = fig.comparison.iloc[1]
    labels = [t.get_text() for t in ax_asr.texts if t.get_gid() == "ci-label"]
    assert labels == [f"-25 pp  [{100 * row['low']:+.3g}, {100 * row['high']:+.3g}]"]
    assert [t.get_text() for t in ax_asr.get_yticklabels()] == ["after\n− before"]
    assert ax_asr.get_xlim()[0] < 100 * row["low"] and ax_asr.get_xlim()[1] > 0


def test_three_runs_from_run_objects_compare_against_the_first() -> None:
    runs = []
    for name, ticks in (("a", [5] * 40), ("b", [7] * 30 + [None] * 10), ("c", [5] * 40)):
        run = Run(run_id=name)
        for i, t in enumerate(ticks):
            run.add_row(call(i, launch_s=0.1 * i, setup_ticks=t))
        runs.append(run)
    t = plots.compare_table(runs, n_boot=200)
    assert t["run"].tolist() == ["b", "b", "c", "c"]
    assert set(t["baseline"]) == {"a"}
    c_lat = t[(t["run"] == "c") & (t["metric"] != "asr")].iloc[0]
    assert c_lat["difference"] == 0 and not c_lat["significant"]
    fig = plots.compare_runs(runs, n_boot=200)
    assert [x.get_text() for x in fig.axes[2].get_yticklabels()] == ["b\n− a", "c\n− a"]


def test_compare_needs_two_runs(before: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least two runs"):
        plots.compare_table([before])
    with pytest.raises(TypeError, match="list"):
        plots.compare_table(before)  # type: ignore[arg-type]


def test_a_run_without_answered_calls_gives_nan_not_an_error(before: pd.DataFrame) -> None:
    dead = frame([None] * 10)
    t = plots.compare_table({"ok": before, "dead": dead}, n_boot=200)
    assert np.isnan(t.iloc[0]["difference"])
    assert t.iloc[1]["difference"] == pytest.approx(-1.0)
    fig = plots.compare_runs({"ok": before, "dead": dead}, n_boot=200)
    assert "no data" in [t.get_text() for t in fig.axes[2].texts]
