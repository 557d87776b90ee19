"""ESL event throughput: switchlab against other Python ESL clients.

A minimal event-socket server (its own process) replays real FreeSWITCH 1.11
``text/event-plain`` frames taken from ``tests/data/fs-wire`` (600 events,
~3.6 KB each), with every UUID rotated per round so that each event is
distinct, over loopback TCP. Each consumer runs in a fresh process, connects,
authenticates, subscribes (``event plain ALL``), and for every event reads,
through its own public API, Event-Name, Unique-ID, Event-Date-Timestamp,
Channel-Name, the SDP variable ``variable_switch_r_sdp`` (CR LF inside) and,
for BACKGROUND_JOB, the body. After the timed part every recorded value is
compared with the reference.

Figures: events/s per core = events / CPU time of the consumer process
(``time.process_time``: user + system, all threads); CPU µs/event; wall
events/s. Each consumer is run ``--repeat`` times; the median run is kept.

Run (from the repository root)::

    .venv/bin/python benchmarks/esl_throughput.py                 # all consumers
    .venv/bin/python benchmarks/esl_throughput.py --events 50000 --repeat 5
    .venv/bin/python benchmarks/esl_throughput.py --only switchlab greenswitch

Writes ``data/bench/esl_throughput.json``. Needs the ``bench`` extra
(``pip install -e .[bench]``: genesis, greenswitch); switchio is tried and
reported if it cannot run.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
WIRE = ROOT / "tests" / "data" / "fs-wire"
OUT = ROOT / "data" / "bench" / "esl_throughput.json"
HOST = "127.0.0.1"
PASSWORD = "ClueCon"
SDP = "variable_switch_r_sdp"
EVENT_REPLY = b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"
FIELDS = ("Event-Name", "Unique-ID", "Event-Date-Timestamp", "Channel-Name", SDP, "body")

# $SWITCHLAB_BENCH_TREE: the source tree whose switchlab a consumer imports (--before)
_TREE = os.environ.get("SWITCHLAB_BENCH_TREE") or str(ROOT)
if _TREE not in sys.path:
    sys.path.insert(0, _TREE)

# -- the event stream ------------------------------------------------------------------

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _frames(data: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Independent minimal framing of a transcript (header block + Content-Length)."""
    out = []
    pos = 0
    while pos < len(data):
        end = data.index(b"\n\n", pos)
        headers = dict(line.split(": ", 1) for line in data[pos:end].decode().split("\n"))
        n = int(headers.get("Content-Length", 0))
        out.append((headers, data[end + 2 : end + 2 + n]))
        pos = end + 2 + n
    return out


def templates() -> list[bytes]:
    """Every ``text/event-plain`` body FreeSWITCH sent in the transcripts, in order."""
    bodies = []
    for path in sorted(WIRE.glob("*.raw")):
        for headers, body in _frames(path.read_bytes()):
            if headers.get("Content-Type") == "text/event-plain":
                bodies.append(body)
    return bodies


def rotation(r: int) -> bytes:
    return b"%08x" % (0xB0000000 + r)


def build_stream(n: int) -> bytes:
    """``n`` event frames: round ``r`` replays every template with each UUID's
    first 8 hex digits replaced by the round number (same length, so inner
    Content-Lengths stay right)."""
    tpls = templates()
    uuids = [sorted(set(_UUID.findall(b))) for b in tpls]
    parts = []
    for k in range(n):
        t, r = k % len(tpls), k // len(tpls)
        body = tpls[t]
        rot = rotation(r)
        for u in uuids[t]:
            body = body.replace(u, rot + u[8:])
        parts.append(b"Content-Length: %d\nContent-Type: text/event-plain\n\n%s" % (len(body), body))
    return b"".join(parts)


def reference_values(body: bytes) -> dict[str, str | None]:
    """The checked values of one event, decoded the plain way: split the header
    block at its blank line, each line at ``": "``, url-decode each value."""
    head, _, rest = body.partition(b"\n\n")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8").split("\n"):
        name, _, value = line.partition(": ")
        headers.setdefault(name, unquote(value))
    out: dict[str, str | None] = {f: headers.get(f) for f in FIELDS[:-1]}
    out["body"] = (rest[: int(headers["Content-Length"])].decode()
                   if headers.get("Event-Name") == "BACKGROUND_JOB" else None)
    return out


