"""Originator benchmark: sustained calls/s with the recorder on, against the
emulator running in its own process (``switchlab sim``).

    .venv/bin/python benchmarks/originator_load.py                 # 1000 cps for 60 s
    .venv/bin/python benchmarks/originator_load.py --rate 500 --seconds 20
    .venv/bin/python benchmarks/originator_load.py --loop asyncio    # not uvloop
    .venv/bin/python benchmarks/originator_load.py --trace-memory 25 # where RSS goes

Prints and writes ``data/bench/originator_load.json``: achieved rate (overall and
per 1 s window, against the target), p50/p99/max launch lag (how late each launch
was against its absolute schedule), answered/failed counts, CPU of this process
and of the emulator's over the same span (and their ratio),
bytes of memory per finished call (row store and process RSS), and the time to
build the DataFrame and KPIs of the run.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from simproc import (  # noqa: E402
    FAST_DUT, cpu_seconds, free_port, start_sim,
    stop_sim, store_result, wait_port,
)

from switchlab import Client  # noqa: E402
from switchlab.loops import LOOP_CHOICES, POLL_ENV, loop_kind, run, poll_ms_value  # noqa: E402
from switchlab.originator import LOAD_TEST_EVENTS, Originator  # noqa: E402
from switchlab.wire import native  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _top_growth(before: "tracemalloc.Snapshot", after: "tracemalloc.Snapshot", n: int,
                calls: int) -> list[dict]:
    """The ``n`` source lines whose live allocations grew most over the run."""
    stats = after.compare_to(before, "lineno")
    return [{"where": str(st.traceback[0]), "bytes_per_call": st.size_diff / max(calls, 1),
             "blocks": st.count_diff} for st in stats[:n]]


async def bench(rate: float, seconds: float, hold: float, mode: str,
                trace_memory: int = 0, poll_ms: float = 0.0, keep_sessions: bool = False) -> dict:
    port = free_port()
    sim = start_sim(port, *FAST_DUT)
    try:
        await wait_port(port)
        client = Client("127.0.0.1", port, events=LOAD_TEST_EVENTS)
        await client.connect()
        if mode == "loop":  # through the DUT back to this host; the dialplan answers
            ip, sip_port = await client.sip_address("external")
            dest, proxy = f"answer@{ip}:{sip_port}", "127.0.0.1:5070"
        else:  # the DUT answers: one leg per call
            dest, proxy = "bench@127.0.0.1:5070", None
        total = int(rate * seconds)
        orig = Originator([client], dest=dest, proxy=proxy, rate=rate,
                          limit=int(rate * (hold + 2) * 2), duration=hold, max_offered=total)
        orig.recorder.hand_over = not keep_sessions
        gc.collect()
        if trace_memory:
            tracemalloc.start(1)
            snap0 = tracemalloc.take_snapshot()
        rss0 = rss_bytes()
        cpu0, sim_cpu0 = time.process_time(), cpu_seconds(sim.pid)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        orig.start()
        mid: dict = {}
        if trace_memory:
            async def mid_snapshot() -> None:  # the working set of the calls in flight
                await asyncio.sleep(seconds / 2)
                mid["active"] = orig.recorder.active
                mid["snap"] = tracemalloc.take_snapshot()
            mid_task = asyncio.ensure_future(mid_snapshot())
        await orig.wait(seconds + 120, calls=False)
        launch_end = time.monotonic()
        await orig.wait(hold + 60)
        t1 = time.monotonic()
        cpu1, sim_cpu1 = time.process_time(), cpu_seconds(sim.pid)
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        rss1 = rss_bytes()
        if trace_memory:
            gc.collect()
            growth = _top_growth(snap0, tracemalloc.take_snapshot(), trace_memory,
                                 orig.recorder.finished)
            await mid_task
            in_flight = _top_growth(snap0, mid["snap"], trace_memory, mid["active"])
            in_flight_total = sum(st.size_diff for st in mid["snap"].compare_to(snap0, "filename"))
            tracemalloc.stop()
        run = await orig.close()
        tb = time.perf_counter()
        df = run.df
        kpis = df.calls.kpis()
        build_s = time.perf_counter() - tb
    finally:
        err = stop_sim(sim)
        if err:
            print("emulator said:", err, file=sys.stderr)
    lags = np.asarray(orig.launch_lags)
    launches = np.sort(df["rx_launch"].to_numpy(dtype=float))
    span = launches[-1] - launches[0]
    # per-second windows inside the launch period (skip a partial first/last second)
    edges = launches[0] + np.arange(1, int(span))
    per_s = np.diff(np.searchsorted(launches, edges)) if edges.size > 1 else np.array([])
    row = kpis.loc["all"]
    out = {
        "loop": loop_kind(None, poll_ms), "poll_ms": poll_ms, "mode": mode, "target_rate": rate, "seconds": seconds, "hold_s": hold,
        "compiled_modules": native.compiled_modules(),
        "offered": int(len(df)), "answered": int((~df.failed).sum()),
        "failed": int(df.failed.sum()),
        "causes": {str(k): int(v) for k, v in df.hangup_cause.value_counts().items()},
        "achieved_rate": (len(launches) - 1) / span if span > 0 else None,
        "achieved_vs_target_pct": 100.0 * ((len(launches) - 1) / span - rate) / rate,
        "per_second_rate_min": float(per_s.min()) if per_s.size else None,
        "per_second_rate_max": float(per_s.max()) if per_s.size else None,
        "launch_lag_ms": {"p50": float(np.percentile(lags, 50) * 1e3),
                          "p99": float(np.percentile(lags, 99) * 1e3),
                          "max": float(lags.max() * 1e3)},
        "launch_period_s": launch_end - t0, "drain_s": t1 - launch_end,
        "cpu_s": cpu1 - cpu0, "cpu_share_of_one_core": (cpu1 - cpu0) / (t1 - t0),
        "cpu_ms_per_call": 1e3 * (cpu1 - cpu0) / max(len(df), 1),
        # of which in the kernel (system calls, loopback TCP), and the wake-ups from a wait
        "sys_ms_per_call": 1e3 * (ru1.ru_stime - ru0.ru_stime) / max(len(df), 1),
        "wakeups_per_call": (ru1.ru_nvcsw - ru0.ru_nvcsw) / max(len(df), 1),
        # the emulator's CPU (its own process, same span) per call, and against this one's
        "emulator_cpu_ms_per_call": 1e3 * (sim_cpu1 - sim_cpu0) / max(len(df), 1),
        "emulator_over_originator_cpu": (sim_cpu1 - sim_cpu0) / max(cpu1 - cpu0, 1e-9),
        "row_store_bytes_per_call": run.store_nbytes / max(len(run), 1),
        "rss_growth_bytes_per_call": (rss1 - rss0) / max(len(run), 1),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "df_and_kpis_s": build_s,
        "setup_latency_p50_ms": float(row["setup_latency.p50"] * 1e3),
        "setup_latency_p99_ms": float(row["setup_latency.p99"] * 1e3),
    }
    if trace_memory:
        out["tracemalloc_top_growth"] = growth
        out["tracemalloc_in_flight"] = {
            "active_calls": mid["active"], "bytes_per_active_call": in_flight_total / max(mid["active"], 1),
            "top": in_flight}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--hold", type=float, default=1.0, help="seconds each call is held")
    ap.add_argument("--mode", choices=("loop", "dut"), default="loop",
                    help="loop: both legs on the emulated host (through the DUT); "
                         "dut: the DUT answers (one leg)")
    ap.add_argument("--loop", choices=LOOP_CHOICES, default=None,
                    help="event loop of this process (default: auto, uvloop where installed)")
    ap.add_argument("--poll-ms", type=float, default=None,
                    help="wake this process at most once every this many ms (asyncio loop; "
                         "switchlab.loops); default: $SWITCHLAB_POLL_MS, else not paced")
    ap.add_argument("--trace-memory", type=int, default=0, metavar="N",
                    help="trace allocations (slower) and report the N lines that grew most")
    ap.add_argument("--keep-sessions", action="store_true",
                    help="the listener keeps a session and a call for every channel (the "
                         "recorder's hand-over off: switchlab.state.handover)")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "originator_load.json")
    args = ap.parse_args()
    if args.loop:
        os.environ["SWITCHLAB_LOOP"] = args.loop
    poll = poll_ms_value(args.poll_ms)
    os.environ.pop(POLL_ENV, None)  # this process only: not the emulator's
    res = run(bench(args.rate, args.seconds, args.hold, args.mode, args.trace_memory, poll,
                    args.keep_sessions), poll_ms=poll)
    for k, v in res.items():
        print(f"{k:28} {v}")
    res["keep_sessions"] = args.keep_sessions
    store_result(args.out, f"{args.mode}_{args.rate:g}cps_{res['loop']}"
                 + ("_sessions" if args.keep_sessions else ""), res)


if __name__ == "__main__":
    main()
