"""Connection-level tests against a scripted ESL peer on loopback (tests/fakes.py)
and, where the behaviour is observable on any server, against ``fshost``."""
from __future__ import annotations

import ast
import asyncio
import logging
import random
import re
import socket

import pytest

from fakes import (FakeESL, answer_verb, background_job, channel_event, event_frames,
                   transcript_frames)
from switchlab.connection import ConnectionState, Reconnect, connect, parse_address
from switchlab.errors import (APIError, AuthenticationError, CommandError, CommandFailed,
                              ConnectionFailed, Disconnected)
from switchlab.wire import serialize
from switchlab.wire.frames import GOODBYE

SECRET = "s3cr3t-Pa55"


def sent_commands(name: str) -> list[str]:
    """The commands a transcript's client sent, in order."""
    from fakes import WIRE
    out = []
    for line in (WIRE / f"{name}.sent.txt").read_text().splitlines():
        m = re.search(r"# SEND (.*)$", line)
        if m:
            out.append(ast.literal_eval(m.group(1)))
    return out


# -- addresses ---------------------------------------------------------------
def test_parse_address_forms() -> None:
    assert parse_address("127.0.0.1") == ("127.0.0.1", 8021)
    assert parse_address("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert parse_address("127.0.0.1", 9001) == ("127.0.0.1", 9001)
    assert parse_address("127.0.0.1", "9002") == ("127.0.0.1", 9002)
    assert parse_address("[::1]:8021") == ("::1", 8021)
    for bad in ("", "a b", "h:0", "h:70000", "h:x"):
        with pytest.raises(ValueError):
            parse_address(bad)
    with pytest.raises(ValueError, match="disagree"):
        parse_address("h:1", 2)


# -- connecting and authenticating --------------------------------------------
async def test_auth_ok_and_api_body() -> None:
    async with FakeESL(password=SECRET, api={"status": "UP 1\nready\n"}) as fs:
        conn = await connect(fs.address, password=SECRET)
        assert conn.state is ConnectionState.CONNECTED
        assert await conn.api("status") == "UP 1\nready\n"
        assert fs.peers[0].commands[0].line == f"auth {SECRET}"
        assert SECRET not in repr(conn) and SECRET not in str(vars(conn))
        await conn.close()
        assert conn.state is ConnectionState.CLOSED


async def test_wrong_password_names_address_and_hides_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeESL(password="right") as fs:
        with pytest.raises(AuthenticationError) as info:
            await connect(fs.address, password=SECRET)
        text = str(info.value)
        assert fs.address in text and "password" in text
        assert SECRET not in text and SECRET not in repr(info.value)
    assert SECRET not in caplog.text


async def test_auth_fail_replays_real_bytes() -> None:
    frames = transcript_frames("auth_fail")  # greeting, -ERR invalid, disconnect notice

    def replay(cmd, peer):
        if cmd.verb == "auth":
            peer.send(b"".join(frames[1:]))
            peer.close()
            return True
        return False

    async with FakeESL(greeting=False, responder=replay) as fs:
        async def greet():
            await fs.connected.wait()
            fs.peers[0].send(frames[0])
        task = asyncio.create_task(greet())
        with pytest.raises(AuthenticationError, match=re.escape(fs.address)):
            await connect(fs.address, password="WrongPassword")
        await task


async def test_refused_names_address_and_what_to_check() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ConnectionFailed) as info:
        await connect(f"127.0.0.1:{port}", password=SECRET, timeout=2)
    text = str(info.value)
    assert f"127.0.0.1:{port}" in text
    assert "mod_event_socket" in text and "ACL" in text and "firewall" in text
    assert SECRET not in text


async def test_silent_server_times_out_with_clear_error() -> None:
    async with FakeESL(greeting=False) as fs:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(ConnectionFailed, match="greeting") as info:
            await connect(fs.address, timeout=0.3)
        assert loop.time() - t0 < 2
        assert fs.address in str(info.value)


