"""The emulator delivers events the way mod_event_socket's listener thread does.

``read_packet`` sends what is queued, then sleeps in a 20 ms ``switch_poll`` on the
client's socket; a command wakes it at once (reply first, then the queue). So a quiet
client receives events in bursts on a 20 ms grid, and an app that reacts to an event
(park -> answer) pays that delay, as on a real FreeSWITCH (../shared/fs-wire/TIMING.md:
TonePlay setup latency p50 28 ms / p95 30-34 ms there).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from contextlib import asynccontextmanager

import pytest

from switchlab import Client
from switchlab.apps.players import TonePlay
from switchlab.originator import Originator, loopback_destinations
from switchlab.sim import DUTModel, Emulator
from switchlab.sim.dut import Latency
from switchlab.wire import FrameParser

POLL = 0.020


Arrivals = list[tuple[float, str]]


@asynccontextmanager
async def _quiet_client(poll_s: float, ringing_ms: int,
                        ring_ms: int) -> AsyncIterator[tuple[asyncio.StreamWriter, Arrivals,
                                                             Emulator]]:
    """An emulator with a ``poll_s`` event poll whose DUT rings after ``ringing_ms`` and
    answers ``ring_ms`` later, and a raw client subscribed to every event that sends
    nothing more by itself: its writer, the arrival time and content type of every
    frame it receives, and the emulator."""
    dut = DUTModel(seed=3, trying_ms=0, ringing_ms=Latency.fixed(ringing_ms),
                   ring_ms=Latency.fixed(ring_ms), failures={}, answer_probability=1.0,
                   knee_ms=0)
    async with Emulator(hosts=1, port=0, dut=dut) as fs:
        for host in fs.hosts:
            host.event_poll_s = poll_s
        reader, writer = await asyncio.open_connection(*fs.esl_addresses[0])
        parser = FrameParser()
        arrivals: Arrivals = []

        async def read() -> None:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    return
                now = time.monotonic()
                arrivals.extend((now, frame.content_type) for frame in parser.feed(data))

        task = asyncio.create_task(read())
        writer.write(b"auth ClueCon\n\nevent plain ALL\n\n")
        await asyncio.sleep(0.1)
        try:
            yield writer, arrivals, fs
        finally:
            writer.write(b"exit\n\n")
            await asyncio.sleep(0.05)
            task.cancel()
            writer.close()


async def _bursts(poll_s: float) -> tuple[list[float], float]:
    """One call to a DUT that rings (30 ms) and answers (70 ms later), watched by a quiet
    raw client: the arrival times of the event bursts (relative to the ``bgapi`` sent)
    and the reply's delay."""
    async with _quiet_client(poll_s, 30, 70) as (writer, arrivals, _):
        sent = time.monotonic()
        writer.write(b"bgapi originate {origination_uuid=3f1c2a9e-0000-4000-8000-00000000a001}"
                     b"sofia/external/switchlab@127.0.0.1:5070 &park()\n\n")
        await asyncio.sleep(0.5)
    at = next(i for i, (t, ct) in enumerate(arrivals) if t >= sent and ct == "command/reply")
    reply_at = arrivals[at][0]
    bursts: list[float] = []
    for t, ct in arrivals[at + 1:]:  # reads less than 3 ms apart are one burst
        if ct.startswith("text/event"):
            if not bursts or t - sent - bursts[-1] > 0.003:
                bursts.append(t - sent)
    return bursts, reply_at - sent


async def test_a_quiet_client_gets_events_on_the_20ms_poll() -> None:
    bursts, reply_delay = await _bursts(POLL)
    # the command itself is answered at once: before the first poll sends any event
    assert reply_delay < bursts[0] and reply_delay < 0.25, (reply_delay, bursts)
    assert len(bursts) >= 3, bursts  # create, 180, 200 OK: three moments
    # nothing before the listener's first wake-up, and wake-ups never closer than a poll
    assert bursts[0] >= POLL - 0.001, bursts
    gaps = [b - a for a, b in zip(bursts, bursts[1:])]
    assert min(gaps) >= POLL - 0.003, bursts


