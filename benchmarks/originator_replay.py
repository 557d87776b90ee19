"""The originator's own CPU per call, without sockets, emulator or machine noise.

A recorded load test (what the emulator sent, what the originator wrote) is
replayed through the real client side in one process: each recorded ``bgapi
originate`` is a real launch (``Launcher._launch``, with the recorded uuids),
each ``uuid_kill`` a real hold-timer expiry, each received chunk goes through
``ESLStream.data_received`` (parser, events, listener, recorder, rows). What
is left out: the sockets, the event loop's waiting, the emulator.

    .venv/bin/python benchmarks/originator_replay.py --capture /tmp/cap.pkl --rate 200 --seconds 5
    .venv/bin/python benchmarks/originator_replay.py --replay /tmp/cap.pkl --rounds 5
    .venv/bin/python benchmarks/originator_replay.py --replay /tmp/cap.pkl --before b24ed3f

``--floor`` also times, alternated with the replay, what any client pays for the
same bytes (framing, one event each, its name, uuid and stamp): the rest is the
originator's own logic (``data/bench/originator_floor.json``).

``--before REF`` replays with ``REF``'s tree and this one alternately (a
subprocess each) and prints the fastest round of each and the ratio;
``--before keep-sessions`` compares this tree with itself run with
``--keep-sessions`` (the listener keeping a session and a call per channel). CPU time
on a loaded machine still moves by ±20 %; instruction counts do not:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/originator_replay.py --replay /tmp/cap.pkl --rounds 1   # and 3
    # instructions per call = (Ir of 3 rounds - Ir of 1 round) / 2 / calls

The capture is a pickle of ``[("tx" | "rx", bytes), ...]`` (kept out of the repository).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "data" / "bench"
Log = list[tuple[str, bytes]]


def capture(path: Path, rate: float, seconds: float) -> None:
    """Run ``originator_load.py``'s bench (loop mode) and record every read and command."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import originator_load  # noqa: E402
    from switchlab.esl import protocol, stream
    from switchlab.loops import run

    log: Log = []
    received, request = stream.ESLStream.data_received, protocol.ESLProtocol.request

    def data_received(self: Any, data: bytes) -> None:
        log.append(("rx", data))
        received(self, data)

    def recorded_request(self: Any, data: bytes, *args: Any, **kw: Any) -> Any:
        log.append(("tx", data))
        return request(self, data, *args, **kw)

    stream.ESLStream.data_received = data_received  # type: ignore[method-assign]
    protocol.ESLProtocol.request = recorded_request  # type: ignore[method-assign]
    send = getattr(protocol.ESLProtocol, "send", None)  # requests nobody waits for (4th round)
    if send is not None:
        def recorded_send(self: Any, data: bytes, *args: Any, **kw: Any) -> Any:
            log.append(("tx", data))
            return send(self, data, *args, **kw)
        protocol.ESLProtocol.send = recorded_send  # type: ignore[method-assign]
    res = run(originator_load.bench(rate, seconds, 1.0, "loop"), loop="asyncio")
    path.write_bytes(pickle.dumps(log))
    print(f"captured {res['offered']} calls ({res['causes']}) into {path}")


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def get_extra_info(self, *args: Any, **kwargs: Any) -> None:
        return None


_UUIDS: list[str] = []


def _next_uuid() -> str:
    return _UUIDS.pop(0) if _UUIDS else str(uuid.UUID(bytes=os.urandom(16), version=4))


def _use_recorded_uuids() -> None:
    """Launches take the recorded call uuid and Job-UUID (on any tree's client)."""
    import switchlab.client as client_module
    uuid.uuid4 = lambda: uuid.UUID(_next_uuid())
    client_module._uuid4 = _next_uuid
    originate = client_module.Client.originate
    originate.__defaults__ = tuple(_next_uuid if callable(d) else d
                                   for d in originate.__defaults__ or ())


