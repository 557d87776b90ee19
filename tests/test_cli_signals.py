"""``switchlab dial`` under SIGTERM, and rate 0 that must idle, not spin.

Real processes over loopback: an emulator started with ``switchlab sim`` in
its own process, the dialer in another, signals sent with ``os.kill``. CPU
use is read from /proc (the process's own user + system time), not guessed
from the wall clock.
"""
from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

import pytest

from switchlab.loadshapes import Constant, FromCallable, LaunchSchedule
from switchlab.measure import load
from switchlab.sync import sync_client

pytestmark = [pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                 reason="reads process CPU time from /proc"),
              pytest.mark.timeout(120)]

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Sim(NamedTuple):
    esl: str
    dut: str


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Lines:
    """A subprocess's output read by a thread, so a silent (stuck) process
    fails the test at a deadline instead of blocking it."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line)
        self.queue.put(None)

    def until(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            try:
                line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} within {timeout} s: "
                                     f"{''.join(self.seen)}") from None
            if line is None:
                raise AssertionError(f"output ended without {pattern!r}: {''.join(self.seen)}")
            self.seen.append(line)
            m = regex.search(line)
            if m:
                return m

    def rest(self, timeout: float) -> str:
        """Everything until the stream ends (the process exited)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                return "".join(self.seen)
            self.seen.append(line)


@contextmanager
def cli_sim(*extra: str) -> Iterator[Sim]:
    """``switchlab sim`` in its own process (any free ESL port, quick answers, ``extra``
    options), stopped with SIGTERM at the end."""
    proc = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "sim", "--port", "0",
                             "--seed", "3", "--ring-ms", "20-60", "--answer-probability", "1",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = Lines(proc.stdout)
        esl = lines.until(r"event socket (\S+)", 30).group(1)
        dut = lines.until(r"DUT at (\S+);", 10).group(1)
        yield Sim(esl, dut)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """The emulator of :func:`cli_sim`, shared by this module's tests: each one leaves no
    channel up."""
    with cli_sim() as running:
        yield running


def channels_up(esl: str) -> int:
    host, _, port = esl.rpartition(":")
    with sync_client(host, int(port)) as client:
        text = client.api("show channels count")
    m = re.search(r"(\d+) total", text)
    assert m, text
    return int(m.group(1))


def start_dial(sim: Sim, run_dir: Path, *args: str) -> tuple[subprocess.Popen[str], Lines]:
    proc = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "dial", sim.esl,
                             "--proxy", sim.dut, "--metrics-file", str(run_dir), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Lines(proc.stdout)


def offered_at_least(lines: Lines, n: int) -> None:
    deadline = time.monotonic() + 40
    while int(lines.until(r"^ORIGINATING +offered=(\d+)", 40).group(1)) < n:
        assert time.monotonic() < deadline


