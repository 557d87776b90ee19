"""Originator + recorder over real sockets: on the emulator's DUT model, and
(with --fshost) on real FreeSWITCH."""
from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import asynccontextmanager

import pytest

from switchlab import Client
from switchlab.apps.players import TonePlay
from switchlab.errors import CommandError
from switchlab.loadshapes import Ramp
from switchlab.measure import load
from switchlab.originator import Originator, OriginatorState, loopback_destinations
from switchlab.sim import DUTModel, Emulator
from switchlab.sim.dut import Latency

PROXY = "127.0.0.1:5070"  # the emulator's DUT address


@asynccontextmanager
async def one_host(dut: DUTModel, **emulator_kwargs):
    """An emulated host with ``dut``: yields its connected client and the
    destination that calls the host back through the DUT."""
    async with Emulator(hosts=1, port=0, dut=dut, **emulator_kwargs) as fs:
        client = Client(*fs.esl_addresses[0])
        await client.connect()
        yield client, (await loopback_destinations([client]))(client)


def test_repr_matches_the_seed():
    orig = Originator(["127.0.0.1:8021"], dest="x@127.0.0.1:5080", rate=1, limit=1,
                      max_offered=1, duration=5)
    assert repr(orig) == ("<Originator: active-calls=0 state=INITIAL total-originated-sessions=0 "
                          "rate=1 limit=1 max-offered=1 duration=5>")


def test_duration_defaults_to_erlang_formula():
    orig = Originator(["127.0.0.1:8021"], dest="x@h", rate=20, limit=100)
    assert orig.duration == pytest.approx(5.0)
    orig.rate = 50
    assert orig.duration == pytest.approx(2.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"limit": 0}, "limit"), ({"limit": 2.5}, "limit"), ({"duration": -1}, "duration"),
    ({"max_offered": -3}, "max_offered"), ({"rate": -1}, "calls/s"),
])
def test_bad_parameters_are_refused_with_the_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Originator(["127.0.0.1:8021"], dest="x@h", **kwargs)


async def test_dut_model_statistics_are_measured(tmp_path):
    N = 360
    """Known latencies and failure mix in, the same figures out (the DUT
    answers the calls itself: it is the far end)."""
    dut = DUTModel(seed=11, trying_ms=2, ringing_ms=Latency.fixed(40), ring_ms=Latency.fixed(200),
                   failures={486: 0.10, 503: 0.05}, answer_probability=1.0, knee_ms=0)
    async with one_host(dut, tick_us=1000) as (client, _):
        orig = Originator([client], dest=f"switchlab@{PROXY}", rate=60, limit=200, duration=0.2,
                          max_offered=N, run_dir=str(tmp_path / "run"))
        orig.start()
        assert await orig.wait(30)
        run = await orig.close()
    df = run.df
    assert len(df) == N
    busy = (df.hangup_cause == "USER_BUSY").mean()
    unavailable = (df.hangup_cause == "NORMAL_TEMPORARY_FAILURE").mean()
    # binomial bounds: 4.5 standard deviations
    for observed, p in ((busy, 0.10), (unavailable, 0.05)):
        assert abs(observed - p) <= 4.5 * math.sqrt(p * (1 - p) / N), (observed, p)
    assert set(df.loc[df.hangup_cause == "USER_BUSY", "sip_code"]) == {486}
    assert set(df.loc[df.hangup_cause == "NORMAL_TEMPORARY_FAILURE", "sip_code"]) == {503}
    ok = df[~df.failed]
    assert abs(len(ok) / N - 0.85) <= 4.5 * math.sqrt(0.85 * 0.15 / N)
    # FreeSWITCH's clock (1 ms ticks here): PDD = 100 Trying + 180 = 42 ms, setup = +200 ms
    assert ok.post_dial_delay.median() == pytest.approx(0.042, abs=0.004)
    assert ok.setup_latency.median() == pytest.approx(0.242, abs=0.006)
    assert ok.setup_latency.quantile(0.95) < 0.260
    # the client hangs up 0.2 s after it learns of the answer, which mod_event_socket's
    # 20 ms listener poll delivers 0-20 ms late (as on a real FreeSWITCH)
    assert 0.2 <= ok.duration.median() <= 0.2 + 0.020 + 0.004
    assert ok.invite_latency.isna().all()  # no callee leg of ours
    assert run.tick.seconds == pytest.approx(0.001, rel=0.1)
    assert df.hangup_side[~df.failed].eq("local").all()
    k = df.calls.kpis()
    assert float(k.loc["all", "asr"]) == pytest.approx(len(ok) / N)


