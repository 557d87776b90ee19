"""Micro-benchmark of the wire layer alone (no sockets): parse, lookups, full decoding.

Uses the same event stream as ``esl_throughput.py`` (real FreeSWITCH 1.11
``text/event-plain`` frames, UUIDs rotated) cut into 256 KB chunks, and
reports CPU µs per event for:

* ``feed``: ``FrameParser.feed_mixed`` only (what the connection uses: a plain
  event comes as ``b"\\n" + body``);
* ``feed+4``: plus ``Event`` and the lookups every connection does
  (Event-Name, Unique-ID, Job-UUID, Event-Date-Timestamp);
* ``feed+6``: the benchmark consumer's reads (Event-Name, Unique-ID,
  Event-Date-Timestamp, Channel-Name, ``variable_switch_r_sdp``, body of jobs);
* ``full``: ``Event.headers`` (every header decoded).

Run: ``.venv/bin/python benchmarks/wire_micro.py [--events 20000]``
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from esl_throughput import SDP, build_stream  # noqa: E402

from switchlab.wire import Event, FrameParser  # noqa: E402


def run(chunks: list[bytes], mode: str) -> int:
    parser = FrameParser()
    n = 0
    for chunk in chunks:
        for f in parser.feed_mixed(chunk):
            n += 1
            if mode == "feed":
                continue
            ev = Event(f) if isinstance(f, bytes) else Event.from_frame(f)
            if mode == "feed+4":
                ev.name, ev.uuid, ev.job_uuid, ev.get("Event-Date-Timestamp")
            elif mode == "feed+6":
                name = ev.name
                ev.uuid, ev.get("Event-Date-Timestamp"), ev.get("Channel-Name"), ev.get(SDP)
                if name == "BACKGROUND_JOB":
                    ev.body
            else:
                ev.headers
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    stream = build_stream(args.events)
    chunks = [stream[i : i + 262144] for i in range(0, len(stream), 262144)]
    print(f"{args.events} events, {len(stream) / args.events:.0f} B/event, 256 KB chunks")
    for mode in ("feed", "feed+4", "feed+6", "full"):
        best = float("inf")
        for _ in range(args.repeat):
            t = time.process_time()
            n = run(chunks, mode)
            best = min(best, time.process_time() - t)
        print(f"  {mode:7s} {best / n * 1e6:7.2f} µs/event  {n / best:>11,.0f} events/s per core")


if __name__ == "__main__":
    main()