async def test_rude_rejection_is_an_acl_error() -> None:
    async def reject(reader, writer):
        writer.write(serialize.rude_rejection())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(reject, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConnectionFailed, match="ACL"):
            await connect(f"127.0.0.1:{port}", timeout=2)
    finally:
        server.close()
        await server.wait_closed()


async def test_password_with_newline_is_refused_without_echo() -> None:
    with pytest.raises(CommandError) as info:
        await connect("127.0.0.1:1", password="ab\napi status")
    assert "api status" not in str(info.value)


# -- api ---------------------------------------------------------------------
async def test_api_errors_and_raw_bodies() -> None:
    api = {"uuid_kill 0": "-ERR No such channel!\n", "uuid_answer 0": "-ERROR\n",
           "sofia status profile nosuch": "Invalid Profile!\n", "uuid_kill": "-USAGE: <uuid>\n"}
    async with FakeESL(api=api) as fs:
        conn = await connect(fs.address)
        with pytest.raises(APIError) as info:
            await conn.api("no_such_command")
        assert info.value.text == "no_such_command Command not found!"
        with pytest.raises(APIError) as info:
            await conn.api("uuid_kill 0")
        assert info.value.text == "No such channel!"
        with pytest.raises(APIError) as info:
            await conn.api("uuid_answer 0")
        assert info.value.text == "ERROR" and "-ERROR" in str(info.value)
        with pytest.raises(APIError):
            await conn.api("uuid_kill")
        assert await conn.api("uuid_answer 0", check=False) == "-ERROR\n"
        assert await conn.api("sofia status profile nosuch") == "Invalid Profile!\n"
        with pytest.raises(CommandError):
            conn.api("status\n\nexit")
        await conn.close()


async def test_api_catalog_replayed_in_flight_matches_fifo() -> None:
    """Send every api command of the catalog at once; the real response bytes
    come back in one stream cut at random points; each body lands on its command."""
    frames = transcript_frames("api_catalog")
    sent = [c[:-2] for c in sent_commands("api_catalog")]
    assert sent[0] == "auth ClueCon" and sent[-1] == "exit"
    replies = frames[2:-2]  # after greeting + auth reply, before +OK bye + notice
    pairs = [(cmd[4:], rep) for cmd, rep in zip(sent[1:-1], replies)
             if cmd not in ("api", "api ")]  # the encoder refuses empty api commands
    expected = [serialize_body(rep) for _, rep in pairs]
    stream = b"".join(rep for _, rep in pairs)
    rng = random.Random(5)
    got_cmds = []

    async def responder(cmd, peer):
        if cmd.verb != "api":
            return False
        got_cmds.append(cmd.arg)
        if len(got_cmds) == len(pairs):  # everything sent: answer all, badly chunked
            pos = 0
            while pos < len(stream):
                n = rng.randint(1, 700)
                peer.send(stream[pos:pos + n])
                await peer.writer.drain()
                pos += n
        return True

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        futs = [conn.api(cmd, check=False) for cmd, _ in pairs]
        bodies = await asyncio.wait_for(asyncio.gather(*futs), 10)
        assert got_cmds == [c for c, _ in pairs]
        assert bodies == expected
        assert bodies[0].startswith("FreeSWITCH Version 1.11.1")
        await conn.close()


def serialize_body(frame: bytes) -> str:
    return frame.split(b"\n\n", 1)[1].decode()