async def run_seeded(seed: int) -> list[tuple[str, bool]]:
    dut = DUTModel(seed=seed, failures={486: 0.2, 404: 0.1}, answer_probability=1.0,
                   ringing_ms=5, ring_ms=10, knee_ms=0)
    async with one_host(dut) as (client, dest):
        # limit 1: calls are strictly sequential, so the DUT sees them in launch order
        orig = Originator([client], dest=dest, proxy=PROXY, rate=200, limit=1, duration=0.0,
                          max_offered=40, apps={"tone": TonePlay})
        orig.start()
        assert await orig.wait(30)
        run = await orig.close()
    df = run.df.sort_values("launch")
    return list(zip(df.hangup_cause.astype(str), df.failed))


async def test_same_seed_same_outcomes():
    a = await run_seeded(5)
    b = await run_seeded(5)
    c = await run_seeded(6)
    assert a == b
    assert a != c
    assert {cause for cause, _ in a} >= {"USER_BUSY", "NORMAL_CLEARING"}


async def test_rate_limit_and_live_retune():
    dut = DUTModel(seed=3, failures={}, answer_probability=1.0, ringing_ms=1, ring_ms=2)
    async with one_host(dut) as (client, dest):
        orig = Originator([client], dest=dest, proxy=PROXY, rate=40, limit=8, duration=0.5,
                          apps={"tone": TonePlay})
        peak = 0
        orig.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:
            peak = max(peak, orig.count_active)
            await asyncio.sleep(0.005)
        assert peak <= 8
        assert orig.state is OriginatorState.ORIGINATING
        orig.limit = 100
        orig.rate = 80
        offered_before = orig.recorder.offered
        await asyncio.sleep(1.0)
        offered = orig.recorder.offered - offered_before
        assert 65 <= offered <= 95, offered
        orig.max_offered = orig.recorder.offered
        assert await orig.wait(10)
        run = await orig.close()
    changes = [r["changes"] for r in run.retunes]
    assert {"limit": 100} in changes and {"max_offered": len(run)} in changes
    assert [e["message"] for e in run.events if e["kind"] == "state"] == ["ORIGINATING", "STOPPED"]


async def test_load_shape_ramp_offers_its_integral():
    dut = DUTModel(seed=3, failures={}, answer_probability=1.0, ringing_ms=1, ring_ms=2)
    async with one_host(dut) as (client, dest):
        orig = Originator([client], dest=dest, proxy=PROXY, shape=Ramp(0, 100, over=2.0, end=2.0),
                          limit=500, duration=0.1, apps={"tone": TonePlay})
        orig.start()
        assert await orig.wait(15)
        run = await orig.close()
    assert abs(len(run) - 100) <= 3
    launches = run.df.launch.sort_values()
    first_half = (launches < launches.iloc[0] + pd_seconds(1.0)).sum()
    assert 15 <= first_half <= 35  # a quarter of the calls in the first half of a ramp


def pd_seconds(s: float):
    import pandas as pd
    return pd.Timedelta(seconds=s)


