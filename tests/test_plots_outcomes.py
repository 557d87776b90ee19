"""App outcome plots and table (switchlab/plots/outcomes.py) on synthetic rows."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from plotrows import call  # noqa: E402
from switchlab import plots  # noqa: E402
from switchlab.apps.blockers import BLOCK_OK, RINGBACK_OK  # noqa: E402
from switchlab.measure import coerce_frame, register_columns, unregister_columns  # noqa: E402


@pytest.fixture
def outcomes_df():  # type: ignore[no-untyped-def]
    register_columns([RINGBACK_OK, BLOCK_OK])
    rows = []
    for i in range(40):  # ringback: ok but the last 10 (late in the run)
        rows.append(call(i, app="ring", launch_s=i * 0.5) | {"ringback_ok": i < 30})
    for i in range(40, 60):  # block: busy calls, 5 of which the caller saw otherwise
        rows.append(call(i, app="busy", launch_s=(i - 40) * 0.5, setup_ticks=None,
                         cause="USER_BUSY" if i < 55 else "NORMAL_TEMPORARY_FAILURE",
                         sip=486 if i < 55 else 503) | {"block_ok": i < 55})
    try:
        yield coerce_frame(pd.DataFrame(rows))
    finally:
        unregister_columns(["ringback_ok", "block_ok"])


def test_outcome_table_counts_by_cause(outcomes_df) -> None:  # type: ignore[no-untyped-def]
    t = plots.outcome_table(outcomes_df)
    assert plots.outcome_columns(outcomes_df) == ["ringback_ok", "block_ok"]
    assert t.loc[("NORMAL_CLEARING", "ringback_ok")].tolist() == [40, 30, 0.75]
    assert t.loc[("USER_BUSY", "block_ok")].tolist() == [15, 15, 1.0]
    assert t.loc[("NORMAL_TEMPORARY_FAILURE", "block_ok")].tolist() == [5, 0, 0.0]
    assert ("USER_BUSY", "ringback_ok") not in t.index  # no value: not that app's calls
    k = outcomes_df.calls.kpis(by="app")
    assert k.loc["ring", "ringback_ok.ratio"] == 0.75 and k.loc["busy", "block_ok.ratio"] == 0.75


def test_outcome_plots_draw_the_ratios(outcomes_df) -> None:  # type: ignore[no-untyped-def]
    fig = Figure()
    ax = plots.app_outcomes_over_time(outcomes_df, freq="5s", ax=fig.add_subplot())
    lines = {line.get_label(): line for line in ax.get_lines()}
    ring = lines["ringback ok"].get_ydata()
    assert list(ring[:3]) == [1.0, 1.0, 1.0] and ring[-1] == 0.0  # the late failures show
    fig2 = Figure()
    ax2 = plots.app_outcomes_by_cause(outcomes_df, ax=fig2.add_subplot())
    heights = sorted(round(p.get_height(), 2) for p in ax2.patches
                     if np.isfinite(p.get_height()))
    assert heights == [0.0, 0.75, 1.0]
    assert [t.get_text() for t in ax2.get_xticklabels()] == [
        "NORMAL_CLEARING", "NORMAL_TEMPORARY_FAILURE", "USER_BUSY"]
    empty = plots.app_outcomes_by_cause(outcomes_df, columns=[], ax=Figure().add_subplot())
    assert any(t.get_gid() == "no-data" for t in empty.texts)