async def _replay(log: Log, keep_sessions: bool = False) -> tuple[int, float, int]:
    from switchlab.client import Client
    from switchlab.esl import Connection, ConnectionState, decoders
    from switchlab.esl.stream import ESLStream
    from switchlab.originator import LOAD_TEST_EVENTS, Originator
    from switchlab.originator.weights import SmoothWeighted
    from switchlab.state.dispatch import EventListener

    loop = asyncio.get_running_loop()
    client = Client("127.0.0.1", 8021, events=LOAD_TEST_EVENTS)
    conn = Connection("127.0.0.1", 8021, loop=loop)
    esl = conn._esl
    stream = ESLStream(esl, loop, conn._stream_made, conn._stream_error, conn._stream_lost)
    stream.connection_made(_Transport())  # type: ignore[arg-type]
    conn.state = ConnectionState.CONNECTED
    client.connection = conn
    client.listener = EventListener(conn, call_tracking_var=client.call_tracking_var,
                                    app_id_var=client.app_id_var)
    client._subscribed = set(LOAD_TEST_EVENTS)
    if hasattr(client.listener, "destroy_comes"):  # as Client._subscribe sets it (4th round on)
        client.listener.destroy_comes = "CHANNEL_DESTROY" in LOAD_TEST_EVENTS
    esl.restore.subscribed(LOAD_TEST_EVENTS, "plain")
    # holds never expire by themselves: the recorded uuid_kill commands expire them
    orig = Originator([client], dest="answer@127.0.0.1:5080", proxy="127.0.0.1:5070", rate=200,
                      limit=10**6, duration=10**6, max_offered=10**6, reconnect=False)
    orig._app_ids = ["originator"]
    orig._launcher.picker = SmoothWeighted({"originator": 1.0})
    if hasattr(orig.recorder, "hand_over"):  # ninth round on
        orig.recorder.hand_over = not keep_sessions
    orig.recorder.attach(client.listener)
    first = next(i for i, (kind, data) in enumerate(log)
                 if kind == "tx" and data.startswith(b"bgapi"))
    for kind, data in log[:first]:  # the set-up commands and their replies
        if kind == "tx":
            esl.request(data, decoders.command_frame, "set-up")
    for kind, data in log[:first]:
        if kind == "rx":
            stream.data_received(data)
    launcher, holds = orig._launcher, orig._holds
    orig._gc.start()
    calls = 0
    cpu0 = time.process_time()
    for kind, data in log[first:]:
        if kind == "rx":
            stream.data_received(data)
            await asyncio.sleep(0)  # the job futures' callbacks, as the loop would
            while stream._backlog:
                await asyncio.sleep(0)
        elif data.startswith(b"bgapi originate"):
            call = re.search(rb"origination_uuid=([0-9a-f-]+)", data)
            job = re.search(rb"Job-UUID: ([0-9a-f-]+)", data)
            assert call is not None and job is not None
            _UUIDS[:] = [call.group(1).decode(), job.group(1).decode()]
            launcher._launch(time.monotonic())
            calls += 1
        elif data.startswith(b"api uuid_kill"):
            call_id = data.split()[2].decode()
            if hasattr(holds, "_holds"):  # one timer for every hold: that call's hold ends
                held = holds._holds.get(call_id)
                assert held is not None, "a uuid_kill for a call the replay did not answer"
                holds._expire(held[0])
                continue
            timer = getattr(holds, "_timers").get(call_id)  # a tree with a timer per hold
            assert timer is not None, "a uuid_kill for a call the replay did not answer"
            callback, args = timer._callback, timer._args
            timer.cancel()
            callback(*args)
        else:
            esl.request(data, decoders.command_frame, "other")
    for _ in range(3):
        await asyncio.sleep(0)
    cpu = time.process_time() - cpu0
    orig._gc.stop()
    return calls, cpu, orig.recorder.finished


def _load(path: Path) -> Log:
    """The capture at ``path``, with logging quiet and launches on its recorded uuids."""
    logging.disable(logging.WARNING)
    _use_recorded_uuids()
    log: Log = pickle.loads(path.read_bytes())
    return log


def _replay_round(log: Log, keep_sessions: bool = False) -> tuple[int, float]:
    """One replay of ``log``: ``(calls, CPU µs per call)``; every call must be written.
    ``keep_sessions``: the recorder's hand-over off (switchlab.state.handover)."""
    calls, cpu, finished = asyncio.run(_replay(log, keep_sessions))
    assert finished == calls, f"{calls - finished} calls were not written"
    return calls, 1e6 * cpu / calls


def replay(path: Path, rounds: int, keep_sessions: bool = False) -> float:
    """Replay ``rounds`` times; the fastest round's CPU µs per call."""
    log = _load(path)
    best = float("inf")
    for _ in range(rounds):
        calls, us = _replay_round(log, keep_sessions)
        best = min(best, us)
    print(f"BEST {best:.1f} us/call over {rounds} rounds of {calls} calls")
    return best


