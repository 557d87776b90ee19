"""Outbound event socket end to end: FreeSWITCH's ``socket`` application connects to
``switchlab.outbound``'s server, whose apps drive the call.

On the emulator by default (its ``socket_address`` points at the test's server);
with ``--fshost`` the server listens on 127.0.0.1:8084, as the recordings'
dialplan expects (``outbound*`` → async full, ``outsync*`` → sync full).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchlab.apps import callback, coroutine, handler
from switchlab.errors import CommandError, ConfigError
from switchlab.esl import Connection, connect
from switchlab.measure import Run
from switchlab.outbound import OutboundServer, parse_acl, serve
from switchlab.outbound.server import allowed
from switchlab.sim import Emulator
from switchlab.state import Call, Session

TONE = "tone_stream://%(200,0,440)"


@contextlib.asynccontextmanager
async def world(real: list[str] | None, password: str, *apps: Any, **options: Any
                ) -> AsyncIterator[tuple[OutboundServer, Connection]]:
    """A running outbound server and an inbound connection to the FreeSWITCH that
    will dial it (an emulator pointed at the server, or the --fshost one)."""
    port = 8084 if real else 0
    async with serve(*apps, port=port, **options) as server:
        if real:
            conn = await connect(real[0], password=password)
            try:
                yield server, conn
            finally:
                await conn.close()
            return
        async with Emulator(port=0, socket_address=f"127.0.0.1:{server.port}") as fs:
            conn = await connect(*fs.esl_addresses[0])
            try:
                yield server, conn
            finally:
                await conn.close()


@pytest.fixture
def real(pytestconfig: pytest.Config) -> list[str] | None:
    raw = pytestconfig.getoption("--fshost")
    return [h for h in raw.split(",") if h] if raw else None


@pytest.fixture
def password(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--fspassword"))


async def originate(conn: Connection, dest: str) -> str:
    """A self-loop call to ``dest`` (the inbound leg runs the dialplan); the caller's uuid."""
    body = await conn.api(f"originate {{origination_caller_id_number=1000}}"
                          f"sofia/external/{dest}@127.0.0.1:5080 &park()")
    return body.split()[1]


