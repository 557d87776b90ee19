"""Running the emulator: clock ticks, heartbeat, background thread, the ``switchlab sim`` CLI."""
from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simclient import RawClient
from simreplay import classify, load
from switchlab.sim import DUTModel, Emulator
from switchlab.sim.model.clock import SimClock, uptime_text

WIRE = Path(__file__).parent / "data" / "fs-wire"
pytestmark = pytest.mark.timeout(60)


async def stamps_of_a_call(tick_us: int) -> list[int]:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1), tick_us=tick_us,
                        heartbeat_s=3600) as fs:
        async with RawClient(*fs.esl_addresses[0]) as c:
            await c.auth()
            await c.command("event plain ALL")
            body = await c.api("originate sofia/external/answer@127.0.0.1:5080 &park()")
            await asyncio.sleep(0.1)
            await c.api(f"uuid_kill {body[4:].strip()}")
            await c.wait_for(lambda e: e.name == "CHANNEL_DESTROY", count=2)
            return [e.timestamp_us for e in c.events]


@pytest.mark.parametrize("tick_us", [20_000, 1_000])
async def test_stamps_on_the_tick_grid(tick_us: int) -> None:
    stamps = await stamps_of_a_call(tick_us)
    assert len(stamps) > 40
    assert all(s % tick_us == 0 for s in stamps)
    assert abs(stamps[0] / 1e6 - time.time()) < 10
    distinct = sorted(set(stamps))
    assert len(distinct) >= 3  # setup, answer a tick later, hangup ~100 ms later
    assert all((b - a) % tick_us == 0 and b - a >= tick_us for a, b in zip(distinct, distinct[1:]))


def test_clock_and_uptime_text() -> None:
    clock = SimClock(tick_us=20_000)
    assert clock.now_us() % 20_000 == 0
    local, gmt = clock.dates(1_795_691_766_132_318)
    assert gmt == "Thu, 26 Nov 2026 11:16:06 GMT"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", local)
    assert uptime_text(61_000_001) == \
        "0 years, 0 days, 0 hours, 1 minute, 1 second, 0 milliseconds, 1 microsecond"
    with pytest.raises(ValueError):
        SimClock(tick_us=0)


async def test_heartbeat_interval_and_headers() -> None:
    recorded = next(classify(0, f) for _, f in load(WIRE, "call_selfloop_plain").frames
                    if b"Event-Name: HEARTBEAT" in f.body[:40])
    async with Emulator(hosts=1, port=0, tick_us=1000, heartbeat_s=0.2) as fs:
        async with RawClient(*fs.esl_addresses[0]) as c:
            await c.auth()
            await c.command("event plain HEARTBEAT RE_SCHEDULE")
            beats = await c.wait_for(lambda e: e.name == "HEARTBEAT", count=3, timeout=3)
            gaps = [b.received - a.received for a, b in zip(beats, beats[1:])]
            assert all(0.1 < g < 0.45 for g in gaps), gaps
            assert [k for k, _ in beats[0].header_list()] == [k for k, _ in recorded.headers]
            assert beats[0]["Event-Info"] == "System Ready"
            assert any(e.name == "RE_SCHEDULE" for e in c.events)


def test_background_emulator_serves_while_caller_blocks() -> None:
    fs = Emulator(hosts=2, port=0, dut=DUTModel(seed=1)).start_background()
    try:
        assert len(fs.esl_addresses) == 2
        for host, port in fs.esl_addresses:
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(b"auth ClueCon\n\napi global_getvar hostname\n\nexit\n\n")
                time.sleep(0.2)  # a blocking caller: the emulator's own thread answers
                data = b""
                while b"See you at ClueCon" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            assert b"+OK accepted" in data and b"sim" in data
        with pytest.raises(RuntimeError, match="already runs"):
            fs.start_background()
    finally:
        fs.stop()
    with pytest.raises(OSError):
        socket.create_connection(fs.esl_addresses[0], timeout=1).close()


def test_emulator_rejects_non_loopback_bind() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(bind="0.0.0.0")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from switchlab.cli import main; main()", "sim", *args]


def test_cli_serves_hosts_until_terminated() -> None:
    proc = subprocess.Popen(_cli("--port", "0", "--hosts", "3", "--tick-ms", "20",
                                 "--seed", "4", "--capacity", "50", "--failure", "486=0.1"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=Path(__file__).parents[1])
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        ports = [int(m.group(1)) for line in lines
                 if (m := re.search(r"event socket 127\.0\.0\.1:(\d+)", line))]
        assert len(ports) == 3, lines
        names, cores = set(), set()
        for port in ports:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"auth ClueCon\n\napi global_getvar hostname\n\n"
                          b"api global_getvar core_uuid\n\napi status\n\nexit\n\n")
                data = b""
                while b"See you at ClueCon" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            bodies = re.findall(rb"Content-Type: api/response\nContent-Length: (\d+)\n\n", data)
            assert len(bodies) == 3
            text = data.decode()
            names.add(re.search(r"Content-Length: \d+\n\n(sim\d)", text).group(1))
            cores.add(re.search(r"\n\n([0-9a-f-]{36})", text).group(1))
            assert "FreeSWITCH (Version 1.11.1-release  64bit) is ready" in text
        assert len(names) == 3 and len(cores) == 3
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_rejects_bad_options() -> None:
    result = subprocess.run(_cli("--failure", "486"), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and "CODE=PROBABILITY" in result.stderr
    result = subprocess.run(_cli("--ring-ms", "soon"), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and "not understood" in result.stderr