async def test_events_interleave_with_replies() -> None:
    events = event_frames("call_selfloop_plain")
    uuids = []

    def responder(cmd, peer):
        if cmd.verb == "api":
            # events before and after the response, all in one write
            peer.send(b"".join(events[:10]) + serialize.api_response(f"body-{cmd.arg}\n")
                      + b"".join(events[10:20]))
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        conn.on_event = lambda ev: uuids.append((ev.name, ev.uuid, ev.received, ev.host))
        assert await conn.subscribe() == "+OK event listener enabled plain"
        results = await asyncio.gather(*(conn.api(f"x{i}") for i in range(5)))
        assert results == [f"body-x{i}\n" for i in range(5)]
        await asyncio.sleep(0.05)
        assert len(uuids) == 100
        first = event_frames("call_selfloop_plain")[0]
        name = re.search(rb"Event-Name: (\S+)", first).group(1).decode()
        assert uuids[0][0] == name
        assert all(h == "127.0.0.1" and rx > 0 for _, _, rx, h in uuids)
        rxs = [rx for *_, rx, _h in uuids]
        assert rxs == sorted(rxs)
        await conn.close()


async def test_json_and_xml_events_decode() -> None:
    json_events = event_frames("call_selfloop_json")
    xml_events = event_frames("event_xml")
    got = []

    reply = b"".join(json_events + xml_events) + serialize.api_response("+OK\n")
    async with FakeESL(responder=answer_verb("api", reply)) as fs:
        conn = await connect(fs.address)
        conn.add_event_handler(got.append)
        await conn.subscribe(fmt="json")
        await conn.api("go")
        assert len(got) == len(json_events) + len(xml_events)
        names = {ev.name for ev in got}
        assert {"CHANNEL_CREATE", "BACKGROUND_JOB", "CHANNEL_ANSWER"} <= names
        bj = [ev for ev in got if ev.name == "BACKGROUND_JOB"]
        assert bj[0].body == b"+OK d38232f8-a224-4c93-8236-345d52f82927\n"
        assert bj[1].body.startswith(b"+OK f7819434-0db8-41a9-9559-7653a10954c5")
        await conn.close()


async def test_named_event_sinks_get_the_name_in_registration_order(caplog) -> None:
    """``add_named_event_handler``: every event and its Event-Name (read once; a
    job's BACKGROUND_JOB still settles it), called in registration order with the
    plain sinks, ``on_event`` first; a failing sink is logged and the rest still
    run; removed, it gets nothing more."""
    frames = event_frames("call_selfloop_plain") + event_frames("call_selfloop_json")[:3]
    reply = b"".join(frames) + serialize.api_response("+OK\n")
    async with FakeESL(responder=answer_verb("api", reply)) as fs:
        conn = await connect(fs.address)
        order: list[tuple[str, str, str]] = []

        def named(tag: str):  # type: ignore[no-untyped-def]
            def sink(ev, name):  # type: ignore[no-untyped-def]
                assert name == ev.name
                order.append((tag, ev.name, ev.uuid or ""))
            return sink

        def failing(ev, name):  # type: ignore[no-untyped-def]
            raise RuntimeError("a bad sink")

        first, last = named("first"), named("last")
        conn.add_named_event_handler(first)
        conn.add_event_handler(lambda ev: order.append(("plain", ev.name, ev.uuid or "")))
        conn.add_named_event_handler(failing)
        conn.add_named_event_handler(last)
        conn.on_event = lambda ev: order.append(("on_event", ev.name, ev.uuid or ""))
        job = conn.bgapi("status")
        await conn.api("go")
        await asyncio.wait_for(job, 5)
        tags = ["on_event", "first", "plain", "last"]
        n = len(frames) + 1  # and the job's BACKGROUND_JOB
        assert [t for t, _, _ in order] == tags * n
        assert [e for t, e, _ in order if t == "first"] == [e for t, e, _ in order
                                                              if t == "on_event"]
        assert "a bad sink" in caplog.text
        for fn in (first, failing, last):
            conn.remove_named_event_handler(fn)
        conn.on_event = None
        await conn.api("go")
        assert [t for t, _, _ in order][len(tags) * n:] == ["plain"] * len(frames)
        await conn.close()


