"""The ESL read path alone, before and after, alternated in one process.

``Event`` of the ``--before`` git ref (its ``switchlab/wire/events.py``,
loaded beside today's) and today's ``Event``, each made the way its
connection makes it (before: from the frame body; today: from the bytes
``FrameParser.feed_mixed`` gives, the body behind a newline), read the same 6 000 real
FreeSWITCH 1.11 events (the esl_throughput stream: 600 templates, UUIDs
rotated per round) in alternation, ``--rounds`` times: six values per event
(Event-Name, Unique-ID, Event-Date-Timestamp, Channel-Name,
variable_switch_r_sdp, the BACKGROUND_JOB body) and the name only. No socket,
no parser: only the lookups. The fastest round of each is kept (the least
disturbed by other processes) and both trees' values are compared.

    .venv/bin/python benchmarks/read_path_ab.py --before 4b20e31

Writes ``data/bench/read_path_ab.json``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import esl_throughput as stream  # noqa: E402
from before_after import machine, write  # noqa: E402

from switchlab.wire import FrameParser  # noqa: E402
from switchlab.wire import events as after  # noqa: E402

OUT = ROOT / "data" / "bench" / "read_path_ab.json"
SDP = stream.SDP


def load_before(ref: str, tmp: Path) -> object:
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:switchlab/wire/events.py"],
                         check=True, capture_output=True).stdout
    path = tmp / "events_before.py"
    path.write_bytes(src)
    spec = importlib.util.spec_from_file_location("switchlab.wire._events_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readers(make: object, bodies: list[bytes]) -> dict:
    """The two readings over ``bodies``, each event made by ``make(body)``."""
    def six() -> list[tuple]:
        out = []
        append = out.append
        for b in bodies:
            ev = make(b)  # type: ignore[operator]
            name = ev.name
            append((name, ev.uuid, ev.get("Event-Date-Timestamp"), ev.get("Channel-Name"),
                    ev.get(SDP), ev.body if name == "BACKGROUND_JOB" else None))
        return out

    def name_only() -> list[str]:
        return [make(b).name for b in bodies]  # type: ignore[operator]

    return {"six_values": six, "name_only": name_only}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default="4b20e31")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--events", type=int, default=6000)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    data = stream.build_stream(args.events)
    bodies = [f.body for f in FrameParser().feed(data)]
    with tempfile.TemporaryDirectory() as d:
        before = load_before(args.before, Path(d))
    # Each tree's events as its connection makes them: the before tree from the
    # frame body, this one from what FrameParser.feed_mixed gives (b"\n" + body).
    wire = [item for item in FrameParser().feed_mixed(data) if isinstance(item, bytes)]
    assert len(wire) == len(bodies)
    trees = {"before": readers(before.Event.from_plain, bodies),  # type: ignore[attr-defined]
             "after": readers(after.Event, wire)}
    assert trees["before"]["six_values"]() == trees["after"]["six_values"](), "values differ"
    best: dict[str, dict[str, float]] = {t: {} for t in trees}
    load0 = os.getloadavg()
    for _ in range(args.rounds):
        for tree, fns in trees.items():
            for what, fn in fns.items():
                t = time.process_time()
                fn()
                us = (time.process_time() - t) / len(bodies) * 1e6
                best[tree][what] = min(best[tree].get(what, us), us)
    ratios = {what: best["before"][what] / best["after"][what] for what in best["after"]}
    report = {"benchmark": "read_path_ab", "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "before": args.before, "events": len(bodies), "rounds": args.rounds,
              "machine": machine([load0, os.getloadavg()]),
              "cpu_us_per_event_fastest_round": best, "speedup_after_vs_before": ratios,
              "values_equal": True}
    print("\n".join(f"{what:11s} before {best['before'][what]:6.2f} µs  "
                    f"after {best['after'][what]:6.2f} µs  x{r:.2f}" for what, r in ratios.items()))
    write(args.out, report)


if __name__ == "__main__":
    main()