async def test_immediate_delivery_when_the_poll_is_off() -> None:
    bursts, reply_delay = await _bursts(0.0)
    # the call's first events follow the reply in the same turn of the loop, while a
    # poll would hold them at least 20 ms after it (the emulator and the client share
    # one loop, so a slow machine delays both alike)
    assert bursts and bursts[0] - reply_delay < POLL / 2, (reply_delay, bursts)


async def test_a_command_flushes_the_queue_after_its_reply() -> None:
    """With a 1 s poll, the events of a call sit in the queue (nothing reaches the quiet
    client); an ``api`` command sends its reply, then the queue at once, long before
    the poll would. The margins are hundreds of milliseconds, not a few: a loaded CI
    machine cannot blur them."""
    poll = 1.0
    async with _quiet_client(poll, 10, 20) as (writer, arrivals, _):
        sent = time.monotonic()
        writer.write(b"bgapi originate {origination_uuid=3f1c2a9e-0000-4000-8000-00000000a002}"
                     b"sofia/external/switchlab@127.0.0.1:5070 &park()\n\n")
        await asyncio.sleep(0.2)  # the call rang and was answered: its events are queued
        quiet = [ct for t, ct in arrivals if t >= sent and ct.startswith("text/event")]
        command_sent = time.monotonic()
        writer.write(b"api uuid_kill 3f1c2a9e-0000-4000-8000-00000000a002\n\n")
        await asyncio.sleep(0.3)
        after = [(t - command_sent, ct) for t, ct in arrivals if t >= command_sent]
    assert quiet == [], "events reached a quiet client before the poll"
    kinds = [ct for _, ct in after]
    assert kinds[0] == "api/response", kinds  # the reply first
    events = [t for t, ct in after if ct.startswith("text/event")]
    assert events, kinds
    assert events[0] < poll / 4, events  # then the queue, not at the next poll


async def test_app_reaction_pays_the_delivery_delay_like_freeswitch() -> None:
    """TonePlay answers the parked leg when it learns of the park: the setup latency
    (FreeSWITCH's clock) includes the listener's poll, ~20-35 ms as on a real server,
    not the 1-3 ms of instant delivery."""
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=5), tick_us=1000) as fs:
        client = Client(*fs.esl_addresses[0])
        await client.connect()
        dest = await loopback_destinations([client])
        orig = Originator([client], dest=dest, rate=20, limit=4, duration=0.05,
                          max_offered=40, apps={"tone": TonePlay})
        orig.start()
        assert await orig.wait(30)
        run = await orig.close()
    setup = run.df.setup_latency.dropna()
    assert len(setup) == 40
    assert setup.median() >= POLL
    assert setup.median() == pytest.approx(0.028, abs=0.012)


async def test_events_keep_their_order_while_commands_interleave() -> None:
    """Commands arriving while events are queued (reply first, then one queue): every
    channel's events still arrive in Event-Sequence order."""
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=4)) as fs:
        host_, port = fs.esl_addresses[0]
        reader, writer = await asyncio.open_connection(host_, port)
        writer.write(b"auth ClueCon\n\nevent plain ALL\n\n")
        uuids = [f"3f1c2a9e-0000-4000-8000-00000000b{k:03d}" for k in range(6)]
        for uid in uuids:
            writer.write(f"bgapi originate {{origination_uuid={uid}}}sofia/external/"
                         f"answer@127.0.0.1:5080 &park()\n\n".encode())
            await asyncio.sleep(0.002)
            # an api whose events (the hangup) follow the leg's still-queued ones
            writer.write(f"api uuid_kill {uid}\n\n".encode())
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.5)
        writer.write(b"exit\n\n")
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    seqs: dict[str, list[int]] = {}
    for frame in FrameParser().feed(data):
        if frame.content_type == "text/event-plain":
            head = dict(line.split(": ", 1) for line in
                        frame.body.decode().split("\n\n", 1)[0].split("\n") if ": " in line)
            if "Unique-ID" in head:
                seqs.setdefault(head["Unique-ID"], []).append(int(head["Event-Sequence"]))
    assert set(uuids) <= set(seqs)
    for uid, numbers in seqs.items():
        assert numbers == sorted(numbers), uid


