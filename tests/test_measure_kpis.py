"""KPIs, failures and time series through the ``df.calls`` accessor, on
synthetic calls whose answers are known."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plotrows import T0, TICK, call  # synthetic call rows, shared with the plot tests

import switchlab.measure  # noqa: F401  (registers df.calls)
from switchlab.errors import MeasurementError
from switchlab.measure import frame_from_rows
from switchlab.measure.kpis import NER_USER_CAUSES


@pytest.fixture
def mix() -> pd.DataFrame:
    """10 calls: 6 answered (setup 1..6 ticks, holds 1..6 s), 4 failed:
    USER_BUSY/486, NO_ANSWER/487, NORMAL_TEMPORARY_FAILURE/503 x2."""
    rows = [call(i, launch_s=0.1 * i, setup_ticks=i + 1, hold_s=float(i + 1),
                 app="A" if i < 3 else "B") for i in range(6)]
    rows += [call(6, launch_s=0.6, setup_ticks=None, cause="USER_BUSY", sip=486, app="B"),
             call(7, launch_s=0.7, setup_ticks=None, cause="NO_ANSWER", sip=487, app="B"),
             call(8, launch_s=0.8, setup_ticks=None, cause="NORMAL_TEMPORARY_FAILURE", sip=503,
                  app="A", host="fs2"),
             call(9, launch_s=0.9, setup_ticks=None, cause="NORMAL_TEMPORARY_FAILURE", sip=503,
                  app="B", host="fs2")]
    return frame_from_rows(rows)


def test_kpis_of_a_known_mix(mix: pd.DataFrame) -> None:
    k = mix.calls.kpis()
    assert list(k.index) == ["all"]
    r = k.loc["all"]
    assert (r["offered"], r["answered"], r["failed"]) == (10, 6, 4)
    assert r["asr"] == 0.6
    assert r["ner"] == 0.8              # answered 6 + USER_BUSY + NO_ANSWER
    assert r["failure_ratio"] == 0.4
    assert r["acd"] == pytest.approx(3.5)     # holds 1..6 s
    assert r["achieved_cps"] == pytest.approx(9 / 0.9)
    setups = np.arange(1, 7) * 0.02
    assert r["setup_latency.count"] == 6
    assert r["setup_latency.mean"] == pytest.approx(setups.mean())
    for q in (50, 90, 95, 99):
        assert r[f"setup_latency.p{q}"] == pytest.approx(np.quantile(setups, q / 100))
    assert r["setup_latency.max"] == pytest.approx(0.12)
    assert r["answer_latency.p50"] == pytest.approx(0.02)
    assert r["pdd"] == pytest.approx(0.02)
    assert r["post_dial_delay.count"] == 10
    assert r["originate_latency.p99"] == pytest.approx(0.01)
    assert r["tick_ms"] == 20.0
    assert k.attrs["tick_label"] == "20 ms"


def test_kpis_by_app_and_by_two_keys(mix: pd.DataFrame) -> None:
    k = mix.calls.kpis(by="app")
    assert list(k.index) == ["A", "B"]
    assert k.loc["A", "offered"] == 4 and k.loc["A", "answered"] == 3
    assert k.loc["A", "asr"] == 0.75 and k.loc["A", "ner"] == 0.75
    assert k.loc["B", "offered"] == 6 and k.loc["B", "asr"] == 0.5
    assert k.loc["B", "ner"] == pytest.approx(5 / 6)
    assert k.loc["A", "setup_latency.max"] == pytest.approx(0.06)
    k2 = mix.calls.kpis(by=["host", "app"])
    assert k2.index.names == ["host", "app"]
    assert k2.loc[("fs2", "A"), "failed"] == 1
    assert k2["offered"].sum() == 10


def test_ner_causes_are_documented_and_overridable(mix: pd.DataFrame) -> None:
    assert NER_USER_CAUSES == {"USER_BUSY", "NO_USER_RESPONSE", "NO_ANSWER", "CALL_REJECTED"}
    k = mix.calls.kpis(ner_causes={"USER_BUSY"})
    assert k.loc["all", "ner"] == 0.7


def test_failures_by_cause_and_sip(mix: pd.DataFrame) -> None:
    f = mix.calls.failures()
    assert f["count"].to_dict() == {"NORMAL_TEMPORARY_FAILURE": 2, "USER_BUSY": 1,
                                    "NO_ANSWER": 1}
    assert f.index[0] == "NORMAL_TEMPORARY_FAILURE"     # largest first
    assert f.loc["USER_BUSY", "share"] == 0.25
    assert f.loc["USER_BUSY", "ratio"] == 0.1
    by_sip = mix.calls.failures("sip_code")
    assert {int(k): v for k, v in by_sip["count"].items()} == {503: 2, 486: 1, 487: 1}
    both = mix.calls.failures(["hangup_cause", "sip_code"])
    assert both.loc[("NO_ANSWER", 487), "count"] == 1


def test_failures_count_missing_sip_codes() -> None:
    df = frame_from_rows([call(0, setup_ticks=None, cause="ORIGINATOR_CANCEL"),
                          call(1, setup_ticks=None, cause="USER_BUSY", sip=486)])
    f = df.calls.failures("sip_code")
    assert f["count"].sum() == 2
    assert f.index.isna().sum() == 1


def test_empty_frame_kpis() -> None:
    k = frame_from_rows([]).calls.kpis()
    assert k.loc["all", "offered"] == 0
    assert np.isnan(k.loc["all", "asr"])
    assert np.isnan(k.loc["all", "tick_ms"])


def test_missing_columns_give_a_clear_error() -> None:
    with pytest.raises(MeasurementError, match=r"needs the column\(s\) \['failed'"):
        pd.DataFrame({"x": [1]}).calls.kpis()
    df = frame_from_rows([call(0)])
    with pytest.raises(MeasurementError, match="nosuch"):
        df.calls.kpis(by="nosuch")


def test_timeseries_counts_occupancy_and_erlangs() -> None:
    """Four calls, by hand: launches 0.0, 0.5, 1.2, 2.7 s; held 1.0, 2.0, 0.5, 0.1 s."""
    rows = []
    for i, (t, held) in enumerate([(0.0, 1.0), (0.5, 2.0), (1.2, 0.5), (2.7, 0.1)]):
        r = call(i, launch_s=t, setup_ticks=None if i == 3 else 1,
                 cause="USER_BUSY" if i == 3 else "NORMAL_CLEARING", target_rate=2.0 + i)
        r["rx_caller_hangup"] = r["rx_launch"] + held
        rows.append(r)
    ts = frame_from_rows(rows).calls.timeseries("1s")
    assert ts.index.name == "window"
    assert str(ts.index.dtype) == "datetime64[ns, UTC]"
    assert ts.index[0] == pd.Timestamp(T0 // 1_000_000, unit="s", tz="UTC")
    assert len(ts) == 3
    assert ts["offered"].tolist() == [2, 1, 1]
    assert ts["answered"].tolist() == [2, 1, 0]
    assert ts["failed"].tolist() == [0, 0, 1]
    assert ts["asr"].tolist() == [1.0, 1.0, 0.0]
    assert ts["achieved_cps"].tolist() == [2.0, 1.0, 1.0]
    assert ts["target_rate"].tolist() == [2.5, 4.0, 5.0]
    assert ts["active"].tolist() == [1, 1, 0]
    assert ts["erlangs"].to_numpy() == pytest.approx([1.5, 1.5, 0.6])
    assert ts["setup_latency.p50"].iloc[0] == pytest.approx(0.02)
    assert np.isnan(ts["setup_latency.p95"].iloc[2])
    assert ts.attrs["freq"] == "1s" and ts.attrs["fs_tick"]["seconds"] in (0.02, None)


def test_timeseries_finer_windows_and_groups(mix: pd.DataFrame) -> None:
    ts = mix.calls.timeseries("100ms")
    assert ts["offered"].iloc[:10].tolist() == [1] * 10
    assert ts["offered"].sum() == 10
    # the total traffic is the same whatever the windows: sum(erlangs * width)
    ts1 = mix.calls.timeseries("1s")
    assert (ts["erlangs"].sum() * 0.1) == pytest.approx(ts1["erlangs"].sum() * 1.0)
    held = np.array([1, 2, 3, 4, 5, 6]) + np.arange(1, 7) * 0.02
    assert ts1["erlangs"].sum() == pytest.approx(held.sum() + 4 * 0.02)
    g = mix.calls.timeseries("1s", by="app")
    assert g.index.names == ["app", "window"]
    assert g.loc["A", "offered"].sum() == 4 and g.loc["B", "offered"].sum() == 6
    assert (g.xs("A").index == ts1.index).all()


def test_timeseries_rejects_bad_freq(mix: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        mix.calls.timeseries("0s")


def test_accessor_tick_and_check(mix: pd.DataFrame) -> None:
    assert mix.calls.tick.seconds == 0.02
    res = mix.calls.check(asr_min=0.5, p95_setup_max=0.2)
    assert res.passed


def test_kpis_at_scale_are_quick() -> None:
    """100 k calls: the accessor must stay vectorised (a per-row loop would take minutes)."""
    import time
    rng = np.random.default_rng(0)
    n = 100_000
    launch = T0 + np.sort(rng.integers(0, n * 1000, n))
    create = (launch // TICK) * TICK + 680
    answer = create + TICK * rng.integers(1, 20, n)
    ok = rng.random(n) < 0.95
    df = pd.DataFrame({
        "launch": pd.to_datetime(launch, unit="us", utc=True),
        "caller_create": pd.to_datetime(create, unit="us", utc=True),
        "caller_answer": pd.to_datetime(np.where(ok, answer, 0), unit="us", utc=True)
        .where(ok),
        "failed": ~ok,
        "hangup_cause": pd.Categorical(np.where(ok, "NORMAL_CLEARING", "USER_BUSY")),
        "host": pd.Categorical(np.where(rng.random(n) < 0.5, "fs1", "fs2")),
        "setup_latency": np.where(ok, (answer - create) / 1e6, np.nan),
    })
    t = time.perf_counter()
    k = df.calls.kpis(by="host")
    ts = df.calls.timeseries("1s")
    elapsed = time.perf_counter() - t
    assert k["offered"].sum() == n
    assert ts["offered"].sum() == n
    assert k["tick_ms"].tolist() == [20.0, 20.0]
    assert elapsed < 5