async def until(pred: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


class Ivr:
    """Answer, play, hang up; remembers what it saw."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.completes: list[str] = []

    @coroutine("CHANNEL_DATA")
    async def on_call(self, sess: Session) -> None:
        self.sessions.append(sess)
        await sess.answer()
        # playback completes on its CHANNEL_EXECUTE_COMPLETE in both modes (async: the
        # reply comes at once, sync: after the application)
        await asyncio.wait_for(sess.playback(TONE), 5)
        await sess.hangup()

    @callback("CHANNEL_EXECUTE_COMPLETE")
    def on_complete(self, sess: Session) -> None:
        self.completes.append(sess["Application"])


@pytest.mark.parametrize("dest,mode", [("outbound1", "async"), ("outsync1", "static")])
async def test_an_app_drives_the_call_and_the_call_is_a_row(
        real: list[str] | None, password: str, dest: str, mode: str) -> None:
    ivr = Ivr()
    run = Run()
    async with world(real, password, ivr, run=run) as (server, conn):
        await originate(conn, dest)
        await until(lambda: server.completed == 1)
    sess = ivr.sessions[0]
    assert isinstance(sess, Session) and isinstance(sess.call, Call)
    assert sess.is_inbound() and sess.answered and sess.hungup
    assert sess.conn.channel["Socket-Mode"] == mode
    assert "playback" in ivr.completes and server.failed == 0 and not server.active
    df = run.df
    assert len(df) == 1
    row = df.iloc[0]
    assert row["handled_by"] == "outbound" and row["call_id"] == sess.uuid
    assert row["dest"] == dest and row["hangup_cause"] == "NORMAL_CLEARING"
    # the socket joins after CHANNEL_CREATE: the row's stamps start at the answer
    assert row["caller_hangup"] >= row["caller_answer"] and row["duration"] > 0
    assert not row["failed"]


class Boom:
    @callback("CHANNEL_DATA")
    def on_call(self, sess: Session) -> None:
        raise RuntimeError("app bug")


async def test_a_failing_app_is_logged_hung_up_and_the_server_goes_on(
        real: list[str] | None, password: str, caplog: pytest.LogCaptureFixture) -> None:
    ivr = Ivr()
    with caplog.at_level(logging.ERROR, logger="switchlab.outbound"):
        async with world(real, password, Boom(), grace=0.5) as (server, conn):
            await conn.subscribe("CHANNEL_HANGUP")
            hangups: list[str] = []
            conn.add_event_handler(lambda ev: hangups.append(ev.get("Hangup-Cause") or ""))
            conn.bgapi("originate sofia/external/outbound1@127.0.0.1:5080 &park()")
            await until(lambda: server.failed == 1)
            await until(lambda: len(hangups) >= 2)  # both legs went down
            assert "NORMAL_TEMPORARY_FAILURE" in hangups
    failed = [r for r in caplog.records if "app bug" in str(r.exc_info)]
    assert failed and failed[0].getMessage().startswith("call ")
    uuid = failed[0].getMessage().split()[1].rstrip(":")
    assert len(uuid) == 36
    # the same server object keeps serving: another app, another call
    async with world(real, password, ivr) as (server, conn):
        await originate(conn, "outbound2")
        await until(lambda: server.completed == 1)
    assert ivr.sessions[0].answered


class Waiter:
    """Does nothing: the caller hangs up while the call rings in the socket."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @handler("CHANNEL_HANGUP")
    def on_hangup(self, ev: Any) -> None:
        self.events.append(ev.name)


async def test_remote_hangup_with_linger_closes_the_connection(
        real: list[str] | None, password: str) -> None:
    app = Waiter()
    async with world(real, password, app, grace=0.5) as (server, conn):
        await conn.subscribe("CHANNEL_PARK")
        parked: list[str] = []
        conn.add_event_handler(lambda ev: parked.append(ev.uuid or ""))
        job = conn.bgapi("originate sofia/external/outbound3@127.0.0.1:5080 &park()")
        await until(lambda: server.calls == 1 and len(parked) >= 1)
        call = next(iter(server.active))
        await until(lambda: call.session is not None)
        await conn.api(f"uuid_kill {call.uuid}")
        await until(lambda: server.completed == 1)
        assert call.conn.protocol.linger_time == -1 and not call.conn.connected
        assert app.events == ["CHANNEL_HANGUP"]
        with contextlib.suppress(Exception):
            await job


class Commands:
    """The outbound verbs' replies, as FreeSWITCH gives them (outbound_divert)."""

    def __init__(self) -> None:
        self.replies: dict[str, str] = {}

    @coroutine("CHANNEL_DATA")
    async def on_call(self, sess: Session) -> None:
        c = sess.conn
        self.replies["divert"] = await c.divert_events(True)
        self.replies["filter"] = await c.filter("Event-Name", "CHANNEL_EXECUTE_COMPLETE")
        self.replies["event"] = await c.subscribe("DTMF", fmt="plain")
        self.replies["nolinger"] = await c.nolinger()
        self.replies["getvar"] = await c.getvar("sip_from_user")
        self.replies["api"] = await sess.getvar("sip_from_user") or ""
        self.replies["answer"] = await c.execute_app("answer", event_lock=True)
        self.replies["loops"] = await c.execute_app("playback", TONE, loops=2)
        self.replies["hangup"] = await c.hangup_call()


async def test_outbound_verbs(real: list[str] | None, password: str) -> None:
    app = Commands()
    async with world(real, password, app, linger=False) as (server, conn):
        await originate(conn, "outbound4")
        await until(lambda: server.completed == 1)
    r = app.replies
    assert r["divert"] == "+OK events diverted"
    assert r["filter"] == "+OK filter added. [Event-Name]=[CHANNEL_EXECUTE_COMPLETE]"
    assert r["event"] == "+OK event listener enabled plain"
    assert r["nolinger"] == "+OK will not linger"
    assert r["getvar"] == r["api"] == "1000"
    assert r["answer"] == r["loops"] == r["hangup"] == "+OK"


def test_acl() -> None:
    acl = parse_acl(["10.0.0.0/8", "2001:db8::/32"])
    assert allowed("127.0.0.1", []) and allowed("::1", [])
    assert not allowed("10.1.2.3", []) and allowed("10.1.2.3", acl)
    assert allowed("2001:db8::5", acl) and not allowed("192.0.2.1", acl)
    with pytest.raises(CommandError, match="not an IP address"):
        parse_acl(["ten.0.0.0/8"])
    with pytest.raises(ConfigError, match="at least one app"):
        OutboundServer()


async def test_emulator_socket_to_nowhere_hangs_the_call_up(emulator: object) -> None:
    async with Emulator(port=0, socket_address="127.0.0.1:9") as fs:
        conn = await connect(*fs.esl_addresses[0])
        await conn.subscribe("CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP")
        seen: list[tuple[str, str]] = []
        conn.add_event_handler(lambda ev: seen.append((ev.name, ev.get("Application") or "")))
        with contextlib.suppress(Exception):
            await originate(conn, "outbound9")
        await until(lambda: ("CHANNEL_EXECUTE_COMPLETE", "socket") in seen)
        await until(lambda: sum(n == "CHANNEL_HANGUP" for n, _ in seen) >= 2)
        await conn.close()
    with pytest.raises(ValueError, match="loopback"):
        Emulator(socket_address="192.0.2.1:8084")


class Timing:
    """When the reply to an execute comes: at once (async) or once the app returned (sync)."""

    def __init__(self) -> None:
        self.reply_after: float | None = None
        self.completed_before_reply: bool | None = None

    @coroutine("CHANNEL_DATA")
    async def on_call(self, sess: Session) -> None:
        await sess.conn.execute_app("answer")
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await sess.conn.execute_app("playback", "tone_stream://%(1000,0,440)", event_lock=True)
        self.reply_after = loop.time() - sent
        self.completed_before_reply = any(
            e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback"
            for e in sess.events)
        await sess.conn.hangup_call()


@pytest.mark.parametrize("dest", ["outbound5", "outsync5"])
async def test_execute_reply_timing_async_and_sync(real: list[str] | None, password: str,
                                                   dest: str) -> None:
    app = Timing()
    async with world(real, password, app) as (server, conn):
        await originate(conn, dest)
        await until(lambda: server.completed == 1)
    assert app.reply_after is not None
    if dest.startswith("outsync"):  # the reply waited for the 1 s tone
        assert app.reply_after >= 0.9
    else:                           # +OK at once: the tone was still playing
        assert app.completed_before_reply is False
