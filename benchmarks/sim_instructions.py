"""Instructions per emulated call (callgrind): this tree, and ``--before REF``'s.

One in-process turn of ``sim_render_ab.py`` (the emulator and the lean raw-socket client
of ``sim_throughput.py``: self-loop calls, both legs on the emulator, ten event types
subscribed, 400 calls/s, 0.2 s hold, the interpreter's default GC) is run under
``valgrind --tool=callgrind`` for ``--k1`` and for ``--k2`` calls; (N(k2) - N(k1)) /
(k2 - k1) user-space instructions is the cost of one call, start-up removed. It moves
far less than CPU time with the load of a shared machine, but the turn is paced by the
wall clock (timer buckets of 1 ms, event polls of 20 ms), so a slower run does a little
different work: about ±2 % between runs of one tree. Each tree's bytecode is compiled by
a short run first (a compile inside the k1 run would be subtracted from the calls).

    .venv/bin/python benchmarks/sim_instructions.py --before main

``--store`` counts the channels' variable store alone instead (exact: no sockets, no
timers): every set, template application, unset and render of 100 calls of this tree's
emulator (recorded once by ``sim_store_replay.record``, as plain Python) replayed on
fresh channels of each tree, compiled or not, ``--k1`` and ``--k2`` times (default 1
and 3); (N(k2) - N(k1)) / ((k2 - k1) * 100).

Needs ``valgrind``. Writes ``data/bench/sim_instructions.json``.
"""
from __future__ import annotations

import argparse
import json
import pickle
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench" / "sim_instructions.json"
#: one turn of N calls, run from a tree's root (its switchlab and benchmarks first on the path)
TURN = """
import asyncio, sys
sys.path[:0] = [{root!r}, {root!r} + '/benchmarks']
import sim_render_ab
n = int(sys.argv[1])
r = asyncio.run(sim_render_ab.one_turn('switchlab', n, 400, 200))
assert r['answered'] == n, r
"""
#: the variable store alone: 100 calls' operations (recorded once, by this tree's
#: sim_store_replay) replayed N times on the tree's channels
STORE = """
import pickle, sys
sys.path.insert(0, {root!r})
import switchlab
sys.path.insert(0, {bench!r})
import sim_store_replay
ops = pickle.load(open({ops!r}, 'rb'))
for _ in range(int(sys.argv[1])):
    sim_store_replay.replay('switchlab', ops)
"""
STORE_CALLS = 100


def instructions(root: Path, calls: int, code: str) -> int:
    """User-space instructions of one process running ``code`` with ``calls``."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          sys.executable, "-c", code, str(calls)],
                         capture_output=True, text=True, check=True, cwd=root)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def per_call(root: Path, k1: int, k2: int, ops: str = "") -> dict[str, Any]:
    """Instructions per call of ``root``'s tree: the turn, or (``ops``: a pickle of
    recorded store operations) the variable store's replay."""
    turn, unit = (STORE, STORE_CALLS) if ops else (TURN, 1)
    code = turn.format(root=str(root), bench=str(ROOT / "benchmarks"), ops=ops)
    subprocess.run([sys.executable, "-c", code, "1" if ops else "5"],
                   check=True, cwd=root, capture_output=True)  # compiles the bytecode
    n1, n2 = instructions(root, k1, code), instructions(root, k2, code)
    return {"instructions_k1": n1, "instructions_k2": n2,
            "per_call": round((n2 - n1) / ((k2 - k1) * unit))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="a git ref to measure too (exported to a temp dir, "
                    "run as pure Python), or a directory holding a built copy of a tree "
                    "(its switchlab and benchmarks: the same build, before a change)")
    ap.add_argument("--k1", type=int, help="calls (replays with --store) of the short run")
    ap.add_argument("--k2", type=int, help="calls (replays with --store) of the long run")
    ap.add_argument("--store", action="store_true",
                    help="count the variable store alone (replayed operations)")
    args = ap.parse_args()
    args.k1 = args.k1 or (1 if args.store else 50)
    args.k2 = args.k2 or (3 if args.store else 150)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed; install it (apt-get install valgrind)")
    result: dict[str, Any] = {"what": "variable store" if args.store else "turn",
                              "k1": args.k1, "k2": args.k2,
                              "python": platform.python_version(),
                              "machine": platform.machine()}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"after": ROOT}
        if args.before and Path(args.before).is_dir():
            trees = {"before": Path(args.before), "after": ROOT}
            result["before_tree"] = args.before
        elif args.before:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before,
                                      "switchlab", "benchmarks"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            trees = {"before": Path(tmp), "after": ROOT}
            result["before_ref"] = args.before
        ops = ""
        if args.store:  # one recording for both trees
            sys.path.insert(0, str(ROOT / "benchmarks"))
            import sim_store_replay
            ops = str(Path(tmp) / "store_ops.pickle")
            Path(ops).write_bytes(pickle.dumps(sim_store_replay.record(STORE_CALLS)))
        for label, root in trees.items():
            result[label] = per_call(root, args.k1, args.k2, ops)
            print(f"{label}: {result[label]['per_call']:,} instructions per call", flush=True)
    if "before" in result:
        result["before_over_after"] = round(
            result["before"]["per_call"] / result["after"]["per_call"], 3)
        print(f"before/after: {result['before_over_after']}")
    out = OUT.with_name("sim_store_instructions.json") if args.store else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
