"""Soak benchmark: many calls (default 1 000 000) with the recorder on and a run
directory, against the emulator running in its own process (``switchlab sim``).

    .venv/bin/python benchmarks/soak.py                              # 1 M calls at 1000 cps
    .venv/bin/python benchmarks/soak.py --calls 20000 --rate 300 --max-seconds 600

Every ``--sample-s`` seconds it samples the RSS of this process (the originator)
and of the emulator, calls offered and finished (rows written) and the p99 launch
lag of the launches in that window. At the end: the RSS slope per call (bytes per
finished call, a linear fit of RSS against rows after the warm-up), launch-lag p99
over time, and rows lost = offered - rows in the run loaded back from its
directory (must be 0). Stops by itself after ``--calls`` calls or
``--max-seconds``. Prints a table and writes ``data/bench/soak.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from originator_load import rss_bytes  # noqa: E402
from simproc import (  # noqa: E402
    FAST_DUT, free_port, pid_rss, start_sim,
    stop_sim, store_result, wait_port,
)

from switchlab import Client  # noqa: E402
from switchlab.measure.run import load  # noqa: E402
from switchlab.originator import LOAD_TEST_EVENTS, Originator  # noqa: E402


def machine() -> dict[str, Any]:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                      if ln.startswith("Model name")), "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    load1 = os.getloadavg()[0]
    return {"cpu_model": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average_at_start": round(load1, 2)}


def slope_per_call(samples: list[dict[str, Any]], warmup: float) -> float | None:
    """Bytes of RSS per finished call: least squares over samples after the warm-up."""
    rows = np.array([s["rows"] for s in samples], dtype=float)
    rss = np.array([s["rss_mb"] * 2**20 for s in samples], dtype=float)
    keep = rows >= warmup * (rows.max() if rows.size else 0)
    if keep.sum() < 3 or np.ptp(rows[keep]) == 0:
        return None
    return float(np.polyfit(rows[keep], rss[keep], 1)[0])


async def soak(calls: int, rate: float, hold: float, mode: str, sample_s: float,
               max_seconds: float, warmup: float) -> dict[str, Any]:
    port = free_port()
    sim = start_sim(port, *FAST_DUT)
    run_dir = Path(tempfile.mkdtemp(prefix="switchlab-soak-")) / "run"
    samples: list[dict[str, Any]] = []
    try:
        await wait_port(port)
        client = Client("127.0.0.1", port, events=LOAD_TEST_EVENTS)
        await client.connect()
        if mode == "loop":
            ip, sip_port = await client.sip_address("external")
            dest, proxy = f"answer@{ip}:{sip_port}", "127.0.0.1:5070"
        else:
            dest, proxy = "soak@127.0.0.1:5070", None
        limit = int(rate * (hold + 2) * 2)
        orig = Originator([client], dest=dest, proxy=proxy, rate=rate,
                          limit=limit, duration=hold, max_offered=calls,
                          run_dir=str(run_dir))
        t0 = time.monotonic()
        cpu0 = time.process_time()
        orig.start()
        seen_lags = 0
        stopped_by_time = False
        while True:
            await asyncio.sleep(sample_s)
            lags = orig.launch_lags
            window = np.asarray(lags[seen_lags:], dtype=float)
            seen_lags = len(lags)
            now = time.monotonic() - t0
            samples.append({
                "t_s": round(now, 2), "offered": orig.total_originated,
                "rows": len(orig.run),
                "active": orig.count_active, "rss_mb": round(rss_bytes() / 2**20, 2),
                "sim_rss_mb": round(pid_rss(sim.pid) / 2**20, 2),
                "lag_p99_ms": round(float(np.percentile(window, 99)) * 1e3, 3)
                if window.size else None,
                "launches": int(window.size)})
            s = samples[-1]
            print(f"{s['t_s']:>8.1f}s offered {s['offered']:>8} rows {s['rows']:>8} active "
                  f"{s['active']:>6} rss {s['rss_mb']:>8.1f} MB sim {s['sim_rss_mb']:>8.1f} MB "
                  f"lag p99 {s['lag_p99_ms']} ms", flush=True)
            if await orig.wait(0, calls=True):
                break
            if now >= max_seconds:
                stopped_by_time = True
                break
        offered = orig.total_originated
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        run = await orig.close()
        store_per_call = run.store_nbytes / max(offered, 1)
        loaded = load(run_dir)
        rows_loaded = len(loaded.df)
        failed = int(loaded.df.failed.sum())
        launches = np.sort(loaded.df["rx_launch"].to_numpy(dtype=float))
        span = float(launches[-1] - launches[0]) if launches.size > 1 else 0.0
        causes = {str(k): int(v) for k, v in loaded.df.hangup_cause.value_counts().items()}
    finally:
        err = stop_sim(sim)
    all_lags = np.asarray(orig.launch_lags, dtype=float)
    p99s = [s["lag_p99_ms"] for s in samples if s["lag_p99_ms"] is not None]
    return {
        "calls_asked": calls, "target_rate": rate, "hold_s": hold, "mode": mode,
        "concurrent_call_limit": limit,
        "stopped_by_max_seconds": stopped_by_time, "offered": offered,
        "rows_in_loaded_run": rows_loaded, "rows_lost": offered - rows_loaded,
        "failed": failed, "causes": causes, "wall_s": round(wall, 1),
        "achieved_rate": round((len(launches) - 1) / span, 1) if span > 0 else None,
        "cpu_share_of_one_core": round(cpu / wall, 3) if wall else None,
        "rss_slope_bytes_per_call": slope_per_call(samples, warmup),
        "rss_start_mb": samples[0]["rss_mb"] if samples else None,
        "rss_end_mb": samples[-1]["rss_mb"] if samples else None,
        "sim_rss_end_mb": samples[-1]["sim_rss_mb"] if samples else None,
        "row_store_bytes_per_call": round(store_per_call, 1),
        "launch_lag_ms": {"p50": float(np.percentile(all_lags, 50) * 1e3),
                          "p99": float(np.percentile(all_lags, 99) * 1e3),
                          "max": float(all_lags.max() * 1e3)} if all_lags.size else None,
        "launch_lag_p99_ms_per_window": {"min": min(p99s), "max": max(p99s),
                                         "first": p99s[0], "last": p99s[-1]} if p99s else None,
        "warmup_fraction": warmup, "sample_s": sample_s, "samples": samples,
        "emulator_stderr_tail": err,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=1000.0, help="calls per second")
    ap.add_argument("--hold", type=float, default=1.0, help="seconds each call is held")
    ap.add_argument("--mode", choices=("loop", "dut"), default="loop",
                    help="loop: both legs on the emulated host (through the DUT); "
                         "dut: the DUT answers (one leg)")
    ap.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="stop launching after this long (default: 2 x calls/rate + 60)")
    ap.add_argument("--warmup", type=float, default=0.2,
                    help="fraction of the rows before the RSS fit starts")
    ap.add_argument("--note", default="", help="free text stored with the result")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "soak.json")
    args = ap.parse_args()
    if args.calls < 1 or args.rate <= 0 or args.sample_s <= 0:
        ap.error("--calls, --rate and --sample-s must be positive")
    max_seconds = args.max_seconds or 2 * args.calls / args.rate + 60
    res = asyncio.run(soak(args.calls, args.rate, args.hold, args.mode, args.sample_s,
                           max_seconds, args.warmup))
    res["machine"] = machine()
    res["note"] = args.note
    res["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for k, v in res.items():
        if k not in ("samples", "emulator_stderr_tail"):
            print(f"{k:30} {v}")
    store_result(args.out, f"{args.mode}_{args.calls}calls_{args.rate:g}cps", res)
    if res["rows_lost"] != 0:
        print(f"ROWS LOST: {res['rows_lost']}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