# -- bgapi -------------------------------------------------------------------
async def test_bgapi_job_resolves_and_fails_with_cause() -> None:
    bodies = {"originate ok": "+OK 4c6198d3-901d-4e03-8997-4797f06e06ca\n",
              "originate busy": "-ERR USER_BUSY\n"}
    async with FakeESL(bgapi_body=lambda cmd: bodies[cmd]) as fs:
        conn = await connect(fs.address)
        done = []
        conn.add_handler("job", done.append)
        ok = conn.bgapi("originate ok")
        busy = conn.bgapi("originate busy", job_uuid="my-job-1")
        assert await ok == "4c6198d3-901d-4e03-8997-4797f06e06ca"
        with pytest.raises(APIError) as info:
            await busy
        assert info.value.text == "USER_BUSY" and busy.cause == "USER_BUSY"
        assert busy.uuid == "my-job-1" and busy.accepted
        assert ok.successful() and not busy.successful() and busy.failed
        assert ok.body == bodies["originate ok"] and ok.event.name == "BACKGROUND_JOB"
        assert ok.done_at >= ok.launched
        assert {j.uuid for j in done} == {ok.uuid, busy.uuid}
        # BACKGROUND_JOB was subscribed for us, before the bgapi
        lines = [c.line for c in fs.peers[0].commands]
        assert lines[1] == "event plain BACKGROUND_JOB" and lines[2] == "bgapi originate ok"
        assert fs.peers[0].commands[2].headers["Job-UUID"] == ok.uuid
        assert conn.pending_jobs == 0
        await conn.close()


async def test_background_job_before_its_reply_still_matches() -> None:
    def responder(cmd, peer):
        if cmd.verb == "bgapi":
            job = cmd.headers["Job-UUID"]
            peer.send(background_job(job, cmd.arg, "+OK early\n")
                      + serialize.command_reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)]))
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        job = conn.bgapi("status")
        assert await asyncio.wait_for(job, 2) == "early"
        assert await conn.api("x", check=False)  # FIFO still aligned
        await conn.close()


async def test_bgapi_rejected_command_fails_job() -> None:
    reply = serialize.command_reply("-ERR no reply")
    async with FakeESL(responder=answer_verb("bgapi", reply)) as fs:
        conn = await connect(fs.address)
        with pytest.raises(CommandFailed, match="no reply"):
            await asyncio.wait_for(conn.bgapi("whatever"), 2)
        await conn.close()


# -- commands ----------------------------------------------------------------
async def test_subscribe_filter_myevents_linger_sendmsg_lines() -> None:
    async with FakeESL() as fs:
        conn = await connect(fs.address)
        await conn.subscribe("CHANNEL_CREATE", "CHANNEL_ANSWER", fmt="json")
        await conn.unsubscribe("CHANNEL_ANSWER")
        await conn.filter("Unique-ID", "abc")
        await conn.filter_delete("Unique-ID", "abc")
        await conn.myevents("abc")
        await conn.linger()
        await conn.nolinger()
        await conn.execute("abc", "playback", "tone_stream://%(200,0,500)", event_lock=True)
        await conn.hangup("abc", "USER_BUSY")
        await conn.sendmsg("abc", {"call-command": "unhold"})
        await conn.noevents()
        cmds = fs.peers[0].commands[1:]
        assert [c.line for c in cmds] == [
            "event json CHANNEL_CREATE CHANNEL_ANSWER", "nixevent CHANNEL_ANSWER",
            "filter Unique-ID abc", "filter delete Unique-ID abc", "myevents abc plain",
            "linger", "nolinger", "sendmsg abc", "sendmsg abc", "sendmsg abc", "noevents"]
        assert cmds[7].headers == {"call-command": "execute", "execute-app-name": "playback",
                                   "execute-app-arg": "tone_stream://%(200,0,500)",
                                   "event-lock": "true"}
        assert cmds[8].headers == {"call-command": "hangup", "hangup-cause": "USER_BUSY"}
        with pytest.raises(CommandError):
            conn.filter("Unique-ID", "abc\nexit")
        await conn.close()