class _Recording:
    """A transport that records each write call of the server side, then makes it."""

    def __init__(self, real: asyncio.Transport) -> None:
        self.real = real
        self.calls: list[tuple[str, list[bytes]]] = []

    def write(self, data: bytes) -> None:
        self.calls.append(("write", [data]))
        self.real.write(data)

    def writelines(self, lines: list[bytes]) -> None:
        self.calls.append(("writelines", list(lines)))
        self.real.writelines(lines)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def _record_writes(fs: Emulator) -> tuple[Any, _Recording]:
    """The one listener of ``fs``'s host, its transport swapped for a recording one."""
    (srv,) = fs.hosts[0].listeners
    assert srv.transport is not None
    rec = _Recording(srv.transport)
    srv.transport = rec  # type: ignore[assignment]
    return srv, rec


async def test_a_reply_and_the_queue_it_flushes_go_out_in_one_write() -> None:
    """The reply to a command and the events queued before it leave in one write (one
    ``writev``, not a ``write`` and then a ``writev``), reply first, as the client reads
    them over the socket."""
    async with _quiet_client(1.0, 10, 20) as (writer, arrivals, fs):
        writer.write(b"bgapi originate {origination_uuid=3f1c2a9e-0000-4000-8000-00000000a003}"
                     b"sofia/external/switchlab@127.0.0.1:5070 &park()\n\n")
        await asyncio.sleep(0.2)  # answered; its events wait for the 1 s poll
        srv, rec = _record_writes(fs)
        command_sent = time.monotonic()
        writer.write(b"api uuid_kill 3f1c2a9e-0000-4000-8000-00000000a003\n\n")
        await asyncio.sleep(0.3)
        srv.transport = rec.real
        after = [ct for t, ct in arrivals if t >= command_sent]
    assert after[0] == "api/response" and "text/event-plain" in after, after
    first_kind, first_lines = rec.calls[0]
    assert first_kind == "writelines", rec.calls[:3]
    frames = FrameParser().feed(b"".join(first_lines))
    assert frames[0].content_type == "api/response", [f.content_type for f in frames]
    assert len(frames) > 1 and all(f.content_type == "text/event-plain" for f in frames[1:])
    assert not any(kind == "write" for kind, _ in rec.calls), rec.calls


async def test_the_commands_of_one_read_leave_in_one_write() -> None:
    """Commands that arrive in one read: their replies, and the events each one flushes,
    leave in one ``writev`` when the last is done, in the order a write per reply and per
    flush gives them (a busy emulator reads several commands at a time)."""
    uuid = "3f1c2a9e-0000-4000-8000-00000000a004"
    async with _quiet_client(1.0, 10, 20) as (writer, arrivals, fs):
        writer.write(f"bgapi originate {{origination_uuid={uuid}}}"
                     "sofia/external/switchlab@127.0.0.1:5070 &park()\n\n".encode())
        await asyncio.sleep(0.2)  # answered; its events wait for the 1 s poll
        srv, rec = _record_writes(fs)
        sent = time.monotonic()
        writer.write(f"api uuid_kill {uuid}\n\napi status\n\nbgapi status\n\n".encode())
        await asyncio.sleep(0.3)  # less than the poll: what bgapi caused is not sent yet
        srv.transport = rec.real
        after = [ct for t, ct in arrivals if t >= sent]
    assert [kind for kind, _ in rec.calls] == ["writelines"], rec.calls
    kinds = [f.content_type for f in FrameParser().feed(b"".join(rec.calls[0][1]))]
    # uuid_kill's reply, then the queue (the originate's events and the hangup it caused),
    # the second api's reply and its API event, then bgapi's reply: as one by one
    assert kinds[0] == "api/response" and kinds[-1] == "command/reply", kinds
    assert kinds.count("api/response") == 2 and kinds.count("command/reply") == 1, kinds
    assert kinds.index("api/response", 1) > 5 and "text/event-plain" in kinds, kinds
    assert after == kinds  # the client read the same frames in the same order
