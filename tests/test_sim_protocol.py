"""The emulator's event-socket protocol: auth, subscriptions, filters, robustness, load."""
from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest

from simclient import RawClient
from switchlab.sim import DUTModel, Emulator
from switchlab.wire import FrameParser

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def fs():
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1), tick_us=1000,
                        heartbeat_s=3600) as emulator:
        yield emulator


async def raw_exchange(fs: Emulator, data: bytes, wait: float = 0.3) -> list:
    reader, writer = await asyncio.open_connection(*fs.esl_addresses[0])
    writer.write(data)
    await writer.drain()
    frames = []
    parser = FrameParser()
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), wait)
            if not chunk:
                break
            frames += parser.feed(chunk)
    except asyncio.TimeoutError:
        pass
    writer.close()
    return frames


async def test_auth_failure_and_preauth(fs: Emulator) -> None:
    frames = await raw_exchange(fs, b"auth WrongPassword\n\n")
    assert [f.content_type for f in frames] == ["auth/request", "command/reply",
                                                "text/disconnect-notice"]
    assert frames[1].reply_text == "-ERR invalid"
    assert frames[2].body == b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    frames = await raw_exchange(fs, b"api status\n\nauth ClueCon\n\napi status\n\nexit\n\n")
    assert [f.content_type for f in frames] == [
        "auth/request", "command/reply", "command/reply", "api/response", "command/reply",
        "text/disconnect-notice"]
    assert frames[1].reply_text == "-ERR command not found"
    assert frames[3].text.startswith("UP 0 years, 0 days, 0 hours, 0 minutes, ")
    assert frames[4].reply_text == "+OK bye"


async def test_reply_texts(fs: Emulator) -> None:
    async with RawClient(*fs.esl_addresses[0]) as c:
        await c.auth()
        expect = {
            "event plain ALL": "+OK event listener enabled plain",
            "event json CHANNEL_CREATE": "+OK event listener enabled json",
            "event": "-ERR no keywords supplied",
            "nixevent HEARTBEAT RE_SCHEDULE": "+OK events nixed",
            "filter Unique-ID abc": "+OK filter added. [Unique-ID]=[abc]",
            "filter delete Unique-ID abc": "+OK filter deleted. [Unique-ID][abc]",
            "filter Unique-ID": "-ERR invalid syntax",
            "noevents": "+OK no longer listening for events",
            "linger": "-ERR not controlling a session",
            "nolinger": "-ERR not controlling a session",
            "log 7": "+OK log level 7 [7]",
            "nolog": "+OK no longer logging",
            "myevents nosuch": "-ERR invalid uuid",
            "divert_events on": "-ERR not controlling a session.",
            "no_such_command": "-ERR command not found",
            "api": "-ERR command not found",
        }
        for cmd, text in expect.items():
            assert (await c.command(cmd)).reply_text == text, cmd
        assert (await c.command("noevents")).reply_text == "-ERR not listening for events"
        assert (await c.command("nolog")).reply_text == "-ERR not loging"
        assert await c.api("no_such_command") == "-ERR no_such_command Command not found!\n"
        reply = await c.command("api ")
        assert reply.text == "-ERR  Command not found!\n"
        job = str(uuid.uuid4())
        reply = await c.command(f"bgapi status\nJob-UUID: {job}")
        assert reply.reply_text == f"+OK Job-UUID: {job}" and reply.headers["Job-UUID"] == job


