"""Issue 9, reconnect and resume: a host whose event socket drops or whose
FreeSWITCH restarts is reconnected and its load resumes; the outage is in
the run; launches due while every host is down are counted; a host that
never comes back is given up and ``switchlab dial`` exits 3.

Faults are made with the emulator's public fault API (``fs.faults.drop``,
``fs.faults.disconnect``, ``fs.faults.restart``: new Core-UUID, channels gone,
port refusing for a while), as a notebook or test user would.
"""
from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import matplotlib.figure
import pandas as pd
import pytest

from switchlab import Client, plots
from switchlab.pool import ClientPool
from switchlab.measure import load
from switchlab.originator import Originator, OriginatorState
from switchlab.sim import DUTModel, Emulator

PROXY = "127.0.0.1:5070"  # the emulator's DUT address


def dut() -> DUTModel:
    return DUTModel(seed=3, ringing_ms=5, ring_ms=10, knee_ms=0, answer_probability=1.0,
                    failures={})


async def connected_originator(fs: Emulator, **kwargs) -> Originator:
    client = Client(*fs.esl_addresses[0])
    await client.connect()
    # the DUT answers the calls itself (it is the far end)
    orig = Originator([client], dest=f"switchlab@{PROXY}", **kwargs)
    return await orig.connect()


async def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("notice", [False, True], ids=["tcp-drop", "disconnect-notice"])
async def test_dropped_host_reconnects_and_resumes(tmp_path, notice):
    async with Emulator(hosts=1, port=0, dut=dut()) as fs:
        orig = await connected_originator(fs, rate=40, limit=20, duration=0.3, max_offered=120,
                                          run_dir=str(tmp_path / "run"))
        orig.start()
        await wait_for(lambda: orig.recorder.offered >= 30, 10)
        fault = fs.faults.disconnect if notice else fs.faults.drop
        assert fault(0) >= 1
        # the outage is logged when it starts and when it ends
        await wait_for(lambda: [e["kind"] for e in orig.run.events].count("host_up") == 1, 10)
        assert orig.stats()["hosts_down"] == 0
        assert await orig.wait(30)
        run = await orig.close()
    assert orig.state is OriginatorState.STOPPED
    assert len(run) == 120 and orig.recorder.offered == 120 and orig.count_active == 0
    out = run.outages
    assert len(out) == 1
    row = out.iloc[0]
    assert row.host == orig.pool[0].address and not row.restarted and not row.given_up
    assert ("disconnect notice" in row.reason) == notice
    assert 0 < row.duration < 5 and row.end > row.start
    causes = run.df.hangup_cause.astype(str)
    # calls up at the drop are written off with a clear cause; the others are normal
    assert (causes == "HOST_DISCONNECTED").sum() <= 20
    assert (causes == "NORMAL_CLEARING").sum() >= 90
    # calls launched after the outage succeeded on the same host
    after = run.df[run.df.launch > row.end]
    assert len(after) > 0 and not after.failed.any(), after[after.failed][["launch", "hangup_cause", "sip_code"]].to_string()
    # persisted with the run: save/load round trip
    run.save()
    back = load(tmp_path / "run")
    pd.testing.assert_frame_equal(back.outages, out)
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert len(meta["outages"]) == 1 and meta["outages"][0]["host"] == row.host
    # launches due in the moment with no host up are counted, not lost
    assert meta["not_offered"] == run.not_offered == orig.hosts.not_offered
    # drawn as a band on the time-series plots, where it happened
    fig = plots.load_over_time(back, fig=matplotlib.figure.Figure())
    t0 = back.ts.index[0]
    for ax in fig.axes:
        bands = [p for p in ax.patches if p.get_gid() == "outage"]
        assert len(bands) == 1
        assert bands[0].get_x() == pytest.approx((row.start - t0).total_seconds())
        assert "host down" in ax.get_legend_handles_labels()[1]
    ax = plots.latency_over_time(back, ax=matplotlib.figure.Figure().add_subplot())
    assert [p.get_gid() for p in ax.patches] == ["outage"]


async def test_restarted_host_finishes_its_calls_and_resumes():
    fs = await Emulator(hosts=1, port=0, dut=dut()).start()
    old_core = fs.hosts[0].core_uuid
    try:
        # long calls: some are up when FreeSWITCH restarts
        orig = await connected_originator(fs, rate=20, limit=10, duration=3.0, max_offered=30)
        orig.start()
        await wait_for(lambda: orig.count_answered_now >= 5, 10)
        up = orig.count_active
        new_core = fs.faults.restart(0, down_s=0.5)
        assert new_core != old_core
        # the host takes its new Core-UUID when it goes down (after ``stopping_s``)
        await wait_for(lambda: fs.hosts[0].core_uuid == new_core, 5)
        await wait_for(lambda: orig.recorder.offered >= 30, 20)
        assert await orig.wait(30)
        run = await orig.close()
    finally:
        await fs.aclose()
    df = run.df
    assert len(df) == 30 and orig.count_active == 0
    # calls up at the restart end with FreeSWITCH's SYSTEM_SHUTDOWN (its hangup events
    # arrive before the socket closes) or, if those were not seen, HOST_DISCONNECTED
    causes = df.hangup_cause.astype(str)
    assert causes.isin(["SYSTEM_SHUTDOWN", "HOST_DISCONNECTED"]).sum() >= up
    out = run.outages
    assert len(out) == 1 and bool(out.iloc[0].restarted)
    assert orig.hosts.core_uuids[orig.pool[0].address] == fs.hosts[0].core_uuid
    assert not df.hangup_cause.isna().any()


