"""A lower bound for the emulator's per-call cost: a call with no simulation.

What would one self-loop call cost an emulator that did nothing but the work
every design must do: parse switchlab's ``bgapi originate`` (the real
``CommandParser`` and ``parse_originate_shaped``), answer it, render the nine events a
load test subscribes to (``CHANNEL_CREATE``, ``CHANNEL_ANSWER``,
``CHANNEL_HANGUP``, ``CHANNEL_HANGUP_COMPLETE`` for both legs, the
``BACKGROUND_JOB``) from real FreeSWITCH 1.11 frames
(``tests/data/fs-wire/call_selfloop_plain.raw``) kept as prebuilt parts with the
per-call values (uuids, stamps, dates, sequence numbers: 130 of them) put in
by one join per event, and run ten timer steps? No channel state, no variables,
no dialplan: this is what a design that prebuilds each call step's frames
(docs/EMULATOR.md, "What is left") could approach, not something to ship.

Count instructions with callgrind for two numbers of calls; the difference over
the calls is one call, start-up removed::

    for n in 500 1500; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/sim_floor.py --part all --calls $n 2>&1 | grep Collected; done

``--part parse|render|timers|all`` measures one part alone. Without valgrind
the script prints its CPU time per call (this VM's speed drifts: compare
instruction counts).
"""
from __future__ import annotations

import argparse
import heapq
import operator
import random
import re
import time
from pathlib import Path

from esl_throughput import _frames

from switchlab.wire.dialshape import parse_originate_shaped
from switchlab.wire.parser import CommandParser

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "tests" / "data" / "fs-wire" / "call_selfloop_plain.raw"
WANT = {"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
        "BACKGROUND_JOB"}
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PER_CALL = re.compile(rb"\b1\d{15}\b|Event-Date-Local: [^\n]*|Event-Date-GMT: [^\n]*"
                       rb"|Event-Sequence: \d+")
#: switchlab's originate (Client.originate_string's shape, as a load test sends it)
COMMAND = (b"bgapi originate {origination_uuid=9c1f0f0e-5b7a-4d2b-9a51-8f1e2d3c4b5a,"
           b"sip_h_X-switchlab_uuid=9c1f0f0e-5b7a-4d2b-9a51-8f1e2d3c4b5a,"
           b"sip_h_X-switchlab_app=load,originate_timeout=60,ignore_early_media=true}"
           b"sofia/external/9196@127.0.0.1:5080 &park()\n"
           b"Job-UUID: 0e0f2a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n\n")


def templates() -> list[tuple[list[bytes], operator.itemgetter]]:
    """The nine events as (constant parts, getter of their per-call values)."""
    out = []
    for headers, body in _frames(RAW.read_bytes()):
        name = re.search(rb"Event-Name: (\S+)", body)
        if headers.get("Content-Type") != "text/event-plain" or name is None \
                or name.group(1).decode() not in WANT:
            continue
        slots = len(_UUID.findall(body)) + len(_PER_CALL.findall(body))
        body = _PER_CALL.sub(b"\0", _UUID.sub(b"\0", body))
        out.append((body.split(b"\0"), operator.itemgetter(*[i % 10 for i in range(slots)])))
        if len(out) == 9:
            break
    return out


def run(part: str, calls: int) -> None:
    tpls = templates()
    parser = CommandParser()
    getrandbits = random.getrandbits
    out: list[bytes] = []
    heap: list[tuple[float, int, object]] = []
    for _ in range(calls):
        if part in ("parse", "all"):
            cmd = parser.feed(COMMAND)[0]
            parse_originate_shaped(cmd.arg.partition(" ")[2])
            out.append(b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: %s\n\n"
                       % cmd.headers["Job-UUID"].encode())
        if part in ("render", "all"):
            u1 = b"%032x" % getrandbits(128)
            u2 = b"%032x" % getrandbits(128)
            now = int(time.time() * 1e6)
            values = [u1, u2, b"%d" % now, b"%d" % (now + 1000), b"%d" % (now + 2000),
                      b"Mon, 30 Nov 2026 10:00:00 GMT", b"2026-11-30 10:00:00", b"12345",
                      b"%d" % (now + 3000), b"%d" % (now + 4000)]
            for parts, get in tpls:
                vals = get(values)
                joined: list[bytes] = [b""] * (2 * len(vals) + 1)
                joined[::2] = parts
                joined[1::2] = vals
                ev = b"".join(joined)
                out.append(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(ev))
                out.append(ev)
        if part in ("timers", "all"):
            for j in range(10):
                heapq.heappush(heap, (time.monotonic() + j * 0.001, j, None))
            while heap:
                heapq.heappop(heap)
        if len(out) > 200:
            b"".join(out)
            out.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("parse", "render", "timers", "all"), default="all")
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    c0 = time.process_time()
    run(args.part, args.calls)
    cpu = time.process_time() - c0
    print(f"{args.part}: {cpu / args.calls * 1e6:.1f} us CPU per call over {args.calls} calls")


if __name__ == "__main__":
    main()
