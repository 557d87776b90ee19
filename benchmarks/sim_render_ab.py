"""The emulator's CPU per call, before and after, alternated in ONE process.

The ``--before`` git ref's ``switchlab`` is exported beside this tree as the package
``switchlab_before`` (the emulator imports only relatively), and both emulators serve
the same load in turns, in this process: one lean raw-socket client (the one of
``sim_throughput.py``, same ten subscribed events) originates ``--calls`` self-loop
calls (both legs on the emulator, answered, held ``--hold-ms``, hung up) at
``--rate`` calls/s, and the CPU time of the process (``time.process_time()``: the
emulator and the client) from the first originate until every channel is gone is
divided by the calls. ``--rounds`` turns each, the order swapped every round; the
fastest turn of each side is kept (the least disturbed by other processes on a shared
machine) and the ratio before/after reported, with the medians. Both sides must
answer every call and deliver the same events.

    .venv/bin/python benchmarks/sim_render_ab.py --before main --rounds 7

``--store`` also times the channels' variable store alone, without sockets or timers
(``sim_store_replay.py``): every ``set_var``, ``set_vars``, ``apply`` (template and
facts), ``unset_var`` and render of the variable block that 300 calls made (recorded
from this tree's emulator) is replayed on fresh channels of each tree, alternately,
fastest of ``--rounds``; both trees' blocks must be identical.

Writes ``data/bench/sim_render_ab.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import sim_store_replay  # noqa: E402
from sim_throughput import SUBSCRIBED, LeanClient, command  # noqa: E402

OUT = ROOT / "data" / "bench" / "sim_render_ab.json"
#: one self-loop call: both legs on the emulator, the outbound one hangs up after the hold
ORIGINATE = ("bgapi originate {origination_caller_id_number=1000}"
             "sofia/external/answer@127.0.0.1:5080 &sleep(%d)\n"
             "Job-UUID: %08d-0000-4000-8000-000000000000\n\n")


def export_before(ref: str, tmp: Path) -> str:
    """``ref``'s switchlab package as ``switchlab_before`` under ``tmp`` (on sys.path)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "switchlab"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    (tmp / "switchlab").rename(tmp / "switchlab_before")
    sys.path.insert(0, str(tmp))
    return "switchlab_before"


async def one_turn(package: str, calls: int, rate: float, hold_ms: int) -> dict[str, Any]:
    """``calls`` calls against the emulator of ``package``; CPU per call and what came back."""
    sim = importlib.import_module(f"{package}.sim")
    dut = sim.DUTModel(seed=1, ringing_ms=1, ring_ms=2, answer_probability=1.0, failures={})
    async with sim.Emulator(hosts=1, port=0, dut=dut, tick_us=1000, heartbeat_s=3600) as fs:
        host, port = fs.esl_addresses[0]
        _, client = await asyncio.get_running_loop().create_connection(LeanClient, host, port)
        await client.replies.get()
        assert b"+OK accepted" in await command(client, "auth ClueCon")
        assert b"+OK" in await command(client, f"event plain {SUBSCRIBED}")
        gc.collect()
        cpu0, t0 = time.process_time(), time.monotonic()
        sent = 0
        while sent < calls:
            due = min(calls, int((time.monotonic() - t0) * rate) + 1)
            if due > sent:
                assert client.transport is not None
                client.transport.write("".join(
                    [ORIGINATE % (hold_ms, k) for k in range(sent, due)]).encode())
                sent = due
            await asyncio.sleep(0.002)
        deadline = time.monotonic() + hold_ms / 1000 + 60
        while (client.jobs_ok + sum(client.jobs_err.values()) < calls or client.live) \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - t0
        assert client.transport is not None
        client.transport.close()
    return {"cpu_ms_per_call": round(1000 * cpu / calls, 4), "wall_s": round(wall, 2),
            "answered": client.jobs_ok, "failed": client.jobs_err, "events": client.events,
            "kbytes_per_call": round(client.bytes / calls / 1000, 2),
            "load_average": round(os.getloadavg()[0], 2)}


def store_ab(packages: dict[str, str], calls: int, rounds: int) -> dict[str, Any]:
    """The variable store alone, both trees alternately: µs per call, fastest round."""
    ops = sim_store_replay.record(calls)
    best = {label: float("inf") for label in packages}
    reference: list[str] | None = None
    for k in range(rounds):
        for label in (list(packages) if k % 2 == 0 else list(packages)[::-1]):
            elapsed, blocks = sim_store_replay.replay(packages[label], ops)
            best[label] = min(best[label], elapsed)
            if reference is None:
                reference = blocks
            assert blocks == reference, f"{label}: the variable blocks differ"
    us = {label: round(1e6 * t / calls, 1) for label, t in best.items()}
    print(f"variable store alone, µs per call (fastest of {rounds}): {us}", flush=True)
    return {"operations": len(ops), "us_per_call_fastest": us,
            "ratio_before_over_after": round(us["before"] / us["after"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default="main", help="git ref to compare with this tree")
    for flag, default in (("--rounds", 7), ("--calls", 1000), ("--hold-ms", 200)):
        ap.add_argument(flag, type=int, default=default)
    ap.add_argument("--rate", type=float, default=400.0, help="originates per second")
    ap.add_argument("--store", action="store_true",
                    help="also replay the variable store's operations alone")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="switchlab-ab-"))
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    store = None
    try:
        packages = {"before": export_before(args.before, tmp), "after": "switchlab"}
        if args.store:
            store = store_ab(packages, 300, max(args.rounds, 7))
        for k in range(args.rounds):
            order = ["before", "after"] if k % 2 == 0 else ["after", "before"]
            for label in order:
                r = asyncio.run(one_turn(packages[label], args.calls, args.rate, args.hold_ms))
                runs[label].append(r)
                print(f"round {k + 1} {label:6} cpu/call {r['cpu_ms_per_call']:.3f} ms  "
                      f"answered {r['answered']}  {r['kbytes_per_call']} KB/call  "
                      f"load {r['load_average']}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for label, rs in runs.items():
        bad = [r for r in rs if r["answered"] != args.calls or r["failed"]]
        assert not bad, f"{label}: not every call answered: {bad[0]}"
    assert runs["before"][0]["events"] == runs["after"][0]["events"], "different events"
    best = {label: min(r["cpu_ms_per_call"] for r in rs) for label, rs in runs.items()}
    med = {label: statistics.median(r["cpu_ms_per_call"] for r in rs)
           for label, rs in runs.items()}
    result = {
        "benchmark": "sim_render_ab",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "event_loop": "asyncio"},
        "method": __doc__.split("\n\n")[1].replace("\n", " "),
        "before": args.before,
        "after": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip() + " (+ work tree)",
        "conditions": {"calls": args.calls, "rate_cps": args.rate, "hold_ms": args.hold_ms,
                       "rounds": args.rounds},
        "fastest_cpu_ms_per_call": best,
        "median_cpu_ms_per_call": med,
        "ratio_before_over_after_fastest": round(best["before"] / best["after"], 3),
        "ratio_before_over_after_median": round(med["before"] / med["after"], 3),
        "variable_store_alone": store,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for key in ("fastest_cpu_ms_per_call", "median_cpu_ms_per_call",
                "ratio_before_over_after_fastest", "ratio_before_over_after_median",
                "variable_store_alone"):
        print(f"{key:34} {result[key]}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
