"""A small scripted event-socket peer on 127.0.0.1, for connection-level tests.

It speaks the bytes FreeSWITCH speaks (built with ``switchlab.wire.serialize``
or cut from the recorded transcripts) and can be made to do what a real
server cannot be made to do on demand: vanish mid-frame, send garbage, stall,
send a disconnect notice at a chosen moment.

>>> async with FakeESL() as fs:            # doctest: +SKIP
...     conn = await connect(fs.address)
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid as _uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from switchlab.errors import APIError
from switchlab.wire import CommandParser, FrameParser, serialize
from switchlab.wire.parser import Command

WIRE = Path(__file__).parent / "data" / "fs-wire"


def transcript_frames(name: str) -> list[bytes]:
    """The raw bytes of every frame of transcript ``name`` (e.g. ``call_selfloop_plain``)."""
    raw = (WIRE / f"{name}.raw").read_bytes()
    out = []
    pos = 0
    while pos < len(raw):
        n = _frame_len(raw, pos)
        out.append(raw[pos:pos + n])
        pos += n
    assert len(FrameParser().feed(raw)) == len(out)
    return out


def _frame_len(raw: bytes, pos: int) -> int:
    start = pos
    while raw[start:start + 1] == b"\n":
        start += 1
    end = raw.index(b"\n\n", start)
    cl = 0
    for line in raw[start:end].split(b"\n"):
        if line.startswith(b"Content-Length:"):
            cl = int(line.split(b":", 1)[1])
            break
    return end + 2 + cl - pos


def event_frames(name: str) -> list[bytes]:
    """Only the event frames of a transcript."""
    return [f for f in transcript_frames(name) if b"Content-Type: text/event-" in f.split(b"\n\n", 1)[0]]


class Peer:
    """One accepted client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.commands: list[Command] = []
        self.authed = False
        self.subscribed: set[str] = set()
        self.fmt = "plain"

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.transport.abort()


Responder = Callable[[Command, Peer], "Awaitable[bool] | bool"]


