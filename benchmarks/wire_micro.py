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

``--lookups CAPTURE`` times instead the first lookup of each header the originator
reads, on fresh events of a recorded load test (``originator_replay.py --capture``):
a lookup's fixed cost and the cost of searching the bytes before the header, by
where it sits (``data/bench/wire_lookups.json``).

Run: ``.venv/bin/python benchmarks/wire_micro.py [--events 20000]``
     ``.venv/bin/python benchmarks/wire_micro.py --lookups /tmp/cap.pkl``
"""
from __future__ import annotations

import argparse
import pickle
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


#: the headers the originator reads of a self-loop call's events, and the event read
LOOKUPS = (("Event-Name", "CHANNEL_ANSWER"), ("Unique-ID", "CHANNEL_ANSWER"),
           ("Event-Date-Timestamp", "CHANNEL_ANSWER"), ("Hangup-Cause", "CHANNEL_HANGUP_COMPLETE"),
           ("variable_sip_h_X-switchlab_call_id", "CHANNEL_CREATE"),
           ("variable_sip_h_X-switchlab_app", "CHANNEL_CREATE"),
           ("variable_sip_hangup_disposition", "CHANNEL_HANGUP_COMPLETE"))


def lookups(capture: Path, repeat: int) -> None:
    """The first lookup of each of :data:`LOOKUPS` on fresh events of ``capture``:
    CPU ns per lookup (construction subtracted), the header's offset in the event."""
    from simproc import store_result
    from soak import machine

    parser = FrameParser()
    by_name: dict[str, list[bytes]] = {}
    for kind, data in pickle.loads(capture.read_bytes()):
        if kind == "rx":
            for f in parser.feed_mixed(data):
                if f.__class__ is bytes:
                    by_name.setdefault(Event(f).get("Event-Name"), []).append(f)

    def per_event(raws: list[bytes], name: str | None) -> float:
        best = float("inf")
        for _ in range(repeat):
            t = time.process_time()
            for raw in raws:
                ev = Event(raw)
                if name is not None:
                    ev.get(name)
            best = min(best, time.process_time() - t)
        return best / len(raws) * 1e9

    rows = {}
    construct = {event: per_event(by_name[event][:2000], None) for _, event in LOOKUPS}
    for name, event in LOOKUPS:
        raws = by_name[event][:2000]
        offset = sum(max(r.find(f"\n{name}: ".encode()), 0) for r in raws) / len(raws)
        ns = per_event(raws, name) - construct[event]
        rows[name] = {"event": event, "offset_bytes": round(offset), "ns": round(ns),
                      "event_bytes": round(sum(map(len, raws)) / len(raws))}
        print(f"  {name:36s} {event:24s} at {offset:6.0f} B  {ns:6.0f} ns")
    store_result(ROOT / "data" / "bench" / "wire_lookups.json", capture.name, {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "lookups": rows,
        "method": f"first lookup on a fresh Event, fastest of {repeat} passes over up to "
                  "2000 events, CPU (process time), construction subtracted",
        "machine": machine()})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lookups", type=Path, metavar="CAPTURE",
                    help="time the originator's header lookups on this capture's events")
    args = ap.parse_args()
    if args.lookups:
        lookups(args.lookups, args.repeat)
        return
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