def _floor_round(log: Log) -> float:
    """One pass of what any client of this capture pays, whatever it does with the
    events: the framing, one :class:`Event` per event and the three values every
    dispatch needs (name, uuid, stamp); CPU seconds."""
    from switchlab.wire.events import Event
    from switchlab.wire.parser import FrameParser

    parser = FrameParser()
    cpu0 = time.process_time()
    for kind, data in log:
        if kind == "rx":
            for frame in parser.feed_mixed(data):
                if frame.__class__ is bytes:
                    ev = Event(frame)
                    ev.get("Event-Name"), ev.get("Unique-ID"), ev.get("Event-Date-Timestamp")
    return time.process_time() - cpu0


def floor(path: Path, rounds: int, out: Path, keep_sessions: bool = False) -> None:
    """The replay and its read-side floor (:func:`_floor_round`), alternated in one
    process: the share of the originator's CPU per call that is its own logic."""
    log = _load(path)
    best = {"replay": float("inf"), "floor": float("inf")}
    for _ in range(rounds):
        calls, us = _replay_round(log, keep_sessions)
        best["replay"] = min(best["replay"], us)
        best["floor"] = min(best["floor"], 1e6 * _floor_round(log) / calls)
    share = best["floor"] / best["replay"]
    print(f"replay {best['replay']:.1f} us/call, read-side floor {best['floor']:.1f} us/call "
          f"({100 * share:.0f} %); the originator's own logic {best['replay'] - best['floor']:.1f}")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from simproc import store_result  # noqa: E402
    events = sum(d.count(b"Content-Type: text/event-plain") for k, d in log if k == "rx")
    store_result(out, path.name, {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "calls": calls,
        "events_per_call": events / calls,
        "rx_bytes_per_call": sum(len(d) for k, d in log if k == "rx") / calls,
        "method": f"fastest of {rounds} alternated rounds, CPU (process time)",
        "cpu_us_per_call": best, "floor_share": share,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()}})


#: ``--before`` value: this tree with ``--keep-sessions``, not a git ref (both compiled alike)
KEEP_SESSIONS_REF = "keep-sessions"


def compare(path: Path, before: str, rounds: int, pairs: int, out: Path) -> None:
    with tempfile.TemporaryDirectory() as d:
        extra: dict[str, list[str]] = {"before": [], "after": []}
        if before == KEEP_SESSIONS_REF:
            d, extra["before"] = str(ROOT), ["--keep-sessions"]
        else:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", before, "switchlab"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", d], input=archive, check=True)
        rounds_us: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(pairs):
            for name, tree in (("before", d), ("after", str(ROOT))):
                said = subprocess.run(
                    [sys.executable, __file__, "--replay", str(path), "--rounds", str(rounds),
                     *extra[name]],
                    env=dict(os.environ, PYTHONPATH=tree), cwd=tree, check=True,
                    capture_output=True, text=True).stdout
                rounds_us[name].append(float(said.split()[1]))
        best = {name: min(us) for name, us in rounds_us.items()}
        print(f"before ({before}) {best['before']:.1f} us/call, after {best['after']:.1f} "
              f"us/call: x{best['after'] / best['before']:.2f}")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from simproc import store_result  # noqa: E402
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    store_result(out, f"{before}..{head}", {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "capture": path.name,
        "method": f"fastest of {rounds} rounds x {pairs} alternated pairs, CPU (process time)",
        "cpu_us_per_call": best, "ratio": best["after"] / best["before"],
        "pairs_us_per_call": rounds_us,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()}})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--capture", type=Path, help="record a load test into this file")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--replay", type=Path, help="replay this capture")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--before", help="git ref to compare with (alternated subprocesses); "
                    f"'{KEEP_SESSIONS_REF}': this tree with --keep-sessions")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--floor", action="store_true",
                    help="with --replay: also time the read-side floor, alternated")
    ap.add_argument("--keep-sessions", action="store_true",
                    help="the listener keeps a session and a call for every channel (the "
                         "recorder's hand-over off, as before the ninth round)")
    ap.add_argument("--out", type=Path, help="JSON file (default: data/bench/originator_replay"
                    ".json, originator_floor.json with --floor)")
    args = ap.parse_args()
    if args.capture:
        capture(args.capture, args.rate, args.seconds)
    elif args.replay and args.floor:
        floor(args.replay, args.rounds, args.out or BENCH / "originator_floor.json",
              args.keep_sessions)
    elif args.replay and args.before:
        compare(args.replay, args.before, args.rounds, args.pairs,
                args.out or BENCH / "originator_replay.json")
    elif args.replay:
        sys.path.insert(0, os.environ.get("PYTHONPATH") or str(ROOT))
        replay(args.replay, args.rounds, args.keep_sessions)
    else:
        ap.error("give --capture FILE or --replay FILE")


if __name__ == "__main__":
    main()
