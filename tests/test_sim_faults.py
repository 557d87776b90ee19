"""Fault injection in the emulator (``Emulator.faults``), over real sockets.

For each fault: the client keeps working (it reconnects where the fault drops it, and
its subscriptions come back), and, with an originator recording a run, no finished
row is lost and the run directory loads afterwards.
"""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from switchlab import Client
from switchlab.apps.players import TonePlay
from switchlab.esl import Connection, Reconnect, connect
from switchlab.measure import load
from switchlab.originator import Originator, loopback_destinations
from switchlab.sim import DUTModel, Emulator
from switchlab.sim.faults import MALFORMED, SHUTDOWN_NOTICE
from switchlab.wire import Event

PROXY = "127.0.0.1:5070"  # the emulator's DUT address
FAST = Reconnect(initial=0.05, maximum=0.3, max_time=20)


def quick_dut(**kw: object) -> DUTModel:
    base: dict[str, object] = dict(seed=3, failures={}, answer_probability=1.0, ringing_ms=1,
                                   ring_ms=2, knee_ms=0)
    base.update(kw)
    return DUTModel(**base)  # type: ignore[arg-type]


@asynccontextmanager
async def emulator(hosts: int = 1, **dut: object) -> AsyncIterator[Emulator]:
    async with Emulator(hosts=hosts, port=0, dut=quick_dut(**dut), tick_us=1000,
                        heartbeat_s=0) as fs:
        yield fs


async def until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or cond}")
        await asyncio.sleep(0.01)


async def watcher(fs: Emulator, host: int = 0, *names: str) -> tuple[Connection, list[Event]]:
    """A reconnecting connection subscribed to ``names`` (HEARTBEAT by default)."""
    h, p = fs.hosts[host].esl_address  # type: ignore[misc]
    conn = await connect(h, p, reconnect=FAST)
    seen: list[Event] = []
    conn.add_event_handler(seen.append)
    await conn.subscribe(*(names or ("HEARTBEAT",)))
    return conn, seen


async def still_works(fs: Emulator, conn: Connection, seen: list[Event], host: int = 0) -> None:
    """The connection answers api commands, and its subscription came back."""
    await conn.wait_connected(10)
    assert (await conn.api("status")).startswith("UP ")
    before = len(seen)
    fs.hosts[host].send_heartbeat()
    await until(lambda: any(e.name == "HEARTBEAT" for e in seen[before:]), 5, "a HEARTBEAT")


# -- the event socket ----------------------------------------------------------------------
async def test_drop_resets_and_the_client_reconnects_with_its_subscription() -> None:
    async with emulator(hosts=2) as fs:
        conn, seen = await watcher(fs, 0)
        other, other_seen = await watcher(fs, 1)
        assert fs.faults.drop(host=0) == 1
        await until(lambda: len(conn.gaps) == 1, what="a reconnect")
        assert "connection lost" in conn.gaps[0].reason or "closed" in conn.gaps[0].reason
        await still_works(fs, conn, seen)
        assert not other.gaps  # host 1 was not touched
        await still_works(fs, other, other_seen, host=1)
        assert [r.kind for r in fs.faults.history] == ["drop"]
        await conn.close()
        await other.close()


