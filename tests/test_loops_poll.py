"""A paced event loop (switchlab.loops, ``poll_ms``): it wakes at most once per interval,
not per packet, and not at all when idle.

Real sockets over loopback: a plain thread sends while a paced loop
receives; the loop's wake-ups are counted by its selector.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from switchlab import loops
from switchlab.errors import ConfigError
from switchlab.measure import load
from test_cli_signals import cli_sim


class _Collect(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[None], want: int) -> None:
        self.data = bytearray()
        self.calls = 0
        self.done = done
        self.want = want

    def data_received(self, data: bytes) -> None:
        self.calls += 1
        self.data += data
        if len(self.data) >= self.want and not self.done.done():
            self.done.set_result(None)


def _send_spread(port: int, chunks: list[bytes], gap: float, started: list[float]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started.append(time.monotonic())
        for chunk in chunks:
            sock.sendall(chunk)
            time.sleep(gap)
        time.sleep(0.2)


async def _receive_spread() -> tuple[bytes, int, int, float]:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    chunks = [b"%03d;" % i for i in range(120)]
    proto = _Collect(done, sum(map(len, chunks)))
    server = await loop.create_server(lambda: proto, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    selector = loop._selector  # type: ignore[attr-defined]
    started: list[float] = []
    sender = threading.Thread(target=_send_spread, args=(port, chunks, 0.001, started))
    woke0 = selector.wakeups
    sender.start()
    await asyncio.wait_for(done, 30)
    elapsed = time.monotonic() - started[0]
    woke = selector.wakeups - woke0
    server.close()
    await loop.run_in_executor(None, sender.join)
    return bytes(proto.data), proto.calls, woke, elapsed


def test_a_paced_loop_reads_what_arrived_within_an_interval_in_one_wake_up() -> None:
    poll_ms = 25.0
    data, calls, woke, elapsed = loops.run(_receive_spread(), poll_ms=poll_ms)
    assert data == b"".join(b"%03d;" % i for i in range(120))  # all of it, in order
    # 120 sends about 1 ms apart (>= 120 ms): a plain loop wakes for nearly each one;
    # this one at most once per interval (plus one at each end)
    points = elapsed / (poll_ms / 1000)
    assert woke <= points + 3, (woke, points)
    assert calls <= woke + 1  # data_received runs only after a wake-up
    assert calls < 60


async def _timer_times(delays: list[float]) -> list[tuple[float, float]]:
    loop = asyncio.get_running_loop()
    out: list[tuple[float, float]] = []
    done = loop.create_future()

    def fired(due: float) -> None:
        out.append((due, time.monotonic()))
        if len(out) == len(delays) and not done.done():
            done.set_result(None)

    now = time.monotonic()
    for d in delays:
        loop.call_at(loop.time() + d, fired, now + d)
    await asyncio.wait_for(done, 30)
    return out


def test_timers_never_fire_early_and_wait_at_most_about_an_interval() -> None:
    interval = 0.02
    fired = loops.run(_timer_times([0.005, 0.013, 0.031, 0.047, 0.1]),
                      poll_ms=interval * 1000)
    for due, at in fired:
        assert at >= due - 0.002  # the loop's clock resolution
        assert at <= due + interval + 0.5  # an interval late at most (generous: loaded box)


async def _from_a_thread() -> float:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[float] = loop.create_future()
    t0 = time.monotonic()
    threading.Timer(0.01, lambda: loop.call_soon_threadsafe(fut.set_result,
                                                             time.monotonic())).start()
    await asyncio.wait_for(fut, 10)
    return time.monotonic() - t0


async def _idle(seconds: float) -> int:
    selector = asyncio.get_running_loop()._selector  # type: ignore[attr-defined]
    woke = selector.wakeups
    await asyncio.sleep(seconds)
    return int(selector.wakeups - woke)


def test_an_idle_paced_loop_does_not_wake_to_poll() -> None:
    assert loops.run(_idle(0.3), poll_ms=5) <= 2  # one wait to the timer, not 60 polls


def test_another_threads_callback_is_served_within_an_interval() -> None:
    assert loops.run(_from_a_thread(), poll_ms=10) < 5


def test_poll_intervals_and_their_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loops.POLL_ENV, raising=False)
    assert loops.poll_ms_value() == 0.0
    monkeypatch.setenv(loops.POLL_ENV, "3")
    assert loops.poll_ms_value() == 3.0
    assert loops.loop_kind() == "asyncio"  # auto + a poll interval
    loop = loops.new_event_loop()
    try:
        assert isinstance(loop._selector, loops.PacedSelector)  # type: ignore[attr-defined]
        assert loop._selector.interval == 0.003  # type: ignore[attr-defined]
    finally:
        loop.close()
    assert loops.poll_ms_value(0) == 0.0  # an argument wins over the environment
    monkeypatch.setenv(loops.POLL_ENV, "soon")
    with pytest.raises(ConfigError, match=r"poll interval 'soon' \(from \$SWITCHLAB_POLL_MS\) "
                                          r"is not a number of milliseconds from 0 \(not paced\)"):
        loops.poll_ms_value()
    monkeypatch.delenv(loops.POLL_ENV)
    for bad in (-1, 101, float("nan"), "x"):
        with pytest.raises(ConfigError, match="is not a number of milliseconds"):
            loops.poll_ms_value(bad)
    with pytest.raises(ConfigError, match="a poll interval needs the asyncio loop"):
        loops.loop_kind("uvloop", poll_ms=2)
    assert loops.loop_kind("asyncio", poll_ms=2) == "asyncio"


def _dial(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchlab.cli", "dial", *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_dial_on_a_paced_loop_places_every_call_and_says_so_in_the_run(
        tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    res = _dial("--sim", "--rate", "40", "--limit", "20", "--max-offered", "40",
                "--duration", "0.2", "--metrics-file", str(run_dir), "--no-progress",
                "--poll-ms", "3", "--check", "asr>=0.5")
    assert res.returncode == 0, res.stdout + res.stderr
    run = load(run_dir)
    assert len(run.df) == 40
    assert run.params["event_loop"] == {"loop": "asyncio", "poll_ms": 3.0}
    # launches stay on their schedule: 40 calls at 40/s take about a second
    launch = run.df["launch"].astype("int64")
    assert 0.8 <= (launch.max() - launch.min()) / 1e9 < 2.0


@pytest.mark.parametrize("args, env, message", [
    (("--poll-ms", "-1"), {}, "Invalid value for '--poll-ms': -1.0 is not in the range "
                              "0<=x<=100."),
    (("--poll-ms", "2", "--loop", "uvloop"), {}, "a poll interval needs the asyncio loop"),
    ((), {loops.POLL_ENV: "fast"}, "poll interval 'fast' (from $SWITCHLAB_POLL_MS) is not a"),
])
def test_dial_refuses_a_bad_poll_interval_in_one_line(args: tuple[str, ...], env: dict[str, str],
                                             message: str) -> None:
    res = _dial("--sim", "--max-offered", "1", *args, env=env)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr and "Slave" not in res.stdout  # nothing started


def test_a_paced_emulator_serves_a_paced_dialer(tmp_path: Path) -> None:
    """``switchlab sim --poll-ms`` and ``switchlab dial --poll-ms``, each in its own process."""
    with cli_sim("--poll-ms", "2") as sim:
        run_dir = tmp_path / "run"
        res = _dial(sim.esl, "--proxy", sim.dut, "--rate", "30", "--limit", "20",
                    "--max-offered", "30", "--duration", "0.1", "--metrics-file", str(run_dir),
                    "--no-progress", "--poll-ms", "2", "--loop", "asyncio", "--check", "asr>=0.9")
    assert res.returncode == 0, res.stdout + res.stderr
    run = load(run_dir)
    assert len(run.df) == 30 and (~run.df["failed"]).sum() >= 27  # the DUT fails ~1 %
    assert run.params["event_loop"] == {"loop": "asyncio", "poll_ms": 2.0}


def test_sim_refuses_a_bad_poll_interval() -> None:
    res = subprocess.run([sys.executable, "-m", "switchlab.cli", "sim", "--port", "0",
                          "--poll-ms", "500"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "Invalid value for '--poll-ms': 500.0 is not in the range 0<=x<=100." in res.stderr
