"""The sans-I/O ``ESLProtocol`` driven from bytes alone: hand-written frames,
the recorded inbound transcripts cut at arbitrary byte boundaries, and the
bytes FreeSWITCH sends to an outbound-socket server (tests/data/fs-wire/outbound)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fswire import index, raw
from switchlab.errors import (APIError, AuthenticationError, CommandFailed, Disconnected,
                              MalformedFrameError)
from switchlab.esl import ESLProtocol, decoders
from switchlab.esl.decoders import AuthReply
from switchlab.esl.job import Job
from switchlab.esl.requests import Requests
from switchlab.wire import commands, serialize
from switchlab.wire.events import Event
from switchlab.wire.frames import AUTH_REQUEST, DISCONNECT_NOTICE, Frame

OUTBOUND = Path(__file__).parent / "data" / "fs-wire" / "outbound"


class Driver(Requests):
    """The command vocabulary straight on a protocol: what an outbound-socket
    session does (no state checks, no socket)."""

    address = "test"

    def __init__(self, esl: ESLProtocol) -> None:
        self._esl = esl

    def _request(self, data: bytes, decode: decoders.Decoder, what: str, *, job: Job | None = None,
                 force: bool = False, timeout: float | None = None) -> asyncio.Future[Any]:
        return self._esl.request(data, decode, what, job)

    def _ready(self, what: str) -> None:
        return None


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()  # only makes futures: it never runs
    yield loop
    loop.close()


def make(loop: asyncio.AbstractEventLoop) -> tuple[ESLProtocol, list[bytes], list[Event], list[Frame]]:
    sent: list[bytes] = []
    events: list[Event] = []
    notices: list[Frame] = []
    p = ESLProtocol(loop.create_future, write=sent.append, host="fs1", address="fs1:8021")
    p.emit = events.append
    p.on_notice = notices.append
    return p, sent, events, notices


def plain_event(name: str, **headers: str) -> bytes:
    return serialize.event_plain([("Event-Name", name), *headers.items()])


# -- hand-written frames --------------------------------------------------------------
def test_greeting_is_a_notice_and_auth_a_decoder(loop: asyncio.AbstractEventLoop) -> None:
    p, sent, events, notices = make(loop)
    p.receive_data(serialize.AUTH_REQUEST_FRAME)
    assert [f.content_type for f in notices] == [AUTH_REQUEST]
    ok = p.request(commands.auth("ClueCon"), AuthReply("fs1:8021"), "auth")
    p.receive_data(serialize.command_reply("+OK accepted"))
    assert sent == [b"auth ClueCon\n\n"] and ok.result() == "+OK accepted"
    bad = p.request(commands.auth("nope"), AuthReply("fs1:8021"), "auth")
    p.receive_data(serialize.command_reply("-ERR invalid"))
    with pytest.raises(AuthenticationError, match="fs1:8021.*password"):
        bad.result()


def test_replies_match_requests_in_order_while_events_interleave(
        loop: asyncio.AbstractEventLoop) -> None:
    p, sent, events, _ = make(loop)
    status = p.request(commands.api("status"), decoders.api_checked, "api status")
    sub = p.request(commands.event(["ALL"]), decoders.command_reply, "event plain ALL")
    kill = p.request(commands.api("uuid_kill x"), decoders.api_checked, "api uuid_kill x")
    raw_body = p.request(commands.api("uuid_kill x"), decoders.api_body, "api uuid_kill x")
    bad = p.request(commands.command("nixevent FOO"), decoders.command_reply, "nixevent FOO")
    data = (serialize.api_response("UP 1\n") + plain_event("HEARTBEAT")
            + serialize.command_reply("+OK event listener enabled plain")
            + plain_event("CHANNEL_CREATE", **{"Unique-ID": "u1"})
            + serialize.api_response("-ERR No such channel!\n")
            + serialize.api_response("-ERR No such channel!\n")
            + serialize.command_reply("-ERR no such event"))
    p.receive_data(data)
    assert status.result() == "UP 1\n" and sub.result() == "+OK event listener enabled plain"
    with pytest.raises(APIError) as info:
        kill.result()
    assert info.value.text == "No such channel!"
    assert raw_body.result() == "-ERR No such channel!\n"
    with pytest.raises(CommandFailed, match="no such event"):
        bad.result()
    assert [e.name for e in events] == ["HEARTBEAT", "CHANNEL_CREATE"]
    assert all(e.host == "fs1" and e.received > 0 for e in events)
    assert p.events_received == 2 and not p.pending
    assert sent[0] == b"api status\n\n" and len(sent) == 5


def test_a_reply_nobody_waits_for_is_ignored(loop: asyncio.AbstractEventLoop,
                                              caplog: pytest.LogCaptureFixture) -> None:
    p, *_ = make(loop)
    p.receive_data(serialize.command_reply("+OK"))
    assert "no command waiting" in caplog.text


def test_bgapi_job_resolves_on_its_background_job(loop: asyncio.AbstractEventLoop) -> None:
    p, sent, events, _ = make(loop)
    done: list[Job] = []
    p.on_job = done.append
    ok, busy = p.new_job("j1", "originate a &park()"), p.new_job("j2", "originate b &park()")
    p.request_job(commands.bgapi(ok.command, job_uuid="j1"), ok)
    p.request_job(commands.bgapi(busy.command, job_uuid="j2"), busy)
    assert sent[0] == b"bgapi originate a &park()\nJob-UUID: j1\n\n"
    p.receive_data(serialize.command_reply("+OK Job-UUID: j1", [("Job-UUID", "j1")])
                   + serialize.command_reply("+OK Job-UUID: j2", [("Job-UUID", "j2")]))
    assert ok.accepted and busy.accepted and p.jobs.keys() == {"j1", "j2"}
    p.receive_data(serialize.event_plain([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j2")],
                                         b"-ERR USER_BUSY\n")
                   + serialize.event_plain([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j1")],
                                           b"+OK 4c6198d3\n"))
    assert ok.result() == "4c6198d3" and busy.cause == "USER_BUSY"
    assert done == [busy, ok] and not p.jobs
    assert [e.name for e in events] == ["BACKGROUND_JOB"] * 2


def test_bgapi_follows_the_server_job_uuid_and_fails_a_rejected_job(
        loop: asyncio.AbstractEventLoop) -> None:
    p, *_ = make(loop)
    moved, refused = p.new_job("mine", "status"), p.new_job("j9", "nosuch")
    p.request_job(commands.bgapi("status", job_uuid="mine"), moved)
    p.request_job(commands.bgapi("nosuch", job_uuid="j9"), refused)
    p.receive_data(serialize.command_reply("+OK Job-UUID: theirs", [("Job-UUID", "theirs")])
                   + serialize.command_reply("-ERR command not found"))
    assert moved.uuid == "theirs" and set(p.jobs) == {"theirs"}
    assert refused.accepted is False and isinstance(refused.exception(), CommandFailed)


def test_disconnect_notice_and_connection_lost(loop: asyncio.AbstractEventLoop) -> None:
    p, _sent, _ev, notices = make(loop)
    p.receive_data(serialize.disconnect_notice([("Content-Disposition", "linger")], b""))
    assert p.lingering and p.notice is None
    waiting = p.request(commands.api("status"), decoders.api_checked, "api status")
    job = p.new_job("j1", "originate x")
    p.request_job(commands.bgapi("originate x", job_uuid="j1"), job)
    p.receive_data(serialize.disconnect_notice([("Content-Disposition", "disconnect")]))
    assert p.notice is not None and [f.content_type for f in notices] == [DISCONNECT_NOTICE] * 2
    p.connection_lost("FreeSWITCH sent a disconnect notice")
    with pytest.raises(Disconnected, match="'api status' got no reply"):
        waiting.result()
    assert isinstance(job.exception(), Disconnected) and not p.jobs and not p.pending


def test_good_frames_before_bad_bytes_are_handled(loop: asyncio.AbstractEventLoop) -> None:
    p, _sent, events, _ = make(loop)
    with pytest.raises(MalformedFrameError):
        p.receive_data(plain_event("HEARTBEAT") + b"Content-Length: x\n\n")
    assert [e.name for e in events] == ["HEARTBEAT"]


def test_what_is_written_and_what_is_restored(loop: asyncio.AbstractEventLoop) -> None:
    p, sent, _ev, _n = make(loop)
    d = Driver(p)
    d.subscribe("CHANNEL_ANSWER", "CHANNEL_HANGUP")
    d.filter("Unique-ID", "u1")
    d.filter("Unique-ID", "u2")
    d.filter_delete("Unique-ID", "u1")
    d.log("info")
    d.bgapi("status", job_uuid="j1")  # BACKGROUND_JOB is subscribed first
    assert sent == [b"event plain CHANNEL_ANSWER CHANNEL_HANGUP\n\n", b"filter Unique-ID u1\n\n",
                    b"filter Unique-ID u2\n\n", b"filter delete Unique-ID u1\n\n", b"log info\n\n",
                    b"event plain BACKGROUND_JOB\n\n", b"bgapi status\nJob-UUID: j1\n\n"]
    assert [data for data, _what in p.restore.commands()] == [
        b"event plain BACKGROUND_JOB CHANNEL_ANSWER CHANNEL_HANGUP\n\n", b"filter Unique-ID u2\n\n"]
    assert p.restore.log_level == "info"
    d.unsubscribe("CHANNEL_HANGUP")
    d.filter_delete("all")
    d.nolog()
    assert [w for _d, w in p.restore.commands()] == ["event plain BACKGROUND_JOB CHANNEL_ANSWER"]
    assert p.restore.log_level is None


# -- recorded inbound conversations, cut anywhere -----------------------------------------
def _replay(name: str, cuts: list[int], loop: asyncio.AbstractEventLoop) -> tuple[list[Any], int]:
    p, _sent, events, _ = make(loop)
    entries = index(name)
    n_replies = sum(e.content_type in ("command/reply", "api/response") for e in entries)
    futs = [p.request(b"x\n\n", lambda f, req: (f.content_type, f.reply_text or f.text), "x")
            for _ in range(n_replies)]
    data = raw(name)
    start = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        p.receive_data(data[start:cut])
        start = cut
    return [f.result() for f in futs], len(events)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40000), max_size=30))
def test_transcript_split_anywhere_gives_the_same_replies(cuts: list[int]) -> None:
    loop = asyncio.new_event_loop()
    try:
        whole, n_events = _replay("call_selfloop_plain", [], loop)
        split, n_split = _replay("call_selfloop_plain", cuts, loop)
    finally:
        loop.close()
    assert split == whole and n_split == n_events
    assert n_events == sum(e.content_type == "text/event-plain"
                           for e in index("call_selfloop_plain"))
    assert whole[0] == ("command/reply", "+OK accepted")


# -- the outbound mode: FreeSWITCH connects to us ------------------------------------------
def test_outbound_async_socket_flow(loop: asyncio.AbstractEventLoop) -> None:
    """``connect``, ``myevents``, ``linger``, two event-locked ``sendmsg`` executes, a
    hangup, then ``exit``: the same protocol object, fed the bytes of outbound_async.raw."""
    p, sent, events, notices = make(loop)
    d = Driver(p)
    channel = p.request(commands.command("connect"), decoders.channel_data, "connect")
    myevents = d.command("myevents")
    linger = d.command("linger")
    answer = p.request(commands.command("sendmsg", {"call-command": "execute",
                                                    "execute-app-name": "answer",
                                                    "event-lock": "true"}),
                       decoders.command_reply, "sendmsg answer")
    play = p.request(commands.command("sendmsg", {
        "call-command": "execute", "execute-app-name": "playback",
        "execute-app-arg": "tone_stream://%(300,0,800)", "event-lock": "true"}),
        decoders.command_reply, "sendmsg playback")
    hangup = d.command("sendmsg", {"call-command": "hangup", "hangup-cause": "NORMAL_CLEARING"})
    bye = d.command("exit")
    recorded = (OUTBOUND / "outbound_async.sent.txt").read_text()
    for data in sent:
        assert repr(data.decode())[1:-1] in recorded
    data = (OUTBOUND / "outbound_async.raw").read_bytes()
    for i in range(0, len(data), 4096):
        p.receive_data(data[i:i + 4096])
    ev = channel.result()
    assert ev.name == "CHANNEL_DATA" and ev["Reply-Text"] == "+OK\n"
    assert ev.uuid == "b0cd3370-7e8e-4404-93f9-370d758a8c2f"
    assert ev["Socket-Mode"] == "async" and ev["Control"] == "full"
    assert ev["Channel-Name"] == "sofia/external/1000@127.0.0.1"  # values URL-decoded
    assert myevents.result() == "+OK Events Enabled" and linger.result() == "+OK will linger"
    assert answer.result() == play.result() == hangup.result() == "+OK"
    assert bye.result() == "+OK bye"
    assert len(events) == 13 and {e.uuid for e in events} == {ev.uuid}
    assert [f.disposition for f in notices] == ["linger", "disconnect"]
    assert p.lingering and p.notice is not None and not p.pending


def test_outbound_sync_socket_flow(loop: asyncio.AbstractEventLoop) -> None:
    p, _sent, events, _ = make(loop)
    futs = [p.request(commands.command("connect"), decoders.channel_data, "connect")]
    futs += [p.request(b"sendmsg\n\n", decoders.command_reply, "sendmsg") for _ in range(2)]
    futs.append(p.request(commands.exit_(), decoders.command_reply, "exit"))
    p.receive_data((OUTBOUND / "outbound_sync.raw").read_bytes())
    assert futs[0].result()["Socket-Mode"] == "static"
    assert [f.result() for f in futs[1:]] == ["+OK", "+OK", "+OK bye"] and not events


def test_a_refused_connect_fails(loop: asyncio.AbstractEventLoop) -> None:
    p, *_ = make(loop)
    fut = p.request(commands.command("connect"), decoders.channel_data, "connect")
    p.receive_data(serialize.command_reply("-ERR no session"))
    with pytest.raises(CommandFailed, match="connect"):
        fut.result()



def test_a_request_that_cannot_be_written_is_not_queued(loop: asyncio.AbstractEventLoop) -> None:
    p = ESLProtocol(loop.create_future)
    with pytest.raises(Disconnected, match="connection_made"):
        p.request(b"api status\n\n", decoders.api_checked, "api status")
    assert not p.pending


def test_a_request_nobody_waits_for_keeps_its_reply_slot(loop: asyncio.AbstractEventLoop) -> None:
    """``send`` (``api_forget``, ``bgapi``'s accept reply): no future, but its reply
    is matched in order, so the next request still gets its own; a rejected bgapi
    sent this way still fails its job; a lost connection drops it quietly."""
    p, sent, _events, _ = make(loop)
    p.send(commands.api("uuid_kill x"), decoders.api_checked, "api uuid_kill x")
    job = p.new_job("j9", "nosuch")
    p.send(commands.bgapi("nosuch", job_uuid="j9"), p.bgapi_accepted, "bgapi nosuch", job)
    status = p.request(commands.api("status"), decoders.api_checked, "api status")
    p.receive_data(serialize.api_response("-ERR No such channel!\n")  # raised and dropped
                   + serialize.command_reply("-ERR command not found")
                   + serialize.api_response("UP 1\n"))
    assert status.result() == "UP 1\n" and not p.pending
    assert job.accepted is False and isinstance(job.exception(), CommandFailed) and not p.jobs
    assert sent[:2] == [b"api uuid_kill x\n\n", b"bgapi nosuch\nJob-UUID: j9\n\n"]
    lost = p.new_job("j1", "originate x")
    p.send(commands.api("uuid_kill y"), decoders.api_body, "api uuid_kill y")
    p.send(commands.bgapi("originate x", job_uuid="j1"), p.bgapi_accepted, "bgapi", lost)
    p.connection_lost("gone")
    assert isinstance(lost.exception(), Disconnected) and not p.pending and not p.jobs
    d = Driver(p)  # a Requests without a _send of its own goes through _request
    d.api_forget("uuid_kill z")
    assert sent[-1] == b"api uuid_kill z\n\n" and len(p.pending) == 1


async def test_a_job_watcher_is_told_in_the_protocols_step_or_after_a_failure() -> None:
    """``Job.watch``: called inside the step that resolves the job from its
    BACKGROUND_JOB (before the event is emitted), one loop pass after a failure,
    once; a failing watcher is logged and the event still reaches the listener."""
    loop = asyncio.get_running_loop()
    p, _sent, events, _ = make(loop)
    seen: list[tuple[str, Any, int]] = []
    ok, gone = p.new_job("j1", "originate a"), p.new_job("j2", "originate b")

    def watcher(job: Job, arg: Any) -> None:
        seen.append((job.uuid, arg, len(events)))
        raise RuntimeError("a bad watcher")

    ok.watch(watcher, "first")
    ok.watch(lambda job, arg: seen.append((job.uuid, arg, len(events))), "second")
    gone.watch(watcher, "gone")
    p.receive_data(serialize.event_plain([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j1")],
                                         b"+OK 4c6198d3\n"))
    assert seen == [("j1", "first", 0), ("j1", "second", 0)] and ok.result() == "4c6198d3"
    assert [e.name for e in events] == ["BACKGROUND_JOB"]
    p.connection_lost("gone")
    assert len(seen) == 2 and isinstance(gone.exception(), Disconnected)
    await asyncio.sleep(0)
    assert seen[2:] == [("j2", "gone", 1)]
    ok.fail(Disconnected("late"))  # settled already: the watchers were told once
    await asyncio.sleep(0)
    assert len(seen) == 3