async def test_disconnect_notice_then_close_and_the_client_reconnects() -> None:
    async with emulator() as fs:
        conn, seen = await watcher(fs)
        frames = []
        raw = await asyncio.open_connection(*fs.esl_addresses[0])
        await raw[0].readuntil(b"\n\n")
        raw[1].write(b"auth ClueCon\n\n")
        await raw[0].readuntil(b"\n\n")
        assert fs.faults.disconnect(host=0) == 2
        data = await asyncio.wait_for(raw[0].read(), 5)  # everything up to the FIN
        frames.append(data)
        assert data == (b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
                        b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n")
        raw[1].close()
        await until(lambda: len(conn.gaps) == 1, what="a reconnect")
        assert "disconnect notice" in conn.gaps[0].reason
        await still_works(fs, conn, seen)
        await conn.close()


async def test_stall_holds_events_then_delivers_them_in_order_while_replies_flow() -> None:
    async with emulator() as fs:
        conn, seen = await watcher(fs)
        assert fs.faults.stall(0.6, host=0) == 1
        t0 = time.monotonic()
        for n in range(3):
            fs.hosts[0].send_heartbeat(n + 1)
        assert (await conn.api("status")).startswith("UP ")  # replies are not held
        assert time.monotonic() - t0 < 0.3
        await asyncio.sleep(0.2)
        assert seen == []
        await until(lambda: len(seen) == 3, 5, "the held events")
        assert time.monotonic() - t0 >= 0.55
        seqs = [int(e["Event-Sequence"]) for e in seen]
        assert seqs == sorted(seqs)
        assert not conn.gaps
        await still_works(fs, conn, seen)
        await conn.close()


@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_malformed_frame_drops_only_that_connection_and_it_comes_back(kind: str) -> None:
    async with emulator() as fs:
        conn, seen = await watcher(fs)
        assert fs.faults.malformed(host=0, kind=kind) == 1
        await until(lambda: len(conn.gaps) == 1, what="a reconnect")
        assert "protocol error" in conn.gaps[0].reason
        assert conn.protocol_error is not None
        await still_works(fs, conn, seen)
        await conn.close()


async def test_slow_client_loses_events_then_is_disconnected_and_comes_back() -> None:
    async with emulator() as fs:
        fs.faults.slow_client_policy(max_missed=5)
        conn, seen = await watcher(fs)
        assert fs.faults.slow_client(0.3, host=0) == 1
        for n in range(7):
            fs.hosts[0].send_heartbeat(n + 1)
        await until(lambda: len(conn.gaps) == 1, what="a reconnect")
        stats = fs.faults.stats(0)
        assert stats["lost_events"] == 6 and stats["slow_disconnects"] == 1
        assert seen == []
        await asyncio.sleep(0.35)
        await still_works(fs, conn, seen)
        await conn.close()


async def test_stuck_reader_trips_the_slow_client_policy_others_go_on() -> None:
    async with emulator() as fs:
        fs.faults.slow_client_policy(max_buffered=20_000, max_missed=10)
        conn, seen = await watcher(fs)
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect(fs.esl_addresses[0])
        stuck.sendall(b"auth ClueCon\n\nevent plain ALL\n\n")  # ... and never reads again
        await until(lambda: len(fs.hosts[0].listeners) == 2, what="two connections")
        await asyncio.sleep(0.1)
        for n in range(3000):
            fs.hosts[0].send_heartbeat(n + 1)
            if fs.faults.stats(0)["slow_disconnects"]:
                break
            if n % 50 == 0:
                await asyncio.sleep(0)
        await until(lambda: fs.faults.stats(0)["slow_disconnects"] == 1, what="the kill")
        stuck.close()
        assert not conn.gaps  # the reader that keeps up keeps its connection
        await still_works(fs, conn, seen)
        await conn.close()


async def test_restart_hangs_up_refuses_closes_and_comes_back_fresh() -> None:
    async with emulator() as fs:
        conn, seen = await watcher(fs, 0, "CHANNEL_HANGUP_COMPLETE", "HEARTBEAT")
        notices = []
        conn.add_handler("disconnect", lambda reason, again: notices.append(reason))
        old_core = (await conn.api("global_getvar core_uuid")).strip()
        ip, port = fs.hosts[0].sip_address("internal")
        await conn.api(f"originate sofia/internal/answer@{ip}:{port} &park()")
        assert len(fs.hosts[0].channels) == 2
        new_core = fs.faults.restart(0, down_s=0.5, stopping_s=0.3)
        assert new_core != old_core
        refused = await conn.api(f"originate sofia/internal/answer@{ip}:{port} &park()",
                                 check=False)
        assert refused == "-ERR CHAN_NOT_IMPLEMENTED\n"
        await until(lambda: sum(e.name == "CHANNEL_HANGUP_COMPLETE" for e in seen) == 2,
                    what="the hangups")
        hangups = [e for e in seen if e.name == "CHANNEL_HANGUP_COMPLETE"]
        assert {e["Hangup-Cause"] for e in hangups} == {"SYSTEM_SHUTDOWN"}
        assert {e["Core-UUID"] for e in hangups} == {old_core}
        await until(lambda: bool(notices), what="the disconnect")
        assert "disconnect notice" in notices[0]
        with pytest.raises(OSError):  # the port refuses while FreeSWITCH is down
            await asyncio.open_connection(*fs.esl_addresses[0])
        await until(lambda: len(conn.gaps) == 1, what="the reconnect")
        assert (await conn.api("global_getvar core_uuid")).strip() == new_core
        assert "0 session(s) since startup" in await conn.api("status")
        assert fs.hosts[0].channels == {}
        await still_works(fs, conn, seen)
        assert seen[-1]["Core-UUID"] == new_core
        assert fs.faults.history[-1].kind == "restart"
        await conn.close()


async def test_shutdown_notice_carries_freeswitchs_text() -> None:
    async with emulator() as fs:
        reader, writer = await asyncio.open_connection(*fs.esl_addresses[0])
        await reader.readuntil(b"\n\n")
        writer.write(b"auth ClueCon\n\n")
        await reader.readuntil(b"\n\n")
        fs.faults.restart(0, down_s=0.1, stopping_s=0.0)
        data = await asyncio.wait_for(reader.read(), 5)
        assert data == (b"Content-Type: text/disconnect-notice\nContent-Length: 31\n\n"
                        + SHUTDOWN_NOTICE)
        writer.close()


# -- the DUT -------------------------------------------------------------------------------
async def test_blackholed_invites_time_out_with_no_answer_then_calls_go_through(
        tmp_path: Path) -> None:
    async with emulator() as fs:
        client = Client(*fs.esl_addresses[0], reconnect=FAST)
        await client.connect()
        dest = await loopback_destinations([client])
        assert fs.faults.blackhole(1.0) == 0.0
        orig = Originator([client], dest=dest, proxy=PROXY, rate=20, limit=10, duration=0.05,
                          max_offered=4, timeout=1, apps={"tone": TonePlay},
                          run_dir=str(tmp_path / "run"))
        orig.start()
        assert await orig.wait(15)
        fs.faults.blackhole(0.0)
        orig.max_offered = 8
        orig.start()
        assert await orig.wait(15)
        run = await orig.close()
    df = run.df.sort_values("launch")
    assert len(df) == 8
    assert list(df.hangup_cause.astype(str)[:4]) == ["NO_ANSWER"] * 4
    assert df.failed.iloc[:4].all() and not df.failed.iloc[4:].any()
    assert fs.dut.stats.blackholed == 4
    again = load(tmp_path / "run")
    assert sorted(again.df.call_id.astype(str)) == sorted(df.call_id.astype(str))


def test_blackhole_without_timeout_ends_at_timer_b() -> None:
    dut = quick_dut(blackhole=1.0)
    plan = dut.plan(active=0)
    assert (plan.kind, plan.sip_code, plan.cause, plan.fail_at) == (
        "blackhole", 408, "RECOVERY_ON_TIMER_EXPIRE", 32.0)
    assert quick_dut(blackhole=0.0).plan(active=0).kind == "answer"
    with pytest.raises(ValueError, match="blackhole"):
        quick_dut(blackhole=1.5)


# -- an originator recording a run through the fault -----------------------------------------
@dataclass
class Through:
    """What an originator run through a fault left: the emulator, the run as the
    originator returned it and as loaded from its directory, the call ids finished
    before the fault, the fault time and the originator."""
    fs: Emulator
    live: Any
    run: Any
    before: set[str]
    fault_at: float
    orig: Originator


async def run_through(tmp_path: Path, fault: Callable[[Emulator], object], n: int = 120,
                      hosts: int = 2, reconnect: Reconnect | None = FAST,
                      rate: float = 25) -> Through:
    """An originator over ``hosts`` hosts, ``fault(fs)`` once 15 calls have finished.
    ``reconnect=None``: plain clients, the originator's own default policy."""
    async with emulator(hosts=hosts) as fs:
        clients = [Client(h, p) if reconnect is None else Client(h, p, reconnect=reconnect)
                   for h, p in fs.esl_addresses]
        for c in clients:
            await c.connect()
        dests = (await loopback_destinations(clients)).dests
        orig = Originator(clients, dest=lambda c: dests[c.address], proxy=PROXY, rate=rate,
                          limit=40, duration=0.3, max_offered=n, apps={"tone": TonePlay},
                          run_dir=str(tmp_path / "run"))
        finished: list[str] = []
        old = orig.recorder.on_done

        def done(rec, row):  # type: ignore[no-untyped-def]
            if old is not None:
                old(rec, row)
            finished.append(str(rec.call_id))

        orig.recorder.on_done = done
        await orig.connect()
        orig.start()
        await until(lambda: len(finished) >= 15, 15, "calls before the fault")
        before = set(finished)
        fault_at = time.time()
        fault(fs)
        assert await orig.wait(40)
        live = await orig.close()
    return Through(fs, live, load(tmp_path / "run"), before, fault_at, orig)


async def originate_through(tmp_path: Path, fault: Callable[[Emulator], object],
                            n: int = 120) -> tuple[Emulator, object, set[str], list[float]]:
    """Two hosts, calls on both; ``fault(fs)`` on host 1 mid-run. Returns the emulator,
    the loaded run, the call ids finished before the fault and the fault time."""
    t = await run_through(tmp_path, fault, n)
    return t.fs, t.run, t.before, [t.fault_at]


async def test_originator_keeps_going_through_a_drop_and_loses_no_row(tmp_path: Path) -> None:
    fs, run, before, (fault_at,) = await originate_through(
        tmp_path, lambda fs: fs.faults.drop(host=1))
    df = run.df  # type: ignore[attr-defined]
    assert len(df) == 120  # every offered call has its row
    assert before <= set(df.call_id.astype(str))
    host1 = f"{fs.esl_addresses[1][0]}:{fs.esl_addresses[1][1]}"
    cut = df[df.hangup_cause.astype(str) == "HOST_DISCONNECTED"]
    assert len(cut) > 0 and set(cut.host) == {host1}  # in progress there at the drop
    after = df[(df.host == host1) & (df.launch.astype("int64") / 1e9 > fault_at + 0.5)]
    assert len(after) > 0, "host 1 got calls again once it was back"
    assert not after.failed.any()


async def test_originator_rows_tell_the_truth_through_a_restart(tmp_path: Path) -> None:
    fs, run, before, (fault_at,) = await originate_through(
        tmp_path, lambda fs: fs.faults.restart(1, down_s=0.5, stopping_s=0.2))
    df = run.df  # type: ignore[attr-defined]
    assert len(df) == 120
    assert before <= set(df.call_id.astype(str))
    causes = set(df.hangup_cause.astype(str))
    assert "SYSTEM_SHUTDOWN" in causes  # calls up on host 1 at the shutdown
    host1 = f"{fs.esl_addresses[1][0]}:{fs.esl_addresses[1][1]}"
    after = df[(df.host == host1) & (df.launch.astype("int64") / 1e9 > fault_at + 1.5)]
    assert len(after) > 0 and not after.failed.any(), "host 1 took calls again after restart"


# -- one host, the originator's default reconnect: the outage is in the run -----------------
def assert_no_row_lost(t: Through) -> None:
    """Every offered call has a row, none finished before the fault is missing, and the
    journal reloaded from the run directory has the very rows the originator returned."""
    live, back = t.live.df, t.run.df
    assert len(live) == t.orig.recorder.offered == t.orig.max_offered
    assert t.before <= set(back.call_id.astype(str))
    assert sorted(back.call_id.astype(str)) == sorted(live.call_id.astype(str))
    key = ["call_id", "hangup_cause", "failed"]
    assert (back.sort_values("call_id")[key].astype(str).reset_index(drop=True)
            .equals(live.sort_values("call_id")[key].astype(str).reset_index(drop=True)))


async def test_one_host_default_originator_through_a_drop(tmp_path: Path) -> None:
    t = await run_through(tmp_path, lambda fs: fs.faults.drop(0), n=80, hosts=1,
                          reconnect=None)
    assert_no_row_lost(t)
    host = f"{t.fs.esl_addresses[0][0]}:{t.fs.esl_addresses[0][1]}"
    out = t.run.outages
    assert len(out) == 1
    row = out.iloc[0]
    assert row.host == host and not row.restarted and not row.given_up
    assert row.reason and row.start.timestamp() >= t.fault_at - 0.05
    assert row.end > row.start and row.end.timestamp() < t.fault_at + 5
    pd.testing.assert_frame_equal(t.live.outages, out)
    after = t.live.df[t.live.df.launch > row.end]
    assert len(after) > 0 and not after.failed.any(), "the host took calls again"


async def test_one_host_default_originator_through_a_restart(tmp_path: Path) -> None:
    """Restart the only host for 1 s at 20 calls/s: the launches due meanwhile are
    counted as not offered, the outage says restarted, and the run still offers all."""
    t = await run_through(tmp_path, lambda fs: fs.faults.restart(0, down_s=1.0), n=80,
                          hosts=1, reconnect=None, rate=20)
    assert_no_row_lost(t)
    host = f"{t.fs.esl_addresses[0][0]}:{t.fs.esl_addresses[0][1]}"
    out = t.run.outages
    assert len(out) == 1
    row = out.iloc[0]
    assert row.host == host and bool(row.restarted) and not row.given_up and row.reason
    assert row.start.timestamp() >= t.fault_at - 0.05
    assert 1.0 <= (row.end - row.start).total_seconds() < 6  # down_s + stopping_s + reconnect
    pd.testing.assert_frame_equal(t.live.outages, out)
    assert t.run.not_offered > 0
    assert t.run.not_offered == t.live.not_offered == t.orig.stats()["not_offered"]
    assert t.orig.stats()["hosts_down"] == 0 and t.orig.stats()["hosts_given_up"] == 0
    after = t.live.df[t.live.df.launch > row.end]
    assert len(after) > 0 and not after.failed.any(), "the restarted host took calls again"


# -- on command: the event socket and `switchlab sim` -----------------------------------------
async def test_sim_fault_api_is_off_by_default_and_injects_when_on() -> None:
    async with emulator() as fs:
        conn = await connect(*fs.esl_addresses[0])
        assert await conn.api("sim_fault drop", check=False) == \
            "-ERR sim_fault Command not found!\n"
        await conn.close()
    async with Emulator(hosts=2, port=0, dut=quick_dut(), heartbeat_s=0,
                        fault_api=True) as fs:
        conn, seen = await watcher(fs, 0)
        assert (await conn.api("sim_fault reboot", check=False)).startswith(
            "-ERR fault 'reboot/0': unknown kind 'reboot'")
        assert (await conn.api("sim_fault drop/5", check=False)).startswith(
            "-ERR fault drop@0/5: there is no host 5")
        assert await conn.api("sim_fault drop", check=False) == "+OK drop in 0.05 s\n"
        await until(lambda: len(conn.gaps) == 1, what="the drop it asked for")
        await still_works(fs, conn, seen)
        assert await conn.api("sim_fault blackhole=0.5", check=False) == \
            "+OK blackhole in 0.05 s\n"
        await until(lambda: fs.dut.blackhole == 0.5, what="the DUT change")
        await conn.close()


@pytest.mark.parametrize("spec, words", [
    ("drop@x", "time 'x' is not a number"), ("restart@1/*", "one host at a time"),
    ("blackhole=2", "between 0 and 1"), ("drop=1", "takes no argument"),
    ("malformed=bogus", "not one of"), ("stall=", "nothing after '='"),
])
def test_bad_fault_specs_are_refused_with_the_reason(spec: str, words: str) -> None:
    from switchlab.sim.faultplan import FaultSpec
    with pytest.raises(ValueError, match=words):
        FaultSpec.parse(spec)


def test_switchlab_sim_runs_its_fault_schedule() -> None:
    """``switchlab sim --fault ...`` in its own process: the faults fire when scheduled
    and a reconnecting client keeps working through them."""
    proc = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "sim", "--port", "0",
                             "--hosts", "2", "--heartbeat-s", "0.2", "--fault", "drop@1/1",
                             "--fault", "restart=0.5@1.5", "--fault", "blackhole@2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        addrs: list[str] = []
        while len(addrs) < 2:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "sim exited"
            if "event socket" in line:
                addrs.append(line.split("event socket ")[1].split()[0])

        async def client() -> list[str]:
            conn = await connect(addrs[1], reconnect=FAST)
            await conn.subscribe("HEARTBEAT")
            await until(lambda: len(conn.gaps) == 1, 10, "the drop")
            assert (await conn.api("status")).startswith("UP ")
            await conn.close()
            conn0 = await connect(addrs[0], reconnect=FAST)
            await until(lambda: len(conn0.gaps) == 1, 10, "the restart")
            assert "0 session(s) since startup" in await conn0.api("status")
            await conn0.close()
            return [g.reason for g in conn.gaps]

        asyncio.run(client())
        lines: list[str] = []
        while len(lines) < 3:
            line = proc.stdout.readline()
            assert line, "the emulator stopped before reporting its faults"
            if line.startswith("fault at"):
                lines.append(line)
    finally:
        proc.terminate()
        proc.wait(10)
    assert lines[0].startswith("fault at 1 s: drop: 1 connections reset on host 1")
    assert lines[1].startswith("fault at 1.5 s: restart: host 0 down for 0.5 s")
    assert lines[2].startswith("fault at 2 s: blackhole: the DUT leaves 100% of INVITEs")


async def test_restart_live_or_emulated(real_fs: bool, fshost: str, fspassword: str,
                                        fs_restart_cmd: str | None) -> None:
    """A reconnecting client through a FreeSWITCH restart: on the emulator, or on real
    FreeSWITCH with --fshost and a restart command (--fs-restart-cmd, or
    $SWITCHLAB_FS_RESTART_CMD); skipped with the reason without one."""
    policy = Reconnect(initial=0.1, maximum=2.0, max_time=180)
    if real_fs:
        cmd = fs_restart_cmd
        if not cmd:
            pytest.skip("restarting the --fshost FreeSWITCH needs a command: give "
                        "--fs-restart-cmd (or set SWITCHLAB_FS_RESTART_CMD), e.g. "
                        "--fs-restart-cmd 'ssh fs sudo systemctl restart freeswitch'")
        conn = await connect(fshost, password=fspassword, reconnect=policy)
        restart: Callable[[], object] = lambda: subprocess.Popen(cmd, shell=True)
        fs = None
    else:
        fs = Emulator(hosts=1, port=0, dut=quick_dut(), heartbeat_s=0)
        await fs.start()
        conn = await connect(*fs.esl_addresses[0], reconnect=policy)
        restart = lambda: fs.faults.restart(0, down_s=1.0)  # noqa: E731
    try:
        await conn.subscribe("BACKGROUND_JOB")
        old_core = (await conn.api("global_getvar core_uuid")).strip()
        restart()
        await until(lambda: len(conn.gaps) == 1, 180, "the reconnect after the restart")
        new_core = (await conn.api("global_getvar core_uuid")).strip()
        assert new_core and new_core != old_core
        assert (await conn.bgapi("status")).startswith("UP ")  # BACKGROUND_JOB flows again
    finally:
        await conn.close()
        if fs is not None:
            await fs.aclose()


async def test_faults_from_another_thread_on_a_background_emulator() -> None:
    """As in a notebook: the emulator serves from its own thread, the faults are called
    from this one (they run on the emulator's loop)."""
    fs = Emulator(hosts=1, port=0, dut=quick_dut(), heartbeat_s=0).start_background()
    try:
        conn = await connect(*fs.esl_addresses[0], reconnect=FAST)
        seen: list[Event] = []
        conn.add_event_handler(seen.append)
        await conn.subscribe("HEARTBEAT")
        assert await asyncio.to_thread(fs.faults.stall, 0.3) == 1
        fs.call(fs.hosts[0].send_heartbeat)
        await asyncio.sleep(0.1)
        assert seen == []
        await until(lambda: len(seen) == 1, 5, "the held heartbeat")
        core = await asyncio.to_thread(fs.faults.restart, 0, 0.3, 0.1)
        await until(lambda: len(conn.gaps) == 1, 10, "the reconnect")
        assert (await conn.api("global_getvar core_uuid")).strip() == core
        assert await asyncio.to_thread(fs.faults.drop, 0) == 1
        await until(lambda: len(conn.gaps) == 2, 10, "the second reconnect")
        assert (await conn.api("status")).startswith("UP ")
        await conn.close()
    finally:
        fs.stop()


def _slow(fs: Emulator) -> None:
    fs.faults.slow_client_policy(max_missed=20, host=1)
    fs.faults.slow_client(1.0, host=1)


@pytest.mark.parametrize("name, fault", [
    ("notice", lambda fs: fs.faults.disconnect(host=1)),
    ("stall", lambda fs: fs.faults.stall(1.0, host=1)),
    ("slow", _slow),
    ("malformed", lambda fs: fs.faults.malformed(host=1, kind="binary")),
])
async def test_originator_through_each_connection_fault_loses_no_row(
        tmp_path: Path, name: str, fault: Callable[[Emulator], object]) -> None:
    fs, run, before, (fault_at,) = await originate_through(tmp_path, fault)
    df = run.df  # type: ignore[attr-defined]
    assert len(df) == 120, name
    assert before <= set(df.call_id.astype(str))
    host1 = f"{fs.esl_addresses[1][0]}:{fs.esl_addresses[1][1]}"
    after = df[(df.host == host1) & (df.launch.astype("int64") / 1e9 > fault_at + 1.5)]
    assert len(after) > 0 and not after.failed.any(), f"host 1 works again after {name}"