class Reference:
    """Expected values of stream event ``k`` (template ``k % T``, round ``k // T``)."""

    def __init__(self) -> None:
        self.tpls = templates()
        self.values = [reference_values(b) for b in self.tpls]
        self.uuids = [sorted({u.decode() for u in _UUID.findall(b)}) for b in self.tpls]

    def expected(self, k: int) -> tuple[str | None, ...]:
        t, r = k % len(self.tpls), k // len(self.tpls)
        rot = rotation(r).decode()
        vals = self.values[t]
        out = []
        for f in FIELDS:
            v = vals[f]
            if v is not None and f in ("Unique-ID", "body"):
                for u in self.uuids[t]:
                    v = v.replace(u, rot + u[8:])
            out.append(v)
        return tuple(out)


def _norm(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, list):  # genesis: repeated headers become lists
        return _norm(v[0]) if v else None
    return str(v)


def check(records: list[tuple], n: int) -> dict:
    """Compare every recorded tuple with the reference."""
    ref = Reference()
    bad = {f: 0 for f in FIELDS}
    examples = []
    for k in range(n):
        exp = ref.expected(k)
        got = tuple(_norm(v) for v in records[k]) if k < len(records) else (None,) * len(FIELDS)
        for f, e, g in zip(FIELDS, exp, got):
            if e != g:
                bad[f] += 1
                if len(examples) < 4:
                    examples.append({"event": k, "field": f, "expected": e[:120] if e else e,
                                     "got": g[:120] if g else g})
    checked_non_null = {f: sum(1 for k in range(min(n, len(ref.tpls)))
                               if ref.expected(k)[i] is not None) for i, f in enumerate(FIELDS)}
    return {"correct": len(records) == n and not any(bad.values()), "records": len(records),
            "mismatches": bad, "examples": examples,
            "non_null_per_600": checked_non_null}


# -- server ------------------------------------------------------------------------------

def serve(n: int) -> None:
    """Minimal event socket: greeting, ``auth``, any command answered ``+OK``;
    ``event``/``events`` answered, then ``n`` events, then close."""
    stream = build_stream(n)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, 0))
    srv.listen(8)
    print(srv.getsockname()[1], len(stream), flush=True)
    while True:
        conn, _ = srv.accept()
        try:
            _serve_one(conn, stream)
        except OSError:
            pass
        finally:
            conn.close()


def _serve_one(conn: socket.socket, stream: bytes) -> None:
    conn.sendall(b"Content-Type: auth/request\n\n")
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b"\n\n" in buf:
            cmd, buf = buf.split(b"\n\n", 1)
            line = cmd.split(b"\n", 1)[0].strip()
            if line.startswith(b"auth "):
                ok = line[5:] == PASSWORD.encode()
                conn.sendall(b"Content-Type: command/reply\nReply-Text: %s\n\n"
                             % (b"+OK accepted" if ok else b"-ERR invalid"))
                if not ok:
                    return
            elif line.startswith(b"event"):
                conn.sendall(EVENT_REPLY)
                conn.sendall(stream)
                # like FreeSWITCH, keep the connection open: the client closes it
                # (a client that stops reading at EOF would lose queued events)
                while conn.recv(65536):
                    pass
                return
            else:
                conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK\n\n")


# -- consumers ------------------------------------------------------------------------------
# Each returns (records, cpu_seconds, wall_seconds, details). The timed part runs from
# just before the subscription is sent until the last event has been handled.

def _extract_mapping(get, body) -> tuple:
    name = get("Event-Name")
    return (name, get("Unique-ID"), get("Event-Date-Timestamp"), get("Channel-Name"), get(SDP),
            body() if name == "BACKGROUND_JOB" else None)