async def test_api_catalog_texts(fs: Emulator) -> None:
    async with RawClient(*fs.esl_addresses[0]) as c:
        await c.auth()
        assert await c.api("version") == "FreeSWITCH Version 1.11.1-release~64bit ( 64bit)\n"
        assert (await c.api("uptime")).endswith("\n")
        assert await c.api("show calls") == "\n0 total.\n"
        assert await c.api("show channels as json") == '{"row_count": 0}\n'
        assert await c.api("module_exists mod_sofia") == "true"
        assert await c.api("module_exists mod_nosuch") == "false"
        assert await c.api("reloadxml") == "+OK [Success]\n"
        zero = "00000000-0000-0000-0000-000000000000"
        assert await c.api(f"uuid_exists {zero}") == "false"
        assert await c.api(f"uuid_kill {zero}") == "-ERR No such channel!\n"
        assert await c.api(f"uuid_answer {zero}") == "-ERROR\n"
        assert await c.api("hupall NORMAL_CLEARING") == \
            "+OK hangup all channels with cause NORMAL_CLEARING\n"
        assert await c.api("global_getvar hostname") == fs.hosts[0].hostname
        assert await c.api("eval ${hostname}") == fs.hosts[0].hostname
        assert await c.api("fsctl max_sessions") == "+OK max sessions: 3000\n"
        assert await c.api("sofia status profile nosuch") == "Invalid Profile!\n"
        status = await c.api("sofia status")
        assert "sip:mod_sofia@127.0.0.1:5080\tRUNNING (0)" in status
        assert status.endswith("2 profiles 0 aliases\n")


async def test_event_formats_and_filters(fs: Emulator) -> None:
    async with RawClient(*fs.esl_addresses[0]) as c:
        await c.auth()
        await c.command("event json CHANNEL_CREATE BACKGROUND_JOB")
        a = str(uuid.uuid4())
        await c.command(f"filter Unique-ID {a}")
        job = await c.bgapi(f"originate {{origination_uuid={a}}}"
                            "sofia/external/answer@127.0.0.1:5080 &park()")
        created = await c.wait_for(lambda e: e.name == "CHANNEL_CREATE")
        await asyncio.sleep(0.1)
        # only A passes the filter: no inbound CREATE, no BACKGROUND_JOB (no Unique-ID)
        assert {e.get("Unique-ID") for e in c.events} == {a}
        raw = next(f for f in c.frames if f.content_type == "text/event-json")
        assert json.loads(raw.body)["Event-Name"] == "CHANNEL_CREATE"
        assert created[0]["Channel-Name"] == "sofia/external/answer@127.0.0.1:5080"
        await c.command(f"filter delete Unique-ID {a}")
        await c.command("event xml CHANNEL_HANGUP_COMPLETE")
        await c.api(f"uuid_kill {a}")
        hc = await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE", count=2)
        assert {e["Hangup-Cause"] for e in hc} == {"NORMAL_CLEARING"}
        assert any(f.content_type == "text/event-xml" for f in c.frames)
        assert job


async def test_myevents_linger_and_held_session(fs: Emulator) -> None:
    async with RawClient(*fs.esl_addresses[0]) as c:
        await c.auth()
        a = str(uuid.uuid4())
        await c.api(f"originate {{origination_uuid={a}}}sofia/external/answer@127.0.0.1:5080 "
                    "&park()")
        assert (await c.command(f"myevents {a}")).reply_text == "+OK Events Enabled"
        assert (await c.command(f"myevents {a}")).reply_text == "-ERR aready enabled."
        assert (await c.command("linger")).reply_text == "+OK will linger"
        assert await c.api(f"uuid_kill {a}") == "+OK\n"
        notice = await c.reply()
        assert notice.content_type == "text/disconnect-notice"
        assert notice.headers["Content-Disposition"] == "linger"
        await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
        await asyncio.sleep(0.1)
        # the socket holds the session: no CHANNEL_DESTROY yet, it still exists
        assert "CHANNEL_DESTROY" not in [e.name for e in c.events]
        assert a in fs.hosts[0].channels
        assert (await c.command("exit")).reply_text == "+OK bye"
        final = await c.reply()
        assert final.headers["Controlled-Session-UUID"] == a
        assert final.headers["Content-Disposition"] == "disconnect"
    await asyncio.sleep(0.1)
    assert a not in fs.hosts[0].channels


