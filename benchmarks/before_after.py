"""Per-call cost, before and after, measured in one sitting (issue 12, client side).

Extracts ``--before`` (a git ref) into a temporary directory and runs, in
alternation for ``--rounds`` rounds, the same two benchmarks on both trees:

* ``esl_throughput.py --only switchlab`` (six values read per event): events/s per core;
* ``originator_load.py`` (recorder on, emulator in its own process): CPU ms per
  call, launch lag, pacing, RSS growth.

Both trees run on pure asyncio and on uvloop (when installed; a "before" tree
older than ``--loop`` runs on its default). A ``--loops`` entry ``pollN`` runs
the "after" tree's originator on asyncio woken at most every N ms
(``--poll-ms N``, :mod:`switchlab.loops`), compared with "before" on asyncio. Alternating the variants spreads a
loaded machine's noise over all of them; the medians and the ratios of each
"after" variant to the "before" one on the same loop go to
``data/bench/per_call_cost.json`` (``--out``).

    .venv/bin/python benchmarks/before_after.py --before 4b20e31 --rounds 3
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench" / "per_call_cost.json"


#: figures whose median is compared to the "before" tree's (a ratio < 1 is less CPU)
RATIOS = ("events_per_cpu_s", "cpu_ms_per_call", "launch_lag_p50_ms", "launch_lag_p99_ms")


def machine(load: list) -> dict:
    """The machine a report comes from, with the load averages seen during the run."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_average_1_5_15": load}


def compiled_modules(tree: Path) -> list[str]:
    """The modules of ``tree``'s switchlab that run compiled (mypyc; ``switchlab.wire.native``):
    the wire's by name (``events``), the emulator's as ``sim.<name>``; none for a tree
    from before it, or an extracted tree (nothing built there)."""
    code = ("import switchlab.wire as w\n"
            "try:\n    from switchlab.wire import native as n\n"
            "except ImportError:\n    print('')\nelse:\n"
            "    import switchlab.sim\n"
            "    sim = n.compiled_modules('switchlab.sim') if hasattr(n, 'COMPILED_GROUPS') else []\n"
            "    print(' '.join(n.compiled_modules() + ['sim.' + m for m in sim]))")
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(tree))
    return out.stdout.split()


def write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