def consume_switchlab(port: int, n: int) -> tuple:
    import asyncio

    try:
        from switchlab.connection import connect
    except ImportError as exc:  # the engine's connection layer is not there yet
        records, cpu, wall, details = consume_switchlab_wire(port, n)
        details.update(api=f"FALLBACK FrameParser over asyncio.Protocol ({exc})")
        return records, cpu, wall, details

    async def main() -> tuple:
        conn = await connect(HOST, port, password=PASSWORD, timeout=10)
        done = asyncio.get_running_loop().create_future()
        records: list[tuple] = []
        append = records.append

        def on_event(ev) -> None:
            name = ev.name
            append((name, ev.uuid, ev.get("Event-Date-Timestamp"), ev.get("Channel-Name"),
                    ev.get(SDP), ev.body if name == "BACKGROUND_JOB" else None))
            if len(records) == n:
                done.set_result((time.process_time(), time.perf_counter()))

        conn.on_event = on_event
        c0, w0 = time.process_time(), time.perf_counter()
        await conn.subscribe("ALL")
        c1, w1 = await asyncio.wait_for(done, 600)
        return records, c1 - c0, w1 - w0

    try:  # switchlab's own choice of loop: uvloop where installed ($SWITCHLAB_LOOP, --loop)
        from switchlab.loops import loop_kind, run
        kind = loop_kind()
    except ImportError:  # a tree from before switchlab.loops
        run, kind = asyncio.run, "asyncio"
    records, cpu, wall = run(main())
    try:  # which of the read path's modules ran compiled (none in trees from before them)
        from switchlab.wire import native
        compiled = native.compiled_modules()
    except ImportError:
        compiled = []
    return records, cpu, wall, {"api": "switchlab.connection.connect() + subscribe('ALL') + "
                                       "conn.on_event callback", "loop": kind,
                                "compiled": compiled}


