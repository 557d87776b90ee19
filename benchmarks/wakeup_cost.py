"""What one wake-up from idle costs the originator, in CPU: the same work, with sleeps.

A capture of ``originator_replay.py`` (a real load test's received chunks and
commands) is replayed through the real client side, once as is and once with
the process sleeping ``--sleep-ms`` before every ``k``-th received chunk, as
a load test's process sleeps between two wake-ups of its event loop. The
work is the same in every run; only the idle gaps differ. The CPU per call
(process time, fastest round) rises with the number of wake-ups: what the
extra costs per wake-up is the figure, and the reason ``switchlab.loops``
offers a poll interval (``--poll-ms``: fewer, fuller wake-ups).

    .venv/bin/python benchmarks/originator_replay.py --capture /tmp/cap.pkl --rate 300 --seconds 5
    .venv/bin/python benchmarks/wakeup_cost.py --replay /tmp/cap.pkl --sleep-ms 1 2 --every 1 3 10 30

Each setting runs in a subprocess, the settings alternated ``--pairs`` times;
writes ``data/bench/wakeup_cost.json``. The figure depends on the machine (CPU
idle states, what else runs on the core while this process sleeps): run it on
an otherwise idle machine and say which one.
"""
from __future__ import annotations

import argparse
import os
import pickle
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from simproc import store_result  # noqa: E402


def _child(path: Path, rounds: int, sleep_ms: float, every: int) -> None:
    """Replay with a sleep before every ``every``-th chunk; print the fastest µs per call."""
    sys.path.insert(0, str(ROOT))
    import originator_replay
    from switchlab.esl.stream import ESLStream

    received = ESLStream.data_received
    count = [0]

    def data_received(self: Any, data: bytes) -> None:
        count[0] += 1
        if sleep_ms and count[0] % every == 0:
            time.sleep(sleep_ms / 1000)
        received(self, data)

    ESLStream.data_received = data_received  # type: ignore[method-assign]
    originator_replay.replay(path, rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replay", type=Path, required=True, help="a capture of originator_replay.py")
    ap.add_argument("--sleep-ms", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--every", type=int, nargs="+", default=[1, 3, 10, 30])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--child", nargs=2, type=float, metavar=("SLEEP_MS", "EVERY"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "wakeup_cost.json")
    args = ap.parse_args()
    if args.child:
        _child(args.replay, args.rounds, args.child[0], int(args.child[1]))
        return
    log = pickle.loads(args.replay.read_bytes())
    chunks = sum(1 for kind, _ in log if kind == "rx")
    calls = sum(1 for kind, data in log if kind == "tx" and data.startswith(b"bgapi originate"))
    settings = [(0.0, 1)] + [(s, k) for s in args.sleep_ms for k in args.every]
    best: dict[tuple[float, int], float] = {}
    for _ in range(args.pairs):
        for sleep_ms, every in settings:
            said = subprocess.run(
                [sys.executable, __file__, "--replay", str(args.replay), "--rounds",
                 str(args.rounds), "--child", str(sleep_ms), str(every)],
                check=True, capture_output=True, text=True).stdout
            us = float(said.split()[1])
            best[sleep_ms, every] = min(best.get((sleep_ms, every), us), us)
    base = best[0.0, 1]
    rows = []
    print(f"{chunks / calls:.2f} received chunks per call; CPU per call, fastest round:")
    print(f"{'sleep':>6} {'every':>6} {'wake-ups/call':>14} {'us/call':>9} {'extra us/wake-up':>17}")
    for (sleep_ms, every), us in best.items():
        wakes = chunks / calls / every if sleep_ms else 0.0
        extra = (us - base) / wakes if wakes else 0.0
        rows.append({"sleep_ms": sleep_ms, "every": every, "wakeups_per_call": wakes,
                     "cpu_us_per_call": us, "extra_us_per_wakeup": extra})
        print(f"{sleep_ms:6g} {every:6d} {wakes:14.2f} {us:9.1f} {extra:17.1f}")
    store_result(args.out, time.strftime("%Y-%m-%dT%H:%M:%S"), {
        "capture": args.replay.name, "calls": calls, "chunks": chunks,
        "method": f"fastest of {args.rounds} rounds x {args.pairs} alternated sweeps, "
                  "process time of the replay",
        "rows": rows,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor(),
                    "python": platform.python_version(), "load_average": os.getloadavg()}})


if __name__ == "__main__":
    main()
