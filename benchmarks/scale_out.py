"""Scale-out benchmark: calls/s and CPU per call of one load test run by 1 and
by 2 Dask worker processes (switchlab.scale), in one sitting, alternately
(1, 2, 2, 1 ...), each worker with its own emulated FreeSWITCH host.

    .venv/bin/python benchmarks/scale_out.py                        # 800 cps asked, 10 s
    .venv/bin/python benchmarks/scale_out.py --rate 1500 --seconds 20 --rounds 2

The target rate is set above what one process can do, so the achieved rate
says how far each configuration gets. CPU per call counts every worker
process (originator + its emulated hosts + Dask) and this client process
(status polls, gathering and journaling the rows). Writes
``data/bench/scale_out.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from switchlab.apps.players import TonePlay  # noqa: E402
from switchlab.scale import DistributedOriginator, open_cluster  # noqa: E402


def cpu_self() -> float:
    t = os.times()
    return t.user + t.system


async def one(workers: int, rate: float, seconds: float, hold: float) -> dict[str, Any]:
    cluster = open_cluster(workers=workers)
    try:
        dorig = DistributedOriginator(emulated_hosts=1, client=cluster.client, rate=rate,
                                      limit=int(rate * hold * 3) + 10, duration=hold,
                                      timeout=10, apps={"tone": TonePlay}, start_delay=0.5)
        await dorig.connect()
        cpu0 = [s.actor.cpu_seconds().result(10) for s in dorig.shards]
        me0 = cpu_self()
        dorig.start()
        await asyncio.sleep(dorig.start_delay + seconds)
        offered = dorig.stats()["offered"]
        dorig.stop()
        cpu1 = [s.actor.cpu_seconds().result(10) for s in dorig.shards]
        await dorig.wait(30)
        run = await dorig.close()
        me1 = cpu_self()
        workers_cpu = sum(b - a for a, b in zip(cpu0, cpu1))
        total = len(run)
        return {"workers": workers, "target_rate": rate, "seconds": seconds,
                "offered_in_window": offered, "calls_per_s": round(offered / seconds, 1),
                "rows": total, "answered": int((~run.df["failed"]).sum()),
                "worker_cpu_s": round(workers_cpu, 2), "client_cpu_s": round(me1 - me0, 2),
                "cpu_ms_per_call": round(1000 * (workers_cpu + me1 - me0) / max(total, 1), 3),
                "worker_cpu_ms_per_call": round(1000 * workers_cpu / max(offered, 1), 3)}
    finally:
        cluster.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=800.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=0.2)
    ap.add_argument("--rounds", type=int, default=1, help="ABBA rounds (1, 2, 2, 1 per round)")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "scale_out.json")
    args = ap.parse_args()
    results = []
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for n in (1, 2, 2, 1):
            r = await one(n, args.rate, args.seconds, args.hold)
            print(json.dumps(r))
            results.append(r)

    def mean(n: int, key: str) -> float:
        xs = [r[key] for r in results if r["workers"] == n]
        return round(sum(xs) / len(xs), 3)
    summary = {n: {k: mean(n, k) for k in ("calls_per_s", "cpu_ms_per_call",
                                           "worker_cpu_ms_per_call")} for n in (1, 2)}
    out = {"benchmark": "scale_out", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": {"cpus": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
                       "python": platform.python_version()},
           "conditions": ("2 vCPUs shared with other jobs running at the same time (a loaded "
                          "box): compare 1 vs 2 workers as ratios from this one sitting, taken "
                          "alternately; each worker also runs its own emulated host, so the "
                          "emulator's CPU is in the worker CPU"),
           "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                   "after": [round(x, 2) for x in os.getloadavg()]},
           "params": vars(args) | {"out": str(args.out)},
           "runs": results, "mean": summary,
           "speedup_2_vs_1": round(summary[2]["calls_per_s"] / summary[1]["calls_per_s"], 3)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["mean"]), "speedup", out["speedup_2_vs_1"])


if __name__ == "__main__":
    asyncio.run(main())