def consume_switchlab_wire(port: int, n: int) -> tuple:
    import asyncio

    from switchlab.wire import EVENT_PLAIN, Event, FrameParser

    class Proto(asyncio.Protocol):
        def __init__(self) -> None:
            self.parser = FrameParser()
            self.records: list[tuple] = []
            self.replies: asyncio.Queue = asyncio.Queue()
            self.done = asyncio.get_running_loop().create_future()

        def connection_made(self, transport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            append = self.records.append
            for f in self.parser.feed_mixed(data):  # a plain event as b"\n" + body
                if isinstance(f, bytes) or f.content_type == EVENT_PLAIN:
                    ev = Event(f) if isinstance(f, bytes) else Event.from_frame(f)
                    name = ev.name
                    append((name, ev.uuid, ev.get("Event-Date-Timestamp"), ev.get("Channel-Name"),
                            ev.get(SDP), ev.body if name == "BACKGROUND_JOB" else None))
                    if len(self.records) == n:
                        self.done.set_result((time.process_time(), time.perf_counter()))
                else:
                    self.replies.put_nowait(f)

    async def main() -> tuple:
        loop = asyncio.get_running_loop()
        _t, proto = await loop.create_connection(Proto, HOST, port)
        await proto.replies.get()  # auth/request
        proto.transport.write(f"auth {PASSWORD}\n\n".encode())
        await proto.replies.get()
        c0, w0 = time.process_time(), time.perf_counter()
        proto.transport.write(b"event plain ALL\n\n")
        c1, w1 = await asyncio.wait_for(proto.done, 600)
        return proto.records, c1 - c0, w1 - w0

    records, cpu, wall = asyncio.run(main())
    return records, cpu, wall, {"api": "switchlab.wire.FrameParser + Event over asyncio.Protocol "
                                       "(no connection layer)"}


def consume_genesis(port: int, n: int) -> tuple:
    import asyncio
    import logging

    from genesis import Inbound

    logging.disable(logging.WARNING)

    async def main() -> tuple:
        done = asyncio.get_running_loop().create_future()
        records: list[tuple] = []

        async def handler(event) -> None:
            records.append(_extract_mapping(event.get, lambda: event.body))
            if len(records) == n and not done.done():
                done.set_result((time.process_time(), time.perf_counter()))

        client = Inbound(HOST, port, PASSWORD, 10)
        await client.start()
        client.on("*", handler)
        c0, w0 = time.process_time(), time.perf_counter()
        await client.send("event plain ALL")
        c1, w1 = await asyncio.wait_for(done, 900)
        return records, c1 - c0, w1 - w0  # the process exits without closing

    return (*asyncio.run(main()), {"api": "genesis.Inbound + on('*', async handler) + "
                                          "send('event plain ALL')"})


def consume_greenswitch(port: int, n: int) -> tuple:
    import gevent
    import gevent.event
    from greenswitch import InboundESL

    done = gevent.event.AsyncResult()
    records: list[tuple] = []

    def handler(event) -> None:
        h = event.headers
        # greenswitch has no separate event body: it is what it is given
        records.append(_extract_mapping(h.get, lambda: getattr(event, "data", None)))
        if len(records) == n:
            done.set((time.process_time(), time.perf_counter()))

    esl = InboundESL(host=HOST, port=port, password=PASSWORD)
    esl.connect()
    esl.register_handle("*", handler)
    c0, w0 = time.process_time(), time.perf_counter()
    esl.send("event plain ALL")
    c1, w1 = done.get(timeout=600)
    return records, c1 - c0, w1 - w0, {"api": "greenswitch.InboundESL + register_handle('*', fn) "
                                              "+ send('event plain ALL') (gevent)"}


def consume_switchio(port: int, n: int) -> tuple:
    import switchio  # noqa: F401  (fails on Python >= 3.11, reported)

    raise RuntimeError("switchio imported, but no consumer is written for it")


def _blocking_auth(port: int) -> socket.socket:
    sock = socket.create_connection((HOST, port))
    buf = b""
    while b"\n\n" not in buf:
        buf += sock.recv(4096)
    sock.sendall(f"auth {PASSWORD}\n\n".encode())
    buf = b""
    while b"\n\n" not in buf:
        buf += sock.recv(4096)
    assert b"+OK accepted" in buf
    return sock


def consume_bare(port: int, n: int) -> tuple:
    """Blocking socket; frames by Content-Length; event bodies: split lines,
    unquote every value."""
    sock = _blocking_auth(port)
    records: list[tuple] = []
    append = records.append
    c0, w0 = time.process_time(), time.perf_counter()
    sock.sendall(b"event plain ALL\n\n")
    buf = b""
    while len(records) < n:
        data = sock.recv(262144)
        if not data:
            break
        buf += data
        pos = 0
        while True:
            end = buf.find(b"\n\n", pos)
            if end < 0:
                break
            outer = dict(line.split(": ", 1) for line in buf[pos:end].decode().split("\n"))
            size = int(outer.get("Content-Length", 0))
            if end + 2 + size > len(buf):
                break
            body = buf[end + 2 : end + 2 + size]
            pos = end + 2 + size
            if outer.get("Content-Type") != "text/event-plain":
                continue
            head, _, rest = body.partition(b"\n\n")
            ev: dict[str, str] = {}
            for line in head.decode().split("\n"):
                name, _, value = line.partition(": ")
                if name not in ev:
                    ev[name] = unquote(value)
            blen = int(ev.get("Content-Length", 0))
            append(_extract_mapping(ev.get, lambda rest=rest, blen=blen: rest[:blen]))
        buf = buf[pos:]
    c1, w1 = time.process_time(), time.perf_counter()
    sock.close()
    return records, c1 - c0, w1 - w0, {"api": "socket.recv + split lines + urllib unquote of "
                                              "every value"}


def consume_raw(port: int, n: int, total: int) -> tuple:
    """Count bytes until the whole stream is in: the cost of just receiving it."""
    sock = _blocking_auth(port)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    got = 0
    c0, w0 = time.process_time(), time.perf_counter()
    sock.sendall(b"event plain ALL\n\n")
    want = total + len(EVENT_REPLY)
    while got < want:
        k = sock.recv_into(view)
        if not k:
            break
        got += k
    c1, w1 = time.process_time(), time.perf_counter()
    sock.close()
    return None, c1 - c0, w1 - w0, {"api": "socket.recv_into, no parsing", "bytes": got,
                                    "expected_bytes": total + len(EVENT_REPLY)}


CONSUMERS = {
    "switchlab": ("switchlab", "switchlab"),
    "switchlab-wire": ("switchlab", "switchlab.wire FrameParser+Event (no connection layer)"),
    "genesis": ("genesis", "genesis (PyPI)"),
    "greenswitch": ("greenswitch", "greenswitch (PyPI)"),
    "switchio": ("switchio", "switchio (PyPI)"),
    "bare": (None, "bare parser: split lines + unquote every value"),
    "raw": (None, "raw socket byte counter (the limit)"),
}
PEERS = ("genesis", "greenswitch", "switchio")


def _version(dist: str | None) -> str | None:
    if not dist:
        return None
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_consumer(name: str, port: int, n: int, total: int) -> dict:
    """Body of a consumer process: run, check, return the result dict."""
    version = _version(CONSUMERS[name][0])
    if name == "raw":
        records, cpu, wall, details = consume_raw(port, n, total)
        verdict = {"correct": None, "note": "does not decode"}
    else:
        fn = {"switchlab": consume_switchlab, "switchlab-wire": consume_switchlab_wire,
              "genesis": consume_genesis, "greenswitch": consume_greenswitch,
              "switchio": consume_switchio, "bare": consume_bare}[name]
        records, cpu, wall, details = fn(port, n)
        verdict = check(records, n)
    return {"name": name, "label": CONSUMERS[name][1], "version": version, "events": n,
            "cpu_s": cpu, "wall_s": wall, "events_per_cpu_s": n / cpu if cpu else None,
            "events_per_wall_s": n / wall if wall else None,
            "cpu_us_per_event": cpu / n * 1e6, **details, **verdict}


# -- orchestration ---------------------------------------------------------------------------

def _spawn_consumer(name: str, port: int, n: int, total: int, timeout: float,
                    env: dict[str, str] | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--consumer", name, "--port", str(port),
           "--events", str(n), "--total", str(total)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env=None if env is None else {**os.environ, **env})
    except subprocess.TimeoutExpired:
        return {"name": name, "label": CONSUMERS[name][1], "error": f"timed out after {timeout} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"name": name, "label": CONSUMERS[name][1], "error": err,
            "stderr_tail": proc.stderr.strip().splitlines()[-6:]}


def before_after(args: argparse.Namespace) -> None:
    """``--before REF``: the switchlab consumer of REF's tree and of this one,
    alternated round by round against one server; medians and their ratios."""
    import statistics
    import tempfile

    from before_after import compiled_modules, extract, machine, write

    variants = {"before": None, "after-asyncio": "asyncio"}
    try:
        import uvloop  # noqa: F401
        variants["after-uvloop"] = "uvloop"
    except ImportError:
        pass
    if compiled_modules(ROOT):  # the same tree run as plain Python (SWITCHLAB_PURE=1), asyncio
        variants["after-pure"] = "asyncio"
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    load = [os.getloadavg()]
    server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve",
                               "--events", str(args.events)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        with tempfile.TemporaryDirectory() as d:
            extract(args.before, Path(d))
            compiled = {"before": compiled_modules(Path(d)), "after": compiled_modules(ROOT)}
            port_s, total_s = server.stdout.readline().split()  # type: ignore[union-attr]
            for rnd in range(args.rounds):
                for v, loop in variants.items():
                    env = {"SWITCHLAB_BENCH_TREE": d if loop is None else str(ROOT)}
                    if loop:
                        env["SWITCHLAB_LOOP"] = loop
                    if v == "after-pure":
                        env["SWITCHLAB_PURE"] = "1"
                    r = _spawn_consumer("switchlab", int(port_s), args.events, int(total_s),
                                        args.timeout, env)
                    if "error" in r:
                        raise SystemExit(f"{v}: {r['error']}")
                    runs[v].append(r)
                    print(f"round {rnd + 1} {v:14s} {r['cpu_us_per_event']:7.2f} µs/event "
                          f"({r.get('loop') or 'asyncio'}) correct={r['correct']}", flush=True)
                load.append(os.getloadavg())
    finally:
        server.terminate()
        server.wait(10)
    med = {v: statistics.median(r["events_per_cpu_s"] for r in rs) for v, rs in runs.items()}
    best = {v: max(r["events_per_cpu_s"] for r in rs) for v, rs in runs.items()}
    # each round's variant over that round's "before": the VM's speed drifts between
    # rounds (here by up to 1.7x), and a ratio within a round cancels the drift
    paired = {v: statistics.median(r["events_per_cpu_s"] / b["events_per_cpu_s"]
                                   for r, b in zip(rs, runs["before"])) for v, rs in runs.items()}
    report = {
        "benchmark": "esl_throughput before/after (one sitting)",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "before": args.before,
        "machine": machine(load),
        "compiled_modules": compiled,
        "method": (f"one server, {args.events} events per run; the switchlab consumer of each "
                   f"variant in its own process, variants alternated for {args.rounds} rounds; "
                   "events/s per core = events / consumer CPU time"),
        "checked_fields": list(FIELDS),
        "correct_all_runs": all(r["correct"] for rs in runs.values() for r in rs),
        "events_per_cpu_s": {v: [round(r["events_per_cpu_s"]) for r in rs] for v, rs in runs.items()},
        "median_events_per_cpu_s": {v: round(m) for v, m in med.items()},
        "median_cpu_us_per_event": {v: round(1e6 / m, 2) for v, m in med.items()},
        "ratio_of_medians_to_before": {v: round(m / med["before"], 3) for v, m in med.items()},
        "ratio_of_best_runs_to_before": {v: round(b / best["before"], 3) for v, b in best.items()},
        "median_of_round_ratios_to_before": {v: round(x, 3) for v, x in paired.items()},
    }
    for v in variants:
        print(f"{v:14s} median {1e6 / med[v]:6.2f} µs/event  x{med[v] / med['before']:.2f} "
              f"(best runs x{best[v] / best['before']:.2f}, median of round ratios "
              f"x{paired[v]:.2f})")
    # kept beside the consumers' comparison of the same file
    data = json.loads(args.out.read_text()) if args.out.exists() else {}
    data["before_after"] = report
    write(args.out, data)


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20000, help="events per consumer run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per consumer (median kept)")
    ap.add_argument("--only", nargs="*", choices=list(CONSUMERS), help="consumers to run")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default=None,
                    help="event loop of the switchlab consumer (default: auto, uvloop where "
                         "installed); the other consumers use their own")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per consumer run")
    ap.add_argument("--before", metavar="REF",
                    help="instead: the switchlab consumer of git REF's tree (its own default "
                         "loop), alternated round by round with this tree's on asyncio and on "
                         "uvloop; medians and ratios go to the JSON's 'before_after' (issue 12)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of --before")
    # internal: child processes
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--consumer", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--total", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.serve:
        serve(args.events)
        return
    if args.consumer:
        result = run_consumer(args.consumer, args.port, args.events, args.total)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        os._exit(0)  # skip library teardown (greenlets, tasks, exporters)

    if args.loop:
        os.environ["SWITCHLAB_LOOP"] = args.loop
    if args.before:
        before_after(args)
        return
    names = args.only or list(CONSUMERS)
    server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve",
                               "--events", str(args.events)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        port_s, total_s = server.stdout.readline().split()  # type: ignore[union-attr]
        port, total = int(port_s), int(total_s)
        print(f"server pid {server.pid} on {HOST}:{port}: {args.events} events, "
              f"{total / args.events:.0f} B/event, {total / 1e6:.1f} MB per run")
        results = []
        for name in names:
            runs = []
            for i in range(args.repeat):
                r = _spawn_consumer(name, port, args.events, total, args.timeout)
                runs.append(r)
                if "error" in r:
                    break
                print(f"  {name:15s} run {i + 1}: {r['events_per_cpu_s']:>11,.0f} ev/s per core  "
                      f"{r['cpu_us_per_event']:8.2f} µs/ev  correct={r.get('correct')}", flush=True)
            ok = [r for r in runs if "error" not in r]
            if not ok:
                failed = runs[-1]
                if name == "switchio" and "coroutine" in failed["error"]:
                    failed["why"] = (
                        f"switchio {_version('switchio')} (latest on PyPI) installs but cannot be "
                        "imported on Python 3.11: switchio/loop.py decorates with "
                        "@asyncio.coroutine (removed in 3.11) and protocol.py calls "
                        "asyncio.Queue(loop=...) (removed in 3.10)")
                print(f"  {name:15s} FAILED: {failed.get('why', failed['error'])}", flush=True)
                results.append(failed)
                continue
            ok.sort(key=lambda r: r["events_per_cpu_s"])
            best = dict(ok[len(ok) // 2])
            best["runs_events_per_cpu_s"] = [round(r["events_per_cpu_s"]) for r in runs if "error" not in r]
            best["correct_all_runs"] = (None if best.get("correct") is None
                                        else all(r.get("correct") for r in ok))
            results.append(best)
    finally:
        server.terminate()
        server.wait(10)

    measured = {r["name"]: r for r in results if "error" not in r}
    peers = [measured[p] for p in PEERS if p in measured]
    fastest = max(peers, key=lambda r: r["events_per_cpu_s"], default=None)
    for r in results:
        if "error" in r:
            continue
        if fastest:
            r["ratio_vs_fastest_peer"] = r["events_per_cpu_s"] / fastest["events_per_cpu_s"]
        if "bare" in measured:
            r["ratio_vs_bare_parser"] = r["events_per_cpu_s"] / measured["bare"]["events_per_cpu_s"]
    print()
    print(f"{'consumer':58s} {'ev/s/core':>11s} {'µs/ev':>8s} {'wall ev/s':>11s} "
          f"{'x peer':>7s} {'correct':>8s}")
    for r in results:
        label = r["label"] + (f" {r['version']}" if r.get("version") else "")
        if "error" in r:
            print(f"{label:58s} not measured: {r.get('why', r['error'])}")
            continue
        print(f"{label:58s} {r['events_per_cpu_s']:>11,.0f} {r['cpu_us_per_event']:>8.2f} "
              f"{r['events_per_wall_s']:>11,.0f} {_fmt(r.get('ratio_vs_fastest_peer'), '7.2f')} "
              f"{str(r.get('correct')):>8s}")
    sl = measured.get("switchlab")
    verdict = None
    correct_peers = [p for p in peers if p.get("correct_all_runs")]
    fastest_correct = max(correct_peers, key=lambda r: r["events_per_cpu_s"], default=None)
    if sl and fastest:
        verdict = {"fastest_peer": fastest["name"],
                   "fastest_peer_correct": fastest.get("correct_all_runs"),
                   "switchlab_ratio": sl["ratio_vs_fastest_peer"],
                   "fastest_correct_peer": fastest_correct and fastest_correct["name"],
                   "switchlab_ratio_vs_fastest_correct_peer": fastest_correct and (
                       sl["events_per_cpu_s"] / fastest_correct["events_per_cpu_s"]),
                   "switchlab_ratio_vs_bare_parser": sl.get("ratio_vs_bare_parser"),
                   "switchlab_correct": sl.get("correct_all_runs"),
                   "bar": "switchlab >= 3x the fastest peer, every value decoded correctly",
                   "met": bool(sl["ratio_vs_fastest_peer"] >= 3 and sl.get("correct_all_runs"))}
        print(f"\nswitchlab / fastest peer ({fastest['name']}): {sl['ratio_vs_fastest_peer']:.2f}x, "
              f"correct={sl.get('correct_all_runs')} -> bar {'MET' if verdict['met'] else 'NOT met'}")
    report = {
        "benchmark": "esl_throughput",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "processor": platform.processor()},
        "stream": {"events": args.events, "bytes": total, "bytes_per_event": total / args.events,
                   "templates": len(templates()), "source": "tests/data/fs-wire/*.raw text/event-plain"},
        "method": ("server and each consumer run in separate processes over loopback TCP; "
                   "events/s per core = events / consumer process CPU time (time.process_time); "
                   f"median of {args.repeat} runs"),
        "checked_fields": list(FIELDS),
        "results": results,
        "verdict": verdict,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
