"""The emulator in its own process, for the benchmarks: start, wait, measure, stop.

Shared by ``originator_load.py``, ``soak.py`` and ``sim_throughput.py``:

    sim = start_sim(port)                 # switchlab sim --port PORT --hosts 1 --tick-ms 1 ...
    await wait_port(port)
    cpu0 = cpu_seconds(sim.pid)
    ...
    err = stop_sim(sim)                   # its stderr (last 2000 characters)

``src`` runs the emulator from another source tree (a checkout of an older
revision): ``sim_throughput.py --compare REV`` uses it to time old and new code
alternately in one sitting.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: the load-test DUT settings: ring 1-2 ms, every call answered
FAST_DUT = ("--ringing-ms", "1", "--ring-ms", "2", "--answer-probability", "1")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_port(port: int, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def start_sim(port: int, *extra: str, src: Path | None = None, uvloop: bool = True,
              stdout: int | None = subprocess.DEVNULL,
              stderr: Any = subprocess.PIPE, pure: bool = False) -> subprocess.Popen[bytes]:
    """``switchlab sim`` on ``port`` (one host, 1 ms tick, ``extra`` options) in its own
    process and session, importing switchlab from ``src`` (default: this tree);
    ``pure``: its compiled modules run as Python (``SWITCHLAB_PURE=1``)."""
    tree = src or ROOT
    env = dict(os.environ, PYTHONPATH=str(tree))
    if pure:
        env["SWITCHLAB_PURE"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "switchlab.cli", "sim", "--port", str(port), "--hosts", "1",
         "--tick-ms", "1", "--uvloop" if uvloop else "--no-uvloop", *extra],
        cwd=tree, stdout=stdout, stderr=stderr, start_new_session=True, env=env)


def stop_sim(sim: subprocess.Popen[bytes]) -> str:
    """Terminate the emulator (kill it if it lingers); the tail of its stderr."""
    sim.terminate()
    try:
        _, err = sim.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        sim.kill()
        _, err = sim.communicate()
    return (err or b"").decode(errors="replace")[-2000:]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def sleeps(pid: int) -> int:
    """How many times a process went to sleep waiting (its voluntary context switches,
    summed over its threads: Linux /proc): with a per-call CPU figure, how often per call
    the process slept."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except OSError:  # the thread ended since the listing
            continue
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def pid_rss(pid: int) -> int:
    """RSS in bytes of a process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def store_result(out: Path, key: str, result: dict[str, Any]) -> None:
    """Add ``result`` under ``key`` to the JSON file ``out`` (other keys kept), say so."""
    out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(out.read_text()) if out.exists() else {}
    old[key] = result
    out.write_text(json.dumps(old, indent=2) + "\n")
    print(f"wrote {out}")