async def test_launches_while_every_host_is_down_are_not_offered():
    fs = await Emulator(hosts=1, port=0, dut=dut()).start()
    try:
        orig = await connected_originator(fs, rate=20, limit=10, duration=0.1, max_offered=60)
        orig.start()
        await wait_for(lambda: orig.recorder.offered >= 10, 10)
        fs.faults.restart(0, down_s=1.0)
        assert await orig.wait(30)
        run = await orig.close()
    finally:
        await fs.aclose()
    # ~20 launches were due during the second or so without a host
    assert orig.hosts.not_offered >= 10
    assert run.not_offered == orig.hosts.not_offered == orig.stats()["not_offered"]
    assert len(run) == 60  # the cap still counts offered calls only
    assert [e["kind"] for e in run.events].count("not_offered") >= 1


async def test_host_that_stays_down_is_given_up_and_the_run_stops():
    fs = await Emulator(hosts=1, port=0, dut=dut()).start()
    orig = await connected_originator(fs, rate=20, limit=10, duration=0.1, max_offered=None,
                                      host_down_deadline=1.0)
    orig.start()
    await wait_for(lambda: orig.recorder.offered >= 10, 10)
    t0 = time.monotonic()
    await fs.aclose()
    assert await orig.wait(10)
    waited = time.monotonic() - t0
    run = await orig.close()
    assert 0.9 <= waited < 5
    assert orig.state is OriginatorState.STOPPED
    out = run.outages
    assert len(out) == 1 and bool(out.iloc[0].given_up)
    assert "host_given_up" in [e["kind"] for e in run.events]
    assert orig.stats()["hosts_given_up"] == 1


async def test_host_lost_between_connect_and_start_is_given_up_not_an_error():
    """The socket closes after connect() and before start(): the launcher does not try
    a connect of its own (which raised ConnectionFailed and stopped the run as an error);
    the host watch reconnects, launches are not offered, the host is given up at the
    deadline and the run stops, as when a host is lost mid-run."""
    fs = await Emulator(hosts=1, port=0, dut=dut()).start()
    orig = await connected_originator(fs, rate=20, limit=10, duration=0.1, max_offered=None,
                                      host_down_deadline=1.0)
    await fs.aclose()
    await wait_for(lambda: orig.hosts.down, 5)
    t0 = time.monotonic()
    orig.start()
    assert await orig.wait(10)
    waited = time.monotonic() - t0
    run = await orig.close()
    assert 0.5 <= waited < 5
    assert orig.state is OriginatorState.STOPPED
    assert not [e for e in run.events if "ConnectionFailed" in e["message"]], run.events
    assert "host_given_up" in [e["kind"] for e in run.events]
    assert orig.stats()["hosts_given_up"] == 1
    assert orig.hosts.not_offered >= 5  # ~20 launches were due in the second without a host
    assert len(run) == 0


async def test_two_hosts_one_down_load_goes_to_the_other():
    async with Emulator(hosts=2, port=0, dut=dut()) as fs:
        clients = [Client(*a) for a in fs.esl_addresses]
        for c in clients:
            await c.connect()
        orig = await Originator(clients, dest=f"switchlab@{PROXY}", rate=40, limit=20,
                                duration=0.1, max_offered=80).connect()
        orig.start()
        await wait_for(lambda: orig.recorder.offered >= 10, 10)
        assert fs.faults.drop(1) >= 1
        assert await orig.wait(30)
        run = await orig.close()
    assert len(run) == 80 and orig.hosts.not_offered == 0
    assert len(run.outages) == 1


async def test_pool_round_robin_skips_a_host_that_is_down():
    async with Emulator(hosts=2, port=0, dut=dut()) as fs:
        pool = ClientPool([f"{h}:{p}" for h, p in fs.esl_addresses], reconnect=False)
        async with pool:
            await pool[1].connection.close()
            assert {pool.next_client().address for _ in range(4)} == {pool[0].address}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dial_exits_3_when_the_host_is_given_up(tmp_path):
    port = free_port()
    sim = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "sim", "--port", str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and sim.poll() is None, "switchlab sim did not start"
                time.sleep(0.1)
        dial = subprocess.Popen(
            [sys.executable, "-m", "switchlab.cli", "dial", f"127.0.0.1:{port}", "--proxy", PROXY,
             "--rate", "20", "--limit", "10", "--duration", "0.1", "--max-offered", "1000",
             "--host-down-deadline", "1", "--no-progress", "--metrics-file",
             str(tmp_path / "run")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # kill the emulator once calls are being written (the dialer started): a row
        # after the journal's header line
        journal = tmp_path / "run" / "calls.jsonl"
        deadline = time.monotonic() + 60
        while not (journal.exists() and journal.read_bytes().count(b"\n") >= 2):
            assert time.monotonic() < deadline and dial.poll() is None, "dial did not start"
            time.sleep(0.1)
        sim.kill()
        sim.wait(10)
        out, _ = dial.communicate(timeout=60)
    finally:
        if sim.poll() is None:
            sim.kill()
    assert dial.returncode == 3, out
    tail = out.strip().splitlines()[-3:]
    assert any("given up" in line for line in tail), out
    assert load(tmp_path / "run").outages.given_up.all()