async def test_calls_spread_over_hosts_and_dead_host_is_skipped():
    dut = DUTModel(seed=1, failures={}, answer_probability=1.0, ringing_ms=1, ring_ms=2)
    async with Emulator(hosts=2, port=0, dut=dut) as fs:
        clients = [Client(h, p) for h, p in fs.esl_addresses] + [Client("127.0.0.1", 1)]
        dests = (await loopback_destinations(clients[:2])).dests
        orig = Originator(clients, dest=lambda c: dests[c.address], proxy=PROXY, rate=100,
                          limit=50, duration=0.05, max_offered=60, apps={"tone": TonePlay})
        await orig.connect()
        orig.start()
        assert await orig.wait(15)
        run = await orig.close()
    df = run.df
    assert len(df) == 60 and not df.failed.any()
    counts = df.host.value_counts()
    assert sorted(counts.index) == sorted(dests) and set(counts) == {30}
    errors = [e for e in run.events if e["kind"] == "host_error"]
    assert errors and errors[0]["data"]["host"] == "127.0.0.1:1"


async def test_live_twenty_calls_rows_agree_with_events(fshosts, fspassword):
    """Runs on real FreeSWITCH with --fshost: self-loop calls answered by the
    dialplan ('answer...' destinations)."""
    client = Client(fshosts[0], password=fspassword)
    dest = await loopback_destinations([client], user="answer")
    seen: dict[str, dict[str, int]] = {}

    def spy(ev):
        call_id = ev.get("variable_sip_h_X-switchlab_call_id")
        if call_id and ev.uuid == call_id:
            seen.setdefault(call_id, {})[ev.name] = ev.timestamp_us

    for name in ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"):
        client.listener.add_handler(name, spy)
    orig = Originator([client], dest=dest, rate=10, limit=20, duration=0.3, max_offered=20)
    orig.start()
    assert await orig.wait(60)
    run = await orig.close()
    df = run.df
    assert len(df) == 20
    assert (df.hangup_cause == "NORMAL_CLEARING").all()
    assert not df.failed.any()
    for row in df.itertuples():
        stamps = seen[row.call_id]
        assert row.caller_create.value // 1000 == stamps["CHANNEL_CREATE"]
        assert row.caller_answer.value // 1000 == stamps["CHANNEL_ANSWER"]
        assert row.callee_create is not None and not (row.callee_create is None)
    assert (df.setup_latency >= 0).all() and (df.duration >= 0.3 - 0.05).all()


KILL_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from switchlab import Client
    from switchlab.originator import Originator
    from switchlab.apps.players import TonePlay

    async def main(addr, run_dir):
        client = Client(addr)
        await client.connect()
        ip, port = await client.sip_address("external")
        orig = Originator([client], dest=f"switchlab@{ip}:{port}", proxy="127.0.0.1:5070",
                          rate=50, limit=50, duration=0.05, max_offered=100000,
                          apps={"tone": TonePlay}, run_dir=run_dir)
        orig.recorder.on_done_extra = None
        old = orig.recorder.on_done
        def done(rec, row):
            old(rec, row)
            print("finished", rec.call_id, flush=True)
        orig.recorder.on_done = done
        orig.start()
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


def test_killed_process_loses_no_finished_call(tmp_path, emulator):
    host, port = emulator.esl_addresses[0]
    script = tmp_path / "dial.py"
    script.write_text(KILL_SCRIPT)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(script), f"{host}:{port}", str(run_dir)],
                            stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    finished: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while len(finished) < 40 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("finished "):
                finished.append(line.split()[1])
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(finished) >= 40
    run = load(run_dir)
    on_disk = set(run.df.call_id.astype(str))
    assert set(finished) <= on_disk


@pytest.mark.parametrize("kwargs, words", [
    ({"dest": "a b@127.0.0.1"}, "destination 'a b@127.0.0.1' is refused"),
    ({"proxy": "127.0.0.1:5070\nbgapi"}, "proxy"),
    ({"proxy": "x}y"}, "proxy 'x}y' is refused"),
    ({"profile": "ext ernal"}, "profile 'ext ernal' is refused"),
])
def test_dial_string_parts_are_refused_before_any_connection(kwargs, words) -> None:
    """Values that go into every dial string are checked when the originator is
    made (switchlab.wire.validate), not discovered call by call at FreeSWITCH."""
    dest = kwargs.pop("dest", "answer@127.0.0.1:5080")
    with pytest.raises(CommandError, match=words):
        Originator(["127.0.0.1:9"], dest, **kwargs)