async def test_err_command_reply_raises_command_failed() -> None:
    frames = transcript_frames("myevents_filter")
    noevents_again = next(f for f in frames if b"-ERR not listening" in f)

    async with FakeESL(responder=answer_verb("noevents", noevents_again)) as fs:
        conn = await connect(fs.address)
        with pytest.raises(CommandFailed, match="not listening for events"):
            await conn.noevents()
        await conn.close()


async def test_timed_out_command_keeps_fifo_aligned() -> None:
    async def responder(cmd, peer):
        if cmd.arg == "slow":
            await asyncio.sleep(0.3)
            peer.send(serialize.api_response("slow-body"))
            return True
        if cmd.verb == "api":
            peer.send(serialize.api_response(f"{cmd.arg}-body"))
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        slow = conn.api("slow", timeout=0.05)
        fast = conn.api("fast")
        with pytest.raises(asyncio.TimeoutError, match="slow"):
            await slow
        assert await fast == "fast-body"
        assert await conn.api("after") == "after-body"
        await conn.close()


async def test_many_commands_in_flight() -> None:
    async with FakeESL(api={f"c{i}": f"r{i}" for i in range(2000)}) as fs:
        conn = await connect(fs.address)
        got = await asyncio.wait_for(asyncio.gather(*(conn.api(f"c{i}") for i in range(2000))), 20)
        assert got == [f"r{i}" for i in range(2000)]
        await conn.close()


# -- closing -----------------------------------------------------------------
async def test_peer_close_fails_pending_and_future_calls() -> None:
    def responder(cmd, peer):
        if cmd.arg == "hang":
            peer.close()
            return True
        if cmd.verb == "bgapi":  # accepted, result never comes
            job = cmd.headers["Job-UUID"]
            peer.send(serialize.command_reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)]))
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        reasons = []
        conn.add_handler("disconnect", lambda reason, again: reasons.append((reason, again)))
        job = conn.bgapi("never")
        first = conn.api("hang")
        second = conn.api("queued")
        for fut in (first, second):
            with pytest.raises(Disconnected, match=re.escape(fs.address)):
                await asyncio.wait_for(fut, 2)
        with pytest.raises(Disconnected, match="BACKGROUND_JOB"):
            await job
        assert conn.state is ConnectionState.CLOSED and "closed" in conn.closed_reason
        with pytest.raises(Disconnected, match="closed"):
            conn.api("status")
        assert reasons and reasons[0][1] is False
        await conn.wait_closed()