async def test_garbage_and_vanishing_clients_disturb_nobody(fs: Emulator,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    caplog.set_level(logging.INFO, logger="switchlab.sim")
    good = RawClient(*fs.esl_addresses[0])
    await good.connect()
    await good.auth()
    await good.command("event plain CHANNEL_CREATE")
    # 1. random binary garbage without any blank line (grows until the parser refuses it)
    r1, w1 = await asyncio.open_connection(*fs.esl_addresses[0])
    w1.write(bytes(range(1, 256)) * 5000)
    # 2. garbage lines that look like commands
    r2, w2 = await asyncio.open_connection(*fs.esl_addresses[0])
    w2.write(b"\x00\xff\xfe garbage\nX: y\n\n" * 50)
    # 3. a client that vanishes in the middle of a command
    r3, w3 = await asyncio.open_connection(*fs.esl_addresses[0])
    w3.write(b"auth ClueCon\n\nbgapi originate sofia/external/answ")
    await w3.drain()
    w3.transport.abort()
    for w in (w1, w2):
        await w.drain()
    data = await asyncio.wait_for(r2.read(65536), 5)
    assert b"-ERR command not found" in data
    # the good client still works, and events still reach it
    assert (await good.api("status")).startswith("UP ")
    job = await good.bgapi("originate sofia/external/answer@127.0.0.1:5080 &park()")
    await good.wait_for(lambda e: e.name == "CHANNEL_CREATE", count=2)
    await good.api("hupall")
    w2.close()
    await asyncio.sleep(0.2)
    assert any("middle of a command" in r.getMessage() for r in caplog.records)
    assert job
    await good.close()


async def test_many_concurrent_clients(fs: Emulator) -> None:
    n = 60

    async def one(i: int) -> str:
        async with RawClient(*fs.esl_addresses[0]) as c:
            await c.auth()
            await c.command("event plain CHANNEL_CREATE")
            body = await c.api(f"originate {{origination_caller_id_number={1000 + i}}}"
                               "sofia/external/answer@127.0.0.1:5080 &park()")
            await c.wait_for(lambda e: e.name == "CHANNEL_CREATE", count=2 * n, timeout=20)
            return body

    bodies = await asyncio.gather(*(one(i) for i in range(n)))
    assert all(b.startswith("+OK ") for b in bodies)
    assert len(fs.hosts[0].channels) == 2 * n
    async with RawClient(*fs.esl_addresses[0]) as c:
        await c.auth()
        await c.api("hupall")


async def test_log_lines(fs: Emulator) -> None:
    async with RawClient(*fs.esl_addresses[0]) as c:
        await c.auth()
        assert (await c.command("log 6")).reply_text == "+OK log level 6 [6]"
        await c.api("originate sofia/external/answer@127.0.0.1:5080 &park()")
        await asyncio.sleep(0.05)
        logs = [f for f in c.frames if f.content_type == "log/data"]
        assert logs and logs[0].headers["Log-Func"] == "switch_channel_set_name"
        assert logs[0].text.split(" ")[3] == "[NOTICE]"
        await c.api("hupall")


async def test_client_that_stops_reading_is_dropped(fs: Emulator, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Like FreeSWITCH: events for a client whose queue is full are lost, and after
    MAX_MISSED lost events in a row the client is disconnected; others go on."""
    import socket

    from switchlab.sim.esl import server as listener_mod

    caplog.set_level(logging.INFO, logger="switchlab.sim")
    monkeypatch.setattr(listener_mod, "MAX_BUFFERED", 50_000)
    monkeypatch.setattr(listener_mod, "MAX_MISSED", 20)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(fs.esl_addresses[0])
    sock.sendall(b"auth ClueCon\n\nevent plain ALL\n\n")  # ... and never reads again
    async with RawClient(*fs.esl_addresses[0]) as good:
        await good.auth()
        await good.command("event plain CHANNEL_HANGUP_COMPLETE")
        # how many events it loses before the kernel's socket buffers are full varies:
        # calls in batches of 30 until it is dropped (at most 5 batches)
        calls = 0
        while len(fs.hosts[0].listeners) > 1 and calls < 150:
            for _ in range(30):
                await good.bgapi("originate sofia/external/answer@127.0.0.1:5080 &hangup()")
            calls += 30
            await good.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE", count=2 * calls,
                                timeout=20)
            await asyncio.sleep(0.1)
        messages = [r.getMessage() for r in caplog.records]
        assert any("reads too slowly" in m for m in messages), (messages, fs.hosts[0].lost_events)
        assert any("disconnecting it" in m for m in messages), (messages, fs.hosts[0].lost_events)
        assert fs.hosts[0].slow_disconnects == 1
        assert (await good.api("status")).startswith("UP ")
        assert len(fs.hosts[0].listeners) == 1  # the good one
    sock.close()
