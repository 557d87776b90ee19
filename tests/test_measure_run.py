"""Run: live recording, save/load, CSV, thresholds."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from switchlab.errors import MeasurementError, RunDirectoryError, UnknownKPIError
from switchlab.measure import Run, load, read_csv
from switchlab.measure.check import parse_condition

T0 = 1_795_694_067_000_000
TICK = 20_000


def row(i: int, *, ok: bool = True, setup_ticks: int = 5, host: str = "fs1",
        app: str = "A") -> dict:
    launch = T0 + 100_000 * i
    create = (launch // TICK) * TICK + 680
    r = {"call_id": f"c{i}", "host": host, "app": app, "dest": "answer", "launch": launch,
         "caller_create": create, "rx_launch": 10.0 + 0.1 * i, "rx_job": 10.05 + 0.1 * i,
         "active_calls": float(i % 7), "erlangs": 3.0, "target_rate": 10.0}
    if ok:
        ans = create + setup_ticks * TICK
        r |= {"caller_answer": ans, "caller_hangup": ans + 1_000_000,
              "hangup_cause": "NORMAL_CLEARING", "hangup_side": "local", "failed": False,
              "rx_caller_hangup": 10.0 + 0.1 * i + 1.1}
    else:
        r |= {"caller_hangup": create + TICK, "hangup_cause": "USER_BUSY", "sip_code": 486,
              "hangup_side": "callee", "failed": True}
    return r


def test_live_run_df_is_always_current() -> None:
    run = Run({"rate": 10, "limit": 50, "shape": lambda t: 10})
    assert len(run) == 0 and len(run.df) == 0
    run.add_row(row(0))
    assert len(run.df) == 1
    first = run.df
    assert run.df is first                          # cached while nothing changes
    run.add_row(row(1, ok=False))
    assert len(run.df) == 2 and run.df is not first
    assert run.df["run_id"].tolist() == [run.run_id] * 2
    assert run.df.attrs["run_id"] == run.run_id
    assert run.params["shape"].startswith("<function")   # non-JSON values kept as their repr


def test_retunes_and_event_log() -> None:
    run = Run({"rate": 10, "limit": 50})
    run.log("state", "ORIGINATING")
    run.retune(rate=20)
    run.log("host_error", "connection refused", host="127.0.0.1:8022")
    run.retune(limit=80, rate=25)
    assert run.current_params == {"rate": 25, "limit": 80}
    assert run.params == {"rate": 10, "limit": 50}
    log = run.event_log
    assert log["kind"].tolist() == ["state", "retune", "host_error", "retune"]
    assert log.loc[2, "data"] == {"host": "127.0.0.1:8022"}
    assert str(log["time"].dtype) == "datetime64[ns, UTC]"
    assert log["time"].is_monotonic_increasing


def test_save_and_load_roundtrip(tmp_path: Path) -> None:
    run = Run({"rate": 10, "dest": "answer"}, directory=tmp_path / "r1")
    run.log("state", "ORIGINATING")
    for i in range(200):
        run.add_row(row(i, ok=i % 10 != 0, setup_ticks=1 + i % 9, host=f"fs{i % 2}",
                        app="A" if i % 3 else "B"))
    run.retune(rate=20)
    run.log("state", "STOPPED")
    run.close()
    path = run.save()
    assert path == tmp_path / "r1"
    for name in ("run.json", "calls.jsonl", "log.jsonl", "calls.parquet",
                 "timeseries.parquet"):
        assert (path / name).exists(), name
    meta = json.loads((path / "run.json").read_text())
    assert meta["schema_version"] == 1 and meta["rows"] == 200
    assert meta["fs_tick"]["overall"]["seconds"] == 0.02
    assert meta["fs_tick"]["label"] == "20 ms"
    assert set(meta["fs_tick"]["by_host"]) == {"fs0", "fs1"}
    assert meta["params"] == {"rate": 10, "dest": "answer"}

    back = load(path)
    assert back.run_id == run.run_id
    assert back.params == run.params
    assert back.retunes == run.retunes
    assert [e["message"] for e in back.events] == ["ORIGINATING", "STOPPED"]
    pd.testing.assert_frame_equal(back.df, run.df, check_categorical=False)
    assert back.df.dtypes.astype(str).tolist() == run.df.dtypes.astype(str).tolist()
    assert back.tick.seconds == 0.02
    pd.testing.assert_frame_equal(back.kpis(), run.kpis())
    ts = pd.read_parquet(path / "timeseries.parquet")
    assert ts["offered"].sum() == 200


def test_load_without_save_uses_the_journal(tmp_path: Path) -> None:
    run = Run({"rate": 3}, directory=tmp_path / "r")
    for i in range(5):
        run.add_row(row(i))
    # no save, no close: as if the kernel died
    back = load(tmp_path / "r")
    assert back.df["call_id"].tolist() == [f"c{i}" for i in range(5)]
    pd.testing.assert_frame_equal(back.df, run.df, check_categorical=False)


def test_rows_added_after_save_win_over_the_stale_parquet(tmp_path: Path) -> None:
    run = Run({}, directory=tmp_path / "r")
    run.add_row(row(0))
    run.save()
    run.add_row(row(1))               # then the process is killed
    back = load(tmp_path / "r")
    assert len(back) == 2


def test_save_elsewhere_and_extend_a_loaded_run(tmp_path: Path) -> None:
    run = Run({"rate": 1})
    for i in range(3):
        run.add_row(row(i))
    run.save(tmp_path / "copy")
    assert not (tmp_path / "copy" / "calls.jsonl").exists()
    back = load(tmp_path / "copy")
    assert len(back) == 3
    back.add_row(row(3, ok=False))
    assert len(back.df) == 4
    assert str(back.df["hangup_cause"].dtype) == "category"
    assert back.df["call_id"].tolist() == ["c0", "c1", "c2", "c3"]


def test_directory_holding_a_run_is_refused(tmp_path: Path) -> None:
    Run({}, directory=tmp_path / "r").close()
    with pytest.raises(RunDirectoryError, match="already holds a run"):
        Run({}, directory=tmp_path / "r")
    with pytest.raises(RunDirectoryError, match="holds no run"):
        load(tmp_path)
    with pytest.raises(RunDirectoryError, match="not a directory"):
        load(tmp_path / "nope")
    with pytest.raises(RunDirectoryError, match="no directory"):
        Run({}).save()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{not json")
    with pytest.raises(RunDirectoryError, match="not valid JSON"):
        load(tmp_path / "bad")


def test_bad_row_is_refused_without_touching_the_journal(tmp_path: Path) -> None:
    run = Run({}, directory=tmp_path / "r")
    run.add_row(row(0))
    with pytest.raises(MeasurementError, match="unknown row column"):
        run.add_row({"call_id": "x", "setup": 1})
    with pytest.raises(MeasurementError, match="'caller_answer'"):
        run.add_row(row(1) | {"caller_answer": "soon"})
    run.add_row(row(2))
    assert run.df["call_id"].tolist() == ["c0", "c2"]
    assert load(tmp_path / "r").df["call_id"].tolist() == ["c0", "c2"]


def test_csv_export_reads_back(tmp_path: Path) -> None:
    run = Run({})
    for i in range(20):
        run.add_row(row(i, ok=i % 4 != 0))
    p = run.to_csv(tmp_path / "calls.csv")
    text = p.read_text().splitlines()
    assert text[0].startswith("run_id,call_id,host")
    assert "T" in text[1] and "Z" in text[1]               # ISO 8601 UTC times
    back = read_csv(p)
    pd.testing.assert_frame_equal(back, run.df, check_categorical=False)


def test_check_passes_and_fails_with_the_offending_figures() -> None:
    run = Run({})
    for i in range(100):
        run.add_row(row(i, ok=i % 20 != 0, setup_ticks=1 + i % 10))   # ASR 0.95
    ok = run.check(asr_min=0.9, p95_setup_max=0.25)
    assert ok.passed and bool(ok) and ok.exit_code == 0
    bad = run.check(asr_min=0.99, p95_setup_max=0.15, setup_latency_p50_max=1)
    assert not bad and bad.exit_code == 1
    assert [f.kpi for f in bad.failures] == ["asr", "setup_latency.p95"]
    asr = bad.failures[0]
    assert (asr.op, asr.limit, asr.value) == (">=", 0.99, 0.95)
    p95 = bad.failures[1]
    assert p95.value == pytest.approx(np.quantile((1 + np.arange(100) % 10)[
        np.arange(100) % 20 != 0] * 0.02, 0.95))
    text = str(bad)
    assert "FAIL (2 of 3)" in text and "asr = 0.95 (required >= 0.99)" in text
    assert "20 ms" in text                             # latencies' resolution stated


def test_check_generic_form_with_units() -> None:
    run = Run({})
    for i in range(50):
        run.add_row(row(i, setup_ticks=3))                # setup exactly 60 ms
    res = run.check({"asr": ">= 99%", "setup_latency.p95": "< 200ms",
                     "post_dial_delay.max": ("<=", 1.0), "failed": "== 0"})
    assert res.passed, str(res)
    res = run.check({"setup_latency.p95": "< 50 ms", "answered": "> 50"})
    assert [f.kpi for f in res.failures] == ["setup_latency.p95", "answered"]
    assert parse_condition("<= 150us") == ("<=", pytest.approx(150e-6))
    with pytest.raises(ValueError, match="not understood"):
        run.check({"asr": "at least 0.99"})


def test_unknown_kpi_names_are_clear_errors() -> None:
    run = Run({})
    run.add_row(row(0))
    with pytest.raises(UnknownKPIError, match=r"unknown KPI 'asrr'\. Did you mean asr\? "):
        run.check(asrr_min=0.9)
    with pytest.raises(UnknownKPIError, match="Known KPIs: offered, answered"):
        run.check({"p95": "< 1"})
    with pytest.raises(UnknownKPIError, match="must end in _min or _max"):
        run.check(asr=0.9)
    with pytest.raises(ValueError, match="no thresholds"):
        run.check()


def test_check_with_no_calls_fails_instead_of_passing() -> None:
    res = Run({}).check(asr_min=0.5)
    assert not res.passed and np.isnan(res.failures[0].value)
    assert "n/a" in str(res)


def test_timeseries_is_cached_until_rows_arrive() -> None:
    run = Run({})
    for i in range(30):
        run.add_row(row(i))
    ts = run.ts
    assert run.ts is ts
    assert ts["offered"].sum() == 30
    run.add_row(row(30))
    assert run.ts is not ts and run.ts["offered"].sum() == 31
    assert run.timeseries("1s", by="host").index.names == ["host", "window"]


def test_rows_added_from_another_thread_while_df_is_read() -> None:
    """The originator adds rows on the event loop's thread while a notebook cell reads run.df."""
    run = Run({})
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(3000):
                run.add_row(row(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    t = threading.Thread(target=writer)
    t.start()
    sizes = []
    while not stop.is_set():
        sizes.append(len(run.df))
    t.join()
    assert not errors
    assert len(run.df) == 3000
    assert sizes == sorted(sizes)


def test_memory_per_row_is_reported() -> None:
    run = Run({})
    for i in range(1000):
        run.add_row(row(i))
    assert 200 < run.store_nbytes / 1000 < 320


def test_rows_since_gives_only_new_rows(tmp_path: Path) -> None:
    run = Run({})
    for i in range(10):
        run.add_row(row(i))
    first = run.rows_since(0)
    assert len(first) == 10 and first.index[0] == 0
    mark = len(run)
    for i in range(10, 14):
        run.add_row(row(i, ok=False))
    new = run.rows_since(mark)
    assert new["call_id"].tolist() == ["c10", "c11", "c12", "c13"]
    assert new.index.tolist() == [10, 11, 12, 13]
    assert new["failed"].all() and str(new["launch"].dtype) == "datetime64[ns, UTC]"
    assert len(run.rows_since(len(run))) == 0
    # a loaded run with more rows added on top
    run.save(tmp_path / "s")
    back = load(tmp_path / "s")
    back.add_row(row(14))
    assert back.rows_since(12)["call_id"].tolist() == ["c12", "c13", "c14"]