async def test_peer_vanishing_mid_frame() -> None:
    frame = event_frames("call_selfloop_plain")[3]

    def responder(cmd, peer):
        if cmd.verb == "api":
            peer.send(frame[: len(frame) // 2])
            peer.abort()
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        with pytest.raises(Disconnected, match="unfinished frame"):
            await asyncio.wait_for(conn.api("x"), 2)
        assert conn.state is ConnectionState.CLOSED


async def test_garbage_from_peer_closes_with_protocol_error() -> None:
    reply = b"Content-Type: api/response\nContent-Length: nope\n\n"
    async with FakeESL(responder=answer_verb("api", reply)) as fs:
        conn = await connect(fs.address)
        with pytest.raises(Disconnected, match="protocol error") as info:
            await asyncio.wait_for(conn.api("x"), 2)
        assert conn.protocol_error is not None and info.value.__cause__ is conn.protocol_error


async def test_frames_before_garbage_in_the_same_read_are_delivered() -> None:
    """The answer that arrived in the same TCP read as the bad bytes is not lost."""
    def responder(cmd, peer):
        if cmd.arg == "first":
            peer.send(serialize.api_response("+OK first\n")
                      + b"Content-Type: api/response\nContent-Length: nope\n\n")
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        first = conn.api("first")
        second = conn.api("second")
        assert await asyncio.wait_for(first, 2) == "+OK first\n"
        with pytest.raises(Disconnected, match="protocol error"):
            await asyncio.wait_for(second, 2)


async def test_linger_notice_is_not_a_close_but_disconnect_notice_is() -> None:
    frames = transcript_frames("myevents_filter")
    linger = next(f for f in frames if b"Content-Disposition: linger" in f)
    final = next(f for f in frames if b"Content-Disposition: disconnect" in f)

    def responder(cmd, peer):
        if cmd.arg == "kill":
            peer.send(serialize.api_response("+OK\n") + linger)
            return True
        if cmd.arg == "bye":
            peer.send(final)  # the server would close next; we must not wait for it
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        notices = []
        conn.add_handler("linger", notices.append)
        assert await conn.api("kill") == "+OK\n"
        await asyncio.sleep(0.05)
        assert conn.lingering and conn.state is ConnectionState.CONNECTED
        assert notices[0].headers["Linger-Time"] == "-1"
        assert await conn.api("status", check=False)
        with pytest.raises(Disconnected, match="disconnect notice"):
            await asyncio.wait_for(conn.api("bye"), 2)
        assert conn.state is ConnectionState.CLOSED


async def test_exit_closes_cleanly() -> None:
    async with FakeESL() as fs:
        conn = await connect(fs.address)
        await asyncio.wait_for(conn.exit(), 3)
        assert conn.state is ConnectionState.CLOSED
        assert fs.peers[0].commands[-1].line == "exit"
        with pytest.raises(Disconnected):
            await conn.api("status")


async def test_api_ok_transcript_exit_bytes() -> None:
    """The real `api status` + `exit` bytes, byte by byte."""
    frames = transcript_frames("api_ok")

    async def responder(cmd, peer):
        if cmd.verb == "auth":
            data = frames[1]
        elif cmd.verb == "api":
            data = frames[2]
        elif cmd.verb == "exit":
            data = frames[3] + frames[4]
        else:
            return False
        for i in range(len(data)):
            peer.send(data[i:i + 1])
            await peer.writer.drain()
        if cmd.verb == "exit":
            peer.close()
        return True

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        body = await conn.api("status")
        assert body.startswith("UP 0 years") and body.endswith("Current Stack Size/Max 240K/8192K\n")
        await conn.exit()
        assert conn.state is ConnectionState.CLOSED


# -- reconnect ---------------------------------------------------------------
async def test_reconnect_restores_subscriptions_and_reports_gap(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeESL(password=SECRET) as fs:
        conn = await connect(fs.address, password=SECRET,
                             reconnect=Reconnect(initial=0.02, maximum=0.05))
        gaps = []
        conn.add_handler("reconnect", gaps.append)
        await conn.subscribe("CHANNEL_CREATE", "BACKGROUND_JOB")
        await conn.filter("Event-Name", "CHANNEL_CREATE")
        fs.bgapi_delay = 10
        job = conn.bgapi("slow")  # no result before the outage
        await fs.stop()  # drops the peer and stops listening
        with pytest.raises(Disconnected):
            await asyncio.wait_for(job, 2)
        await asyncio.sleep(0.1)
        assert conn.state is ConnectionState.RECONNECTING
        with pytest.raises(Disconnected, match="reconnecting"):
            conn.api("status")
        await fs.restart()
        await conn.wait_connected(5)
        assert len(gaps) == 1 and gaps[0].duration > 0.05 and gaps[0].attempts >= 2
        assert gaps[0].end > gaps[0].start
        new_peer = fs.peers[-1]
        await asyncio.sleep(0.05)
        lines = [c.line for c in new_peer.commands]
        assert lines[0] == f"auth {SECRET}"
        assert lines[1] == "event plain BACKGROUND_JOB CHANNEL_CREATE"
        assert lines[2] == "filter Event-Name CHANNEL_CREATE"
        assert await conn.api("nope", check=False)
        await conn.close()
    assert SECRET not in caplog.text


async def test_reconnect_gives_up_after_max_time() -> None:
    async with FakeESL() as fs:
        conn = await connect(fs.address, reconnect=Reconnect(initial=0.01, maximum=0.02, max_time=0.2))
        await fs.stop()
        await asyncio.wait_for(conn.wait_closed(), 5)
        assert conn.state is ConnectionState.CLOSED and "gave up" in conn.closed_reason


async def test_close_while_reconnecting_stops_trying() -> None:
    async with FakeESL() as fs:
        conn = await connect(fs.address, reconnect=True)
        await fs.stop()
        await asyncio.sleep(0.05)
        await conn.close()
        assert conn.state is ConnectionState.CLOSED


# -- yields for coroutines ----------------------------------------------------
async def test_request_yield_lets_woken_task_see_next_event() -> None:
    """Two events in one TCP read: a task woken by the first must be able to
    register for the second before it is dispatched."""
    uuid = "u-1"
    data = channel_event("CHANNEL_PARK", uuid) + channel_event("CHANNEL_ANSWER", uuid)

    async with FakeESL(responder=answer_verb("api", serialize.api_response("+OK\n") + data)) as fs:
        conn = await connect(fs.address)
        loop = asyncio.get_running_loop()
        waiters: dict[str, asyncio.Future] = {"CHANNEL_PARK": loop.create_future()}
        seen = []

        def on_event(ev):
            fut = waiters.pop(ev.name, None)
            if fut is not None:
                fut.set_result(ev)
                conn.request_yield()

        async def app():
            await waiters["CHANNEL_PARK"]
            waiters["CHANNEL_ANSWER"] = loop.create_future()
            seen.append((await waiters["CHANNEL_ANSWER"]).name)

        conn.on_event = on_event
        task = asyncio.create_task(app())
        await asyncio.sleep(0)
        await conn.api("go")
        await asyncio.wait_for(task, 2)
        assert seen == ["CHANNEL_ANSWER"]
        await conn.close()


# -- live (emulator or --fshost) ------------------------------------------------
async def test_live_api_and_errors(fshost: str, fspassword: str) -> None:
    conn = await connect(fshost, password=fspassword)
    try:
        assert "FreeSWITCH" in await conn.api("version")
        with pytest.raises(APIError):
            await conn.api("no_such_command")
        assert (await conn.api("sofia status profile nosuch", check=False)).strip() == "Invalid Profile!"
        assert await conn.subscribe("BACKGROUND_JOB") == "+OK event listener enabled plain"
        job = conn.bgapi("status")
        assert "FreeSWITCH" in await asyncio.wait_for(job, 5)
    finally:
        await conn.exit()
    assert conn.state is ConnectionState.CLOSED


async def test_live_wrong_password(fshost: str) -> None:
    with pytest.raises(AuthenticationError, match=re.escape(fshost)) as info:
        await connect(fshost, password=SECRET)
    assert SECRET not in str(info.value)


def test_goodbye_constant_matches_transcript() -> None:
    assert transcript_frames("api_ok")[-1].endswith(GOODBYE)


async def test_a_malformed_event_is_logged_and_the_connection_survives(caplog) -> None:
    def responder(cmd, peer):
        if cmd.arg == "bad":
            bad = b"{not json"
            peer.send(b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(bad) + bad
                      + serialize.api_response("after-bad"))
            return True
        if cmd.verb == "api":
            peer.send(serialize.api_response("ok"))
            return True
        if cmd.verb == "bgapi":  # accepted; the result never comes
            job = cmd.headers["Job-UUID"]
            peer.send(serialize.command_reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)]))
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        conn.bgapi("pending")  # a pending job makes the connection read every Event-Name
        assert await conn.api("bad") == "after-bad"
        assert conn.state is ConnectionState.CONNECTED and await conn.api("x") == "ok"
        assert "not JSON" in caplog.text
        await conn.close()
