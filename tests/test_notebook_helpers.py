"""switchlab.notebooks: the lab (emulator or real hosts), the sample run, one call's timeline."""
from __future__ import annotations

import socket

import pandas as pd
import pytest

from switchlab.demo import demo_dut
from switchlab.notebooks import (
    Lab,
    call_timeline,
    open_lab,
    open_sample_run,
    sample_run_path,
    start_emulator,
)


def test_emulator_falls_back_to_free_ports_when_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fs = start_emulator(1, port=port)
        try:
            (host, esl_port), = fs.esl_addresses
            assert host == "127.0.0.1" and esl_port != port
        finally:
            fs.stop()


async def test_lab_records_a_run_through_the_emulated_dut():
    lab = open_lab(None, emulator_hosts=2, dut=demo_dut(seed=5))
    try:
        assert lab.emulated and lab.proxy == "127.0.0.1:5070" and len(lab.hosts) == 2
        run = await lab.record(rate=40, limit=100, duration=0.2, max_offered=60)
    finally:
        await lab.aclose()
    df = run.df
    assert len(df) == 60
    assert set(df["host"].astype(str)) == set(lab.hosts)          # spread over both hosts
    ok = df[~df["failed"]]
    assert len(ok) >= 50 and ok["callee_create"].notna().all()   # called back through the DUT
    assert (ok["dest"].astype(str).str.startswith("switchlab@127.0.0.1:")).all()
    assert run.params["emulator"]["hosts"] == 2


def test_lab_on_real_hosts_parses_addresses_and_refuses_dut_changes():
    lab = open_lab("10.0.0.5,10.0.0.6:8022", proxy="10.0.0.9:5060")
    assert lab.hosts == ["10.0.0.5:8021", "10.0.0.6:8022"] and not lab.emulated
    assert (lab.esl_host, lab.esl_port) == ("10.0.0.5", 8021)
    with pytest.raises(RuntimeError, match="reconfigure your device under test"):
        lab.set_dut(demo_dut())
    with pytest.raises(ValueError, match="at least one"):
        Lab([])


def test_sample_run_is_small_and_has_a_failure_mix():
    path = sample_run_path()
    assert sum(f.stat().st_size for f in path.iterdir()) < 1_000_000
    run = open_sample_run()
    df = run.df
    assert 2000 <= len(df) <= 5000
    causes = set(df.loc[df["failed"], "hangup_cause"].astype(str))
    assert {"USER_BUSY", "NORMAL_CIRCUIT_CONGESTION", "UNALLOCATED_NUMBER"} <= causes
    assert run.tick.seconds == pytest.approx(0.001, rel=0.1)


def test_sample_run_path_override_and_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHLAB_SAMPLE_RUN", str(tmp_path))
    assert sample_run_path() != tmp_path                 # no run.json there: not taken
    (tmp_path / "run.json").write_text("{}")
    assert sample_run_path() == tmp_path


def test_call_timeline_orders_a_calls_events():
    df = open_sample_run().df
    answered = df[~df["failed"] & df["callee_create"].notna()].iloc[0]
    tl = call_timeline(df, answered["call_id"])
    fs = tl[tl["clock"] == "FreeSWITCH"]
    assert fs["event"].iloc[0] == "caller_create" and fs["ms"].iloc[0] == 0
    assert fs["ms"].is_monotonic_increasing
    answer = fs.loc[fs["event"] == "caller_answer", "ms"].item()
    assert answer == pytest.approx(1e3 * answered["setup_latency"], abs=1e-6)
    local = tl[tl["clock"] == "local"]
    assert list(local["event"]) == ["launch", "job_done"]
    assert isinstance(tl["time"].iloc[0], pd.Timestamp)
    refused = df[df["failed"]].iloc[0]
    assert set(call_timeline(df, refused["call_id"])["event"]) >= {"caller_create",
                                                                    "caller_hangup"}
    with pytest.raises(KeyError, match="no call"):
        call_timeline(df, "nope")