def test_sigterm_stops_gracefully_and_writes_the_run(sim: Sim, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc, lines = start_dial(sim, run_dir, "--rate", "20", "--limit", "50",
                             "--max-offered", "100000", "--duration", "1")
    try:
        offered_at_least(lines, 20)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        out = lines.rest(5)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "SIGTERM: stopping" in out and "Hanging up" not in out
    assert out.rstrip().endswith("Dialing session completed!")
    assert "Traceback" not in err
    offered = int(re.findall(r"total-originated-sessions=(\d+)", out)[-1])
    assert (run_dir / "run.json").exists() and (run_dir / "calls.jsonl").exists()
    run = load(run_dir)
    # every call offered before the signal finished on its own and is one row
    assert 20 <= len(run.df) == offered < 100, out
    assert not run.df.call_id.duplicated().any()
    assert (run.df.hangup_cause == "NORMAL_CLEARING").all()
    assert channels_up(sim.esl) == 0


def test_second_sigterm_hangs_up_every_call_quickly(sim: Sim, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # calls held 60 s: only a hang-up can end them within the test's bounds
    proc, lines = start_dial(sim, run_dir, "--rate", "25", "--limit", "100",
                             "--max-offered", "100000", "--duration", "60")
    try:
        offered_at_least(lines, 20)
        proc.send_signal(signal.SIGTERM)
        lines.until(r"SIGTERM: stopping", 10)
        assert channels_up(sim.esl) > 0
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        took = time.monotonic() - t0
        out = lines.rest(5)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "Hanging up every call" in out and "Traceback" not in err
    assert took < 10, f"the hang-up took {took:.1f} s"
    offered = int(re.findall(r"total-originated-sessions=(\d+)", out)[-1])
    run = load(run_dir)
    assert len(run.df) == offered >= 20
    assert not run.df.call_id.duplicated().any()
    assert channels_up(sim.esl) == 0


# -- rate 0 -----------------------------------------------------------------------------

@pytest.mark.timeout(10)
def test_a_schedule_paused_for_good_returns_instead_of_looping() -> None:
    s = LaunchSchedule(Constant(0), t0=10.0)
    first = s.peek()
    assert first is not None and first > 10.0 and s.paused and s.pop() is None
    again = s.peek()
    assert again is not None and again > first  # each look moves on by a bounded step
    resumes = LaunchSchedule(FromCallable(lambda t: 0.0 if t < 5 else 2.0), t0=0.0)
    times: list[float | None] = []
    while len(times) < 3:
        due = resumes.peek()
        assert due is not None and due < 100
        if not resumes.paused:
            times.append(resumes.pop())
    assert times[0] is not None and times[1] is not None
    assert times[0] >= 5.0 and times[1] - times[0] == pytest.approx(0.5)


IDLE_SCRIPT = textwrap.dedent("""
    import asyncio, signal, sys, time
    from switchlab.originator import Originator

    async def main():
        orig = Originator([sys.argv[1]], "switchlab@127.0.0.1:5080", proxy=sys.argv[2],
                          rate=0, limit=100, duration=0.1)
        await orig.connect()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, orig.stop)
        orig.start()
        print("idle", flush=True)
        await asyncio.sleep(1.5)
        print("offered", orig.total_originated, flush=True)
        orig.rate = 20  # a paused originator picks a new rate up at once
        await asyncio.sleep(1.0)
        print("offered", orig.total_originated, flush=True)
        orig.rate = 0
        print("idle again", flush=True)
        await orig.wait(calls=False)
        print("stopped launching", flush=True)
        run = await orig.close(timeout=1)
        print("closed", len(run), flush=True)

    asyncio.run(main())
""")


def test_originator_at_rate_0_idles_without_cpu_and_obeys_sigterm(sim: Sim,
                                                                  tmp_path: Path) -> None:
    script = tmp_path / "idle.py"
    script.write_text(IDLE_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), sim.esl, sim.dut],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = Lines(proc.stdout)
    try:
        lines.until(r"^idle$", 30)
        cpu0 = cpu_seconds(proc.pid)
        assert lines.until(r"^offered (\d+)", 10).group(1) == "0"
        idle_cpu = cpu_seconds(proc.pid) - cpu0
        assert int(lines.until(r"^offered (\d+)", 10).group(1)) >= 10
        lines.until(r"^idle again", 10)
        time.sleep(1.0)
        cpu1 = cpu_seconds(proc.pid)
        time.sleep(1.0)
        idle_again_cpu = cpu_seconds(proc.pid) - cpu1
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        lines.until(r"^stopped launching", 10)
        took = time.monotonic() - t0
        proc.wait(30)
        out = lines.rest(5)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    # 1.5 s and 1 s idle: a spinning loop would use about as much CPU as wall time
    assert idle_cpu < 0.3 and idle_again_cpu < 0.2, (idle_cpu, idle_again_cpu)
    assert took < 2.0
    assert re.search(r"closed (\d+)", out)


def test_dial_rate_0_is_refused_before_connecting(sim: Sim) -> None:
    res = subprocess.run([sys.executable, "-m", "switchlab.cli", "dial", sim.esl, "--rate", "0"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.startswith("Error: --rate: rate 0 would never place a call")
    assert res.stdout == ""


def test_sigterm_while_connecting_ends_at_once_with_nothing_sent() -> None:
    """A host that accepts the TCP connection but never greets: connecting
    hangs; SIGTERM ends the command right away (exit 130, one line)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "dial",
                                 f"127.0.0.1:{port}", "--rate", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            server.settimeout(60)
            conn, _ = server.accept()  # the dialer is now waiting for auth/request
            with conn:
                time.sleep(0.3)
                t0 = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                out, err = proc.communicate(timeout=10)
                took = time.monotonic() - t0
                assert conn.recv(1024) == b""  # it sent nothing and closed
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, out + err
    assert err.strip() == "Stopped by SIGTERM before the first call; nothing was sent"
    assert took < 5 and "Traceback" not in err and "Starting load test" not in out
