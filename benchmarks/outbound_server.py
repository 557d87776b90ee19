"""The outbound-socket server (``switchlab.outbound``) against the emulator: calls/s it
sustains, CPU per call, memory per open connection.

Three processes: ``switchlab sim`` (its dialplan sends ``outbound*`` to our server:
``socket 127.0.0.1:PORT async full``), a lean driver that originates self-loop calls
to ``outbound<N>`` at a target rate over a raw event socket (``bgapi``, no events),
and this process, which only runs the server with one app: answer, hold
``--hold`` seconds, hang up (every call is a row of a ``Run``, as in
``switchlab serve``).

* **sustained**: for each ``--rates`` value, ``--duration`` seconds of calls; a rate
  is *kept up* when every call offered was served (connect, app, close) with no
  failure and the calls in progress stayed bounded. Reported: calls done/s, CPU
  µs per call of the server process (``time.process_time()``), server RSS.
* **memory**: ``--open`` calls held open at once (the app waits); RSS growth of the
  server process / open connections.

    .venv/bin/python benchmarks/outbound_server.py                  # rates 50,100,200; 8 s each
    .venv/bin/python benchmarks/outbound_server.py --rates 100,300 --duration 15 --open 1000

Writes ``data/bench/outbound.json``. CPU-bound: run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from switchlab.apps import coroutine  # noqa: E402
from switchlab.measure import Run  # noqa: E402
from switchlab.outbound import serve  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class HoldThenHangup:
    """Answer, hold, hang up (``hold`` None: keep the call until told)."""

    def __init__(self, hold: float | None) -> None:
        self.hold = hold
        self.release = asyncio.Event()

    @coroutine("CHANNEL_DATA")
    async def on_call(self, sess):  # type: ignore[no-untyped-def]
        await sess.answer()
        if self.hold is None:
            await self.release.wait()
        else:
            await asyncio.sleep(self.hold)
        await sess.hangup()


# -- the driver (a separate process) --------------------------------------------------------
async def drive(esl: str, rate: float, count: int) -> None:
    host, port = esl.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    await reader.readuntil(b"\n\n")
    writer.write(b"auth ClueCon\n\n")
    await reader.readuntil(b"\n\n")

    async def drain() -> None:
        while await reader.read(65536):
            pass
    task = asyncio.create_task(drain())
    start = time.monotonic()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        writer.write(b"bgapi originate {origination_caller_id_number=1000}sofia/external/"
                     b"outbound%d@127.0.0.1:5080 &park()\n\n" % i)
    await writer.drain()
    await asyncio.sleep(1.0)
    task.cancel()
    writer.close()


def start_driver(esl: str, rate: float, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--drive", esl, "--rate", str(rate),
                             "--count", str(count)])


# -- the measured server ----------------------------------------------------------------------
async def sustained(esl: str, server_port: int, rate: float, duration: float, hold: float
                    ) -> dict[str, object]:
    app = HoldThenHangup(hold)
    run = Run({"bench": "outbound", "rate": rate})
    count = int(rate * duration)
    async with serve(app, port=server_port, run=run) as server:
        gc.collect()
        cpu0, t0 = time.process_time(), time.monotonic()
        driver = start_driver(esl, rate, count)
        peak_active = 0
        first = None
        deadline = t0 + duration + hold + 30
        while server.completed + server.failed < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            if first is None and server.calls:
                first = time.monotonic()
            peak_active = max(peak_active, len(server.active))
        end = time.monotonic()
        elapsed = end - t0
        # from the first connection to the last call done, less one hold (the last call's)
        window = max(1e-3, end - (first or t0) - hold)
        cpu = time.process_time() - cpu0
        driver.wait(10)
        done = server.completed
        result = {
            "rate_offered_cps": rate, "calls_offered": count, "calls_done": done,
            "calls_failed": server.failed, "refused": server.refused,
            "done_per_s": round(done / window, 1), "window_s": round(window, 2),
            "elapsed_s": round(elapsed, 2),
            "cpu_us_per_call": round(cpu / max(done, 1) * 1e6, 1),
            "cpu_share": round(cpu / elapsed, 3), "peak_active": peak_active,
            "expected_active": round(rate * (hold + 0.1), 1), "rows": len(run),
            "rss_mb": round(rss_mb(), 1),
        }
        result["kept_up"] = bool(done == count and server.failed == 0 and len(run) == done
                                 and peak_active <= 2 * rate * (hold + 0.5) + 10)
    return result


async def memory(esl: str, server_port: int, n_open: int) -> dict[str, object]:
    app = HoldThenHangup(None)
    async with serve(app, port=server_port) as server:
        gc.collect()
        base = rss_mb()
        tracemalloc.start()
        heap0 = tracemalloc.get_traced_memory()[0]
        driver = start_driver(esl, min(200.0, n_open / 2), n_open)
        deadline = time.monotonic() + n_open / 50 + 30
        while len(server.active) < n_open and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        gc.collect()
        opened = len(server.active)
        grown = rss_mb() - base
        heap = tracemalloc.get_traced_memory()[0] - heap0
        tracemalloc.stop()
        app.release.set()
        while server.active and time.monotonic() < deadline + 30:
            await asyncio.sleep(0.1)
        driver.wait(10)
    return {"open_connections": opened, "rss_base_mb": round(base, 1),
            "rss_growth_mb": round(grown, 1),
            "rss_kb_per_open_connection": round(grown * 1024 / max(opened, 1), 1),
            "python_heap_kb_per_open_connection": round(heap / 1024 / max(opened, 1), 1)}


def start_sim(server_port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "sim", "--port", "0",
                             "--tick-ms", "1", "--socket-address", f"127.0.0.1:{server_port}",
                             "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"sim0@(\S+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError("switchlab sim did not start")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(args: argparse.Namespace) -> dict[str, object]:
    port = free_port()
    sim, esl = start_sim(port)
    try:
        rates = [sustained(esl, port, float(r), args.duration, args.hold)
                 for r in args.rates.split(",")]
        results = []
        for coro in rates:
            res = await coro
            print(json.dumps(res))
            results.append(res)
        mem = await memory(esl, port, args.open)
        print(json.dumps(mem))
    finally:
        sim.terminate()
        sim.wait(10)
    kept = [r["done_per_s"] for r in results if r["kept_up"]]
    return {
        "benchmark": "outbound_server", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "conditions": args.conditions, "hold_s": args.hold, "duration_s": args.duration,
        "sustained": results, "best_kept_up_cps": max(kept) if kept else None, "memory": mem,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="50,100,200", help="offered calls/s, comma-separated")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds of calls per rate")
    ap.add_argument("--hold", type=float, default=0.5, help="seconds the app holds each call")
    ap.add_argument("--open", type=int, default=500, help="calls held open for the memory figure")
    ap.add_argument("--conditions", default="", help="free text stored with the figures")
    ap.add_argument("--out", default=str(ROOT / "data" / "bench" / "outbound.json"))
    ap.add_argument("--drive", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rate", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.drive:
        asyncio.run(drive(a.drive, a.rate, a.count))
        sys.exit(0)
    report = asyncio.run(main(a))
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {a.out}")
