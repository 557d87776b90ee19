"""Write coalescing (``ESLStream.cork``/``uncork``, ``Connection.cork``,
``originator/corks.py``): the commands sent while a connection is corked leave
in one ``send``, in order; closing sends them first, aborting fails them, a
failing send is the reason given for the loss. Over real sockets (FakeESL);
the transport is wrapped only to count its writes, the bytes still go out."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakes import FakeESL, channel_event
from switchlab import Client
from switchlab.connection import ConnectionState, connect
from switchlab.errors import Disconnected
from switchlab.measure import CallRecord
from switchlab.originator.corks import cork, uncork
from switchlab.originator.holds import HoldTimers
from switchlab.wire import serialize


class Counting:
    """The real transport, counting (and optionally failing) its writes."""

    def __init__(self, transport: Any, fail: Exception | None = None) -> None:
        self.transport = transport
        self.writes: list[bytes] = []
        self.fail = fail

    def write(self, data: bytes) -> None:
        if self.fail is not None:
            raise self.fail
        self.writes.append(data)
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def counting(conn: Any, fail: Exception | None = None) -> Counting:
    stream = conn._stream
    wrapped = Counting(stream.transport, fail)
    stream.transport = wrapped
    return wrapped


async def received(fs: FakeESL, n: int) -> list[str]:
    """The lines of the first ``n`` commands after auth, once the peer has them."""
    for _ in range(200):
        cmds = fs.peers[0].commands[1:]
        if len(cmds) >= n:
            return [c.line for c in cmds]
        await asyncio.sleep(0.005)
    return [c.line for c in fs.peers[0].commands[1:]]


def answers_in_one_read(uuids: list[str]) -> Any:
    """A responder: ``api go`` gets its reply and a CHANNEL_ANSWER per uuid in one
    write; ``api uuid_*`` commands get ``+OK``."""
    def responder(cmd, peer):  # type: ignore[no-untyped-def]
        if cmd.line == "api go":
            peer.send(serialize.api_response("+OK\n")
                      + b"".join(channel_event("CHANNEL_ANSWER", u) for u in uuids))
            return True
        if cmd.line.startswith("api uuid_"):
            peer.send(serialize.api_response("+OK\n"))
            return True
        return False
    return responder


API = {f"echo {i}": f"{i}\n" for i in range(6)}


async def corked_echoes(fs: FakeESL, n: int) -> tuple[Any, Counting, Any, list[Any]]:
    """A connection to ``fs``, its counted transport, its corked stream and the
    futures of ``n`` api commands sent while corked."""
    conn = await connect(fs.address)
    wrapped = counting(conn)
    stream = conn.cork()
    assert stream is not None
    return conn, wrapped, stream, [conn.api(f"echo {i}") for i in range(n)]


async def test_corked_commands_leave_in_one_send_in_order() -> None:
    async with FakeESL(api=API) as fs:
        conn, wrapped, stream, futs = await corked_echoes(fs, 6)
        inner = conn.cork()  # nested: only the last uncork sends
        assert wrapped.writes == [] and inner is stream
        inner.uncork()
        assert wrapped.writes == []
        stream.uncork()
        assert len(wrapped.writes) == 1
        assert wrapped.writes[0] == b"".join(f"api echo {i}\n\n".encode() for i in range(6))
        assert await asyncio.gather(*futs) == [f"{i}\n" for i in range(6)]  # replies still FIFO
        assert await received(fs, 6) == [f"api echo {i}" for i in range(6)]
        # not corked: one send per command, as before
        assert await conn.api("echo 1") == "1\n" and len(wrapped.writes) == 2
        await conn.close()


async def test_close_sends_what_is_held_first() -> None:
    async with FakeESL(api=API) as fs:
        conn, wrapped, _stream, futs = await corked_echoes(fs, 3)
        await conn.close()
        assert len(wrapped.writes) == 1
        assert await received(fs, 3) == [f"api echo {i}" for i in range(3)]  # nothing lost
        for fut in futs:  # closed before the replies: each one is told, none hangs
            if fut.done() and fut.exception() is None:
                continue
            with pytest.raises(Disconnected):
                await fut


async def test_abort_drops_what_is_held_and_fails_its_requests() -> None:
    async with FakeESL(api=API) as fs:
        conn, wrapped, stream, futs = await corked_echoes(fs, 3)
        stream.abort()
        for fut in futs:
            with pytest.raises(Disconnected, match="echo"):
                await asyncio.wait_for(fut, 2.0)
        assert wrapped.writes == [] and await received(fs, 1) == []
        assert conn.state is ConnectionState.CLOSED
        await conn.close()


async def test_a_failing_held_send_is_the_reason_for_the_loss(caplog: Any) -> None:
    async with FakeESL(api=API) as fs:
        conn = await connect(fs.address)
        counting(conn, fail=RuntimeError("the transport refused the bytes"))
        stream = conn.cork()
        assert stream is not None
        fut = conn.api("echo 1")
        stream.uncork()
        with pytest.raises(Disconnected, match="the transport refused the bytes"):
            await asyncio.wait_for(fut, 2.0)
        assert conn.state is ConnectionState.CLOSED
        assert "the transport refused the bytes" in (conn.closed_reason or "")
        assert "sending" in caplog.text and "failed" in caplog.text
        await conn.close()


async def test_commands_sent_by_handlers_of_one_read_leave_together() -> None:
    """Event handlers run corked: what they send for one received chunk is one send."""
    uuids = [f"u{i}" for i in range(4)]

    async with FakeESL(responder=answers_in_one_read(uuids)) as fs:
        conn = await connect(fs.address)
        await conn.subscribe("CHANNEL_ANSWER")
        wrapped = counting(conn)
        got: list[str] = []
        conn.on_event = lambda ev: (got.append(ev.uuid), conn.api_forget(f"uuid_kill {ev.uuid}"))
        await conn.api("go")
        lines = await received(fs, 2 + len(uuids))
        assert got == uuids
        assert lines[-len(uuids):] == [f"api uuid_kill {u}" for u in uuids]
        kills = [w for w in wrapped.writes if w.startswith(b"api uuid_kill")]
        assert kills == [b"".join(f"api uuid_kill {u}\n\n".encode() for u in uuids)]
        await conn.close()


async def test_hold_expiries_due_together_leave_in_one_send() -> None:
    async with FakeESL(api={}) as fs:
        client = Client(fs.address)
        await client.connect()
        try:
            assert client.connection is not None
            wrapped = counting(client.connection)
            holds = HoldTimers([client])  # type: ignore[arg-type]
            for cid in ("a", "b", "c"):
                holds.start(CallRecord(cid, host=client.address), 0.0)
            for _ in range(100):
                if len(holds) == 0:
                    break
                await asyncio.sleep(0.005)
            assert wrapped.writes == [b"api uuid_kill a\n\napi uuid_kill b\n\napi uuid_kill c\n\n"]
            assert (await received(fs, 3))[-3:] == [f"api uuid_kill {c}" for c in "abc"]
            # the helper the launcher uses: a client that is not connected is skipped
            corked = cork([client, Client("127.0.0.1:1")])
            assert corked == [client.connection._stream]
            holds.start(CallRecord("d", host=client.address), 0.0)
            holds._fire()  # due now, while the launcher's cork holds it: nothing sent yet
            assert len(wrapped.writes) == 1
            uncork(corked)
            assert wrapped.writes[1:] == [b"api uuid_kill d\n\n"]
        finally:
            await client.close()


async def test_a_handler_that_corks_itself_inside_a_read_sends_each_command_once() -> None:
    uuids = ["u0", "u1", "u2"]

    async with FakeESL(responder=answers_in_one_read(uuids)) as fs:
        conn = await connect(fs.address)
        await conn.subscribe("CHANNEL_ANSWER")
        wrapped = counting(conn)

        def on_event(ev: Any) -> None:
            conn.api_forget(f"uuid_a {ev.uuid}")
            if ev.uuid == "u1":  # its own cork, opened and closed inside the read
                stream = conn.cork()
                assert stream is not None
                conn.api_forget(f"uuid_b {ev.uuid}")
                stream.uncork()
            conn.api_forget(f"uuid_c {ev.uuid}")

        conn.on_event = on_event
        await conn.api("go")
        want = [f"api uuid_{x} {u}" for u in uuids for x in ("ac" if u != "u1" else "abc")]
        lines = await received(fs, 2 + len(want))
        assert lines[-len(want):] == want  # each once, in order
        sent = b"".join(w for w in wrapped.writes if w.startswith(b"api uuid_"))
        assert sent == b"".join(f"{line}\n\n".encode() for line in want)
        assert len(wrapped.writes) == 2  # the api go, then one send for the whole read
        await conn.close()