class FakeESL:
    """A scripted ESL server. ``responder(cmd, peer)`` may handle a command
    (return True) before the defaults run; ``api`` maps api commands to bodies.

    Defaults: greeting, ``auth`` against ``password`` (``-ERR invalid`` +
    disconnect notice + close on mismatch), ``api`` (``api`` dict, else
    ``-ERR <cmd> Command not found!``), ``bgapi`` (reply with the client's
    Job-UUID, then a BACKGROUND_JOB after ``bgapi_delay`` with
    ``bgapi_body``), ``event``/``nixevent``/``filter``/``myevents``/
    ``linger``/``sendmsg`` (``+OK``), ``exit`` (``+OK bye``, notice, close).
    """

    def __init__(self, password: str = "ClueCon", *, api: dict[str, str] | None = None,
                 responder: Responder | None = None, greeting: bool = True,
                 bgapi_body: Callable[[str], str] = lambda cmd: f"+OK {_uuid.uuid4()}\n",
                 bgapi_delay: float = 0.0) -> None:
        self.password = password
        self.api = dict(api or {})
        self.responder = responder
        self.greeting = greeting
        self.bgapi_body = bgapi_body
        self.bgapi_delay = bgapi_delay
        self.peers: list[Peer] = []
        self.connected = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeESL:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        for p in self.peers:
            p.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def restart(self) -> None:
        """Listen again on the same port (after :meth:`stop`)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(reader, writer)
        self.peers.append(peer)
        self.connected.set()
        if self.greeting:
            peer.send(serialize.AUTH_REQUEST_FRAME)
        parser = CommandParser()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for cmd in parser.feed(data):
                    peer.commands.append(cmd)
                    await self._handle(cmd, peer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, cmd: Command, peer: Peer) -> None:
        if self.responder is not None:
            handled = self.responder(cmd, peer)
            if asyncio.iscoroutine(handled):
                handled = await handled
            if handled:
                return
        verb, arg = cmd.verb, cmd.arg
        if verb == "auth":
            if arg == self.password:
                peer.authed = True
                peer.send(serialize.command_reply("+OK accepted"))
            else:
                peer.send(serialize.command_reply("-ERR invalid"))
                peer.send(serialize.disconnect_notice())
                peer.close()
            return
        if not peer.authed:
            peer.send(serialize.command_reply("-ERR command not found"))
            return
        if verb == "api":
            body = self.api.get(arg)
            if body is None:
                body = f"-ERR {arg.split(' ')[0]} Command not found!\n"
            peer.send(serialize.api_response(body))
        elif verb == "bgapi":
            job = cmd.headers.get("Job-UUID") or str(_uuid.uuid4())
            peer.send(serialize.command_reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)]))
            body = self.bgapi_body(arg)
            if self.bgapi_delay:
                await asyncio.sleep(self.bgapi_delay)
            if "BACKGROUND_JOB" in peer.subscribed or "ALL" in peer.subscribed:
                peer.send(background_job(job, arg, body, peer.fmt))
        elif verb == "event":
            fmt, *names = arg.split()
            peer.fmt = fmt
            peer.subscribed.update(names)
            peer.send(serialize.command_reply(f"+OK event listener enabled {fmt}"))
        elif verb == "nixevent":
            peer.subscribed.difference_update(arg.split())
            peer.send(serialize.command_reply("+OK events nixed"))
        elif verb == "noevents":
            peer.subscribed.clear()
            peer.send(serialize.command_reply("+OK no longer listening for events"))
        elif verb == "filter":
            peer.send(serialize.command_reply("+OK filter added."))
        elif verb == "exit":
            peer.send(serialize.command_reply("+OK bye"))
            peer.send(serialize.disconnect_notice())
            peer.close()
        else:
            peer.send(serialize.command_reply("+OK"))


def answer_verb(verb: str, data: bytes) -> Responder:
    """A responder sending ``data`` for every ``verb`` command (the rest go to the defaults).

    >>> FakeESL(responder=answer_verb("api", serialize.api_response("+OK\\n")))  # doctest: +SKIP
    """
    def responder(cmd: Command, peer: Peer) -> bool:
        if cmd.verb == verb:
            peer.send(data)
            return True
        return False
    return responder


def background_job(job_uuid: str, command: str, body: str, fmt: str = "plain") -> bytes:
    """A BACKGROUND_JOB event frame as FreeSWITCH writes it."""
    name, _, arg = command.partition(" ")
    headers = [("Event-Name", "BACKGROUND_JOB"), ("Core-UUID", "fake"),
               ("Event-Date-Timestamp", "1795691766132318"), ("Event-Sequence", "1"),
               ("Job-UUID", job_uuid), ("Job-Command", name), ("Job-Command-Arg", arg)]
    return serialize.EVENT_ENCODERS[fmt](headers, body.encode())


def channel_event(name: str, uuid: str, **extra: str) -> bytes:
    """A minimal plain channel event frame."""
    headers = [("Event-Name", name), ("Core-UUID", "fake"),
               ("Event-Date-Timestamp", extra.pop("ts", "1795691766132318")),
               ("Unique-ID", uuid)] + list(extra.items())
    return serialize.event_plain(headers)


class FakeSwitch:
    """A responder for :class:`FakeESL` that plays calls, to test the state layer
    deterministically and fast (the emulator and real FreeSWITCH are the live
    tests). ``originate {vars}sofia/<profile>/<dest> &park()`` creates an
    outbound leg and an inbound leg that gets the ``sip_h_X-*`` variables;
    destinations starting with ``answer`` are answered at once, ``busy`` fails
    with USER_BUSY, anything else is parked until ``uuid_answer``;
    ``uuid_kill``/``hupall`` end legs (and their peer).
    """

    def __init__(self, ts_start: int = 1795691766000000) -> None:
        self.legs: dict[str, dict[str, str]] = {}
        self.peer_of: dict[str, str] = {}
        self.jobs: dict[str, tuple[str, str, Peer]] = {}  # outbound uuid -> (job uuid, cmd, peer)
        self.ts = ts_start

    def _stamp(self) -> str:
        self.ts += 20000
        return str(self.ts)

    def event(self, name: str, uuid: str, full: bool = True, **extra: str) -> bytes:
        leg = self.legs[uuid]
        headers = [("Event-Name", name), ("Core-UUID", "fake"),
                   ("Event-Date-Timestamp", self._stamp()), ("Unique-ID", uuid),
                   ("Call-Direction", leg["direction"]), ("Channel-State", leg["state"])]
        headers += list(extra.items())
        if full:
            headers += [(f"variable_{k}", v) for k, v in leg["vars"].items()]  # type: ignore[union-attr]
        return serialize.event_plain(headers)

    def __call__(self, cmd: Command, peer: Peer) -> bool:
        if cmd.verb == "bgapi" and cmd.arg.startswith("originate "):
            self.originate(cmd.headers["Job-UUID"], cmd.arg, peer)
            return True
        if cmd.verb != "api":
            return False
        words = cmd.arg.split()
        if words[0] == "uuid_answer":
            uuid = words[1]
            if uuid not in self.legs:
                peer.send(serialize.api_response("-ERROR\n"))
                return True
            peer.send(serialize.api_response("+OK\n"))
            self.answer(uuid, peer)
        elif words[0] == "uuid_kill":
            uuid = words[1]
            if uuid not in self.legs:
                peer.send(serialize.api_response("-ERR No such channel!\n"))
                return True
            peer.send(serialize.api_response("+OK\n"))
            self.kill(uuid, words[2] if len(words) > 2 else "NORMAL_CLEARING", peer)
        elif words[0] == "hupall":
            cause = words[1]
            var, value = (words[2], words[3]) if len(words) >= 4 else (None, None)
            doomed = [u for u, leg in self.legs.items()
                      if var is None or leg["vars"].get(var) == value]  # type: ignore[union-attr]
            peer.send(serialize.api_response(f"+OK hangup all channels with cause {cause}\n"))
            for u in doomed:
                if u in self.legs:
                    self.kill(u, cause, peer)
        elif words[0] == "sofia":
            peer.send(serialize.api_response(
                "Name             \texternal\nURL              \tsip:mod_sofia@127.0.0.1:5080\n"
                if words[-1] == "external" else "Invalid Profile!\n"))
        elif words[0] == "show":
            rows = [{"uuid": u} for u in self.legs]
            body = json.dumps({"row_count": len(rows), "rows": rows}) if rows else '{"row_count": 0}\n'
            peer.send(serialize.api_response(body))
        else:
            peer.send(serialize.api_response("+OK\n"))
        return True

    def originate(self, job: str, arg: str, peer: Peer) -> None:
        m = re.fullmatch(r"originate (?:\{([^}]*)\})?sofia/(\S+?)/(\S+) &park\(\)", arg)
        assert m, arg
        vars_ = dict(kv.split("=", 1) for kv in (m.group(1) or "").split(",") if kv)
        out = vars_.get("origination_uuid") or str(_uuid.uuid4())
        dest = m.group(3)
        peer.send(serialize.command_reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)]))
        self.legs[out] = {"direction": "outbound", "state": "CS_INIT", "vars": dict(vars_)}
        data = self.event("CHANNEL_OUTGOING", out, full=False) + self.event("CHANNEL_CREATE", out)
        if dest.startswith("busy"):
            data += self._end(out, "USER_BUSY")
            data += background_job(job, arg, "-ERR USER_BUSY\n")
            peer.send(data)
            return
        inb = str(_uuid.uuid4())
        xvars = {k: v for k, v in vars_.items() if k.startswith("sip_h_X-")}
        self.legs[inb] = {"direction": "inbound", "state": "CS_INIT", "vars": xvars}
        self.peer_of[out], self.peer_of[inb] = inb, out
        self.jobs[out] = (job, arg, peer)
        data += self.event("CHANNEL_STATE", inb, full=False) + self.event("CHANNEL_CREATE", inb)
        self.legs[inb]["state"] = "CS_EXECUTE"
        data += self.event("CHANNEL_PARK", inb)
        peer.send(data)
        if dest.startswith("answer"):
            self.answer(inb, peer)

    def answer(self, inb: str, peer: Peer) -> None:
        out = self.peer_of.get(inb)
        data = self.event("CHANNEL_ANSWER", inb, **{"Answer-State": "answered"})
        if out is not None and out in self.jobs:
            job, arg, _ = self.jobs.pop(out)
            data += self.event("CHANNEL_ANSWER", out, **{"Answer-State": "answered"})
            data += background_job(job, arg, f"+OK {out}\n")
            self.legs[out]["state"] = "CS_EXECUTE"
            data += self.event("CHANNEL_PARK", out)
        peer.send(data)

    def _end(self, uuid: str, cause: str) -> bytes:
        self.legs[uuid]["state"] = "CS_HANGUP"
        data = self.event("CHANNEL_HANGUP", uuid, **{"Hangup-Cause": cause})
        data += self.event("CHANNEL_HANGUP_COMPLETE", uuid, **{"Hangup-Cause": cause})
        data += self.event("CHANNEL_DESTROY", uuid)
        self.legs[uuid]["state"] = "CS_DESTROY"
        data += self.event("CHANNEL_STATE", uuid, full=False)
        del self.legs[uuid]
        return data

    def kill(self, uuid: str, cause: str, peer: Peer) -> None:
        data = self._end(uuid, cause)
        other = self.peer_of.pop(uuid, None)
        if other is not None:
            self.peer_of.pop(other, None)
            if other in self.legs:
                data += self._end(other, "NORMAL_CLEARING")
            pending = self.jobs.pop(uuid, None) or self.jobs.pop(other, None)
            if pending:
                data += background_job(pending[0], pending[1], f"-ERR {cause}\n")
        peer.send(data)


class FakeJob:
    """What the recorder reads of a bgapi :class:`~switchlab.Job`."""

    def __init__(self) -> None:
        self.future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.body: str | None = None
        self.done_at: float | None = None

    def ok(self, uuid: str) -> None:
        self.body, self.done_at = f"+OK {uuid}\n", time.monotonic()
        self.future.set_result(uuid)

    def err(self, cause: str) -> None:
        self.body, self.done_at = f"-ERR {cause}\n", time.monotonic()
        self.future.set_exception(APIError("originate", self.body))
