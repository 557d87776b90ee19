"""Failures over time (stacked by cause), and the cause × SIP-code table and
heatmap, on a known failure mix."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from plotrows import call

from switchlab import plots
from switchlab.measure import frame_from_rows


def new_ax():
    return Figure().add_subplot()


@pytest.fixture
def mix() -> pd.DataFrame:
    """Second 0: 2 answered, USER_BUSY/486 ×2, NO_ANSWER/487; second 1:
    NORMAL_TEMPORARY_FAILURE/503 ×3, CALL_REJECTED (no SIP code); second 2:
    2 answered."""
    rows = [call(0, launch_s=0.05), call(1, launch_s=0.1),
            call(2, launch_s=0.2, setup_ticks=None, cause="USER_BUSY", sip=486),
            call(3, launch_s=0.3, setup_ticks=None, cause="USER_BUSY", sip=486),
            call(4, launch_s=0.4, setup_ticks=None, cause="NO_ANSWER", sip=487)]
    rows += [call(5 + i, launch_s=1.1 + 0.1 * i, setup_ticks=None,
                  cause="NORMAL_TEMPORARY_FAILURE", sip=503) for i in range(3)]
    rows += [call(8, launch_s=1.5, setup_ticks=None, cause="CALL_REJECTED"),
             call(9, launch_s=2.1, hold_s=0.2), call(10, launch_s=2.2, hold_s=0.2)]
    return frame_from_rows(rows)


def stacks(ax) -> list[tuple[str, list[float], list[float]]]:
    return [(p.get_label(), p.get_data().values.tolist(), p.get_data().baseline.tolist())
            for p in ax.patches if isinstance(p, StepPatch)]


def test_failures_are_stacked_by_cause_per_window(mix: pd.DataFrame) -> None:
    ax = plots.failures_over_time(mix, ax=new_ax())
    got = stacks(ax)
    # largest cause first; each area sits on the sum of the ones before it
    assert [g[0] for g in got] == ["NORMAL_TEMPORARY_FAILURE (3)", "USER_BUSY (2)",
                                   "CALL_REJECTED (1)", "NO_ANSWER (1)"]
    assert got[0][1][:3] == [0, 3, 0] and got[0][2][:3] == [0, 0, 0]
    assert got[1][1][:3] == [2, 3, 0] and got[1][2][:3] == [0, 3, 0]
    assert got[2][1][:3] == [2, 4, 0] and got[2][2][:3] == [2, 3, 0]
    assert got[3][1][:3] == [3, 4, 0] and got[3][2][:3] == [2, 4, 0]
    edges = ax.patches[0].get_data().edges
    assert edges[:4].tolist() == [0, 1, 2, 3]
    assert ax.get_ylabel() == "failed attempts/s"
    assert ax.get_legend().get_title().get_text() == "hangup cause"


def test_rates_per_second_with_wider_windows_and_other(mix: pd.DataFrame) -> None:
    ax = plots.failures_over_time(mix, "2s", top=1, ax=new_ax())
    got = stacks(ax)
    assert [g[0] for g in got] == ["NORMAL_TEMPORARY_FAILURE (3)", "other (4)"]
    # 2 s windows are aligned on even epoch seconds and T0 is odd: the run's
    # first second is the end of window 0, seconds 1-2 are window 1
    assert got[0][1] == [0.0, 1.5] and got[0][2] == [0.0, 0.0]
    assert got[1][1] == [1.5, 2.0] and got[1][2] == [0.0, 1.5]   # 3 then 1 other failures
    assert ax.patches[0].get_data().edges.tolist() == [0, 2, 4]
    assert ax.patches[1].get_facecolor()[:3] == pytest.approx((0.6, 0.6, 0.6))


def test_stacked_by_sip_code_keeps_failures_without_one(mix: pd.DataFrame) -> None:
    ax = plots.failures_over_time(mix, by="sip_code", ax=new_ax())
    assert sorted(g[0] for g in stacks(ax)) == ["486 (2)", "487 (1)", "503 (3)", "none (1)"]
    counts = plots.failures_by_window(mix, "1s", "sip_code")
    assert counts.sum().to_dict() == {"503": 3, "486": 2, "487": 1, "none": 1}


def test_cause_by_sip_table(mix: pd.DataFrame) -> None:
    t = plots.cause_sip_table(mix)
    expected = pd.DataFrame(
        [[2, 0, 0, 0, 2], [0, 0, 3, 0, 3], [0, 0, 0, 1, 1], [0, 1, 0, 0, 1], [2, 1, 3, 1, 7]],
        index=pd.Index(["USER_BUSY", "NORMAL_TEMPORARY_FAILURE", "CALL_REJECTED",
                        "NO_ANSWER", "total"], name="hangup_cause"),
        columns=pd.Index(["486", "487", "503", "none", "total"], name="sip_code"))
    expected = expected.loc[["NORMAL_TEMPORARY_FAILURE", "USER_BUSY", "CALL_REJECTED",
                             "NO_ANSWER", "total"]]       # most first, ties by name
    pd.testing.assert_frame_equal(t, expected, check_dtype=False)
    assert plots.cause_sip_table(mix, margins=False).to_numpy().sum() == 7


def test_cause_by_sip_heatmap_cells(mix: pd.DataFrame) -> None:
    ax = plots.cause_sip_heatmap(mix, ax=new_ax())
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts if t.get_gid() == "cell"}
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == ["NORMAL_TEMPORARY_FAILURE", "USER_BUSY", "CALL_REJECTED", "NO_ANSWER"]
    assert cols == ["486", "487", "503", "none"]
    named = {(rows[i], cols[j]): v for (i, j), v in cells.items()}
    assert named == {("NORMAL_TEMPORARY_FAILURE", "503"): "3", ("USER_BUSY", "486"): "2",
                     ("CALL_REJECTED", "none"): "1", ("NO_ANSWER", "487"): "1"}
    shades = ax.images[0].get_array()
    assert shades.sum() == pytest.approx(1.0)           # shares of all failures


def test_no_failures(mix: pd.DataFrame) -> None:
    ok = mix[~mix["failed"]]
    ax = plots.failures_over_time(ok, ax=new_ax())
    assert not stacks(ax)
    assert [t.get_text() for t in ax.texts] == ["no failed calls"]
    t = plots.cause_sip_table(ok)
    assert t.loc["total", "total"] == 0 and len(t) == 1
    ax = plots.cause_sip_heatmap(ok, ax=new_ax())
    assert [t.get_text() for t in ax.texts] == ["no failed calls"]
    assert np.all(np.isfinite(ax.get_xlim()))