def extract(ref: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "switchlab", "benchmarks",
                              "tests/data/fs-wire"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


#: Suffix of a loop in --loops: run the "after" tree as plain Python (SWITCHLAB_PURE=1).
PURE = "+pure"


def _loop_args(loop: str | None) -> list[str]:
    """``--loop`` (and ``--poll-ms``) arguments of a variant's loop: "asyncio", "uvloop",
    "pollN" (asyncio paced to N ms) or None (the tree's default); a "+pure" suffix
    (same loop, ``SWITCHLAB_PURE=1``: the compiled modules run as Python) is set by
    :func:`_run`."""
    if loop is None:
        return []
    loop = loop.removesuffix(PURE)
    if loop.startswith("poll"):
        return ["--loop", "asyncio", "--poll-ms", loop[4:]]
    return ["--loop", loop]


def _run(tree: Path, script: str, args: list[str], loop: str | None, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("SWITCHLAB_LOOP", None)
    env.pop("SWITCHLAB_POLL_MS", None)
    env.pop("SWITCHLAB_PURE", None)
    if loop is not None and loop.endswith(PURE):
        env["SWITCHLAB_PURE"] = "1"
    cmd = [sys.executable, str(tree / "benchmarks" / script), *args, "--out", str(out),
           *_loop_args(loop)]
    subprocess.run(cmd, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=900)
    return json.loads(out.read_text())


def esl(tree: Path, loop: str | None, events: int, tmp: Path) -> dict:
    data = _run(tree, "esl_throughput.py", ["--only", "switchlab", "--events", str(events),
                                            "--repeat", "1"], loop, tmp / "esl.json")
    (r,) = data["results"]
    return {"events_per_cpu_s": r["events_per_cpu_s"], "correct": r["correct"]}


def originator(tree: Path, loop: str | None, rate: float, seconds: float, hold: float,
               tmp: Path) -> dict:
    out = tmp / "orig.json"
    out.unlink(missing_ok=True)
    (r,) = _run(tree, "originator_load.py", ["--rate", f"{rate:g}", "--seconds", f"{seconds:g}",
                                             "--hold", f"{hold:g}"], loop, out).values()
    return {"cpu_ms_per_call": 1e3 * r["cpu_s"] / r["offered"],
            "launch_lag_p99_ms": r["launch_lag_ms"]["p99"],
            "launch_lag_p50_ms": r["launch_lag_ms"]["p50"],
            "achieved_vs_target_pct": r["achieved_vs_target_pct"],
            "rss_growth_bytes_per_call": r["rss_growth_bytes_per_call"],
            "setup_latency_p50_ms": r["setup_latency_p50_ms"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default="4b20e31", help="git ref of the 'before' tree")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rate", type=float, default=300.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--hold", type=float, default=1.0, help="originator_load --hold")
    ap.add_argument("--only", choices=("esl", "originator"), default=None,
                    help="run one of the two benchmarks (default: both)")
    ap.add_argument("--loops", default=None,
                    help="comma-separated loops of the 'after' tree (default: asyncio and, "
                         "when installed, uvloop); pollN: asyncio woken at most every N ms; "
                         "a +pure suffix (e.g. uvloop+pure): that loop with SWITCHLAB_PURE=1")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    try:
        import uvloop  # noqa: F401
        loops = ["asyncio", "uvloop"]
    except ImportError:
        loops = ["asyncio"]
    if args.loops:
        loops = [k.strip() for k in args.loops.split(",") if k.strip()]
    samples: dict[str, dict[str, list]] = {}
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory() as d:
        before, tmp = Path(d) / "before", Path(d) / "out"
        before.mkdir()
        tmp.mkdir()
        extract(args.before, before)
        compiled = {"before": compiled_modules(before), "after": compiled_modules(ROOT)}
        # a "before" tree that knows --loop runs on each loop too (else on its default),
        # and on each poll interval when it knows --poll-ms
        script = (before / "benchmarks" / "originator_load.py").read_text()
        knows_loops, knows_poll = "--loop" in script, "--poll-ms" in script
        variants = ([(f"before-{k}", before, k) for k in loops
                     if (knows_poll or not k.startswith("poll")) and not k.endswith(PURE)]
                    if knows_loops else [("before", before, None)]) + [
            (f"after-{k}", ROOT, k) for k in loops]
        for name, _tree, _loop in variants:
            samples[name] = {}
        for rnd in range(args.rounds):
            for name, tree, loop in variants:
                got = {}
                if args.only != "originator" and not (loop or "").startswith("poll"):
                    got.update(esl(tree, loop, args.events, tmp))
                if args.only != "esl":
                    got.update(originator(tree, loop, args.rate, args.seconds, args.hold, tmp))
                for k, v in got.items():
                    samples[name].setdefault(k, []).append(v)
                print(f"round {rnd + 1} {name:14s} " + "  ".join(
                    f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in got.items()),
                      flush=True)
            load.append(os.getloadavg())
    medians = {name: {k: statistics.median(v) if k != "correct" else all(v) for k, v in s.items()}
               for name, s in samples.items()}
    ratios = {}
    for name, m in medians.items():
        if name.startswith("after-"):  # against the same loop's "before", else "before"
            kind = name[len("after-"):].removesuffix(PURE)
            base = (medians.get("before-" + kind)
                    or medians.get("before-" + ("asyncio" if kind.startswith("poll") else kind))
                    or medians["before"])
            ratios[name] = {k: m[k] / base[k] for k in RATIOS if k in m and base.get(k)}
    report = {
        "benchmark": "per_call_cost (before/after, one sitting)",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "before": args.before,
        "after": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip() + " (+ worktree)",
        "machine": machine(load),
        "compiled_modules": compiled,
        "method": (f"{args.rounds} rounds, variants alternated within each round; medians. "
                   + ("" if args.only == "originator" else
                      f"esl_throughput --only switchlab --events {args.events} --repeat 1; ")
                   + ("" if args.only == "esl" else
                      f"originator_load --rate {args.rate:g} --seconds {args.seconds:g} "
                      f"--hold {args.hold:g} (emulator: `switchlab sim`, its own process, same "
                      "for every variant)")),
        "samples": samples, "medians": medians, "ratios_to_before": ratios,
    }
    for name, r in ratios.items():
        print(f"{name}: " + ", ".join(f"{k} x{v:.2f}" for k, v in r.items()))
    write(args.out, report)


if __name__ == "__main__":
    main()
