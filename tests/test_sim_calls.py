"""Call processing in the emulator, over real loopback sockets (raw bytes + wire layer)."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from simclient import RawClient
from switchlab.sim import DUTModel, Emulator, Latency
from switchlab.wire.dialstring import originate_string

pytestmark = pytest.mark.timeout(60)


def quick_dut(**kw: object) -> DUTModel:
    base: dict[str, object] = dict(seed=3, trying_ms=1, ringing_ms=5, ring_ms=20, failure_ms=5,
                                   failures={}, answer_probability=1.0, knee_ms=0)
    base.update(kw)
    return DUTModel(**base)  # type: ignore[arg-type]


@pytest.fixture
async def fs():
    async with Emulator(hosts=2, port=0, dut=quick_dut(), tick_us=1000,
                        heartbeat_s=3600) as emulator:
        yield emulator


async def client(fs: Emulator, k: int = 0, events: str = "ALL") -> RawClient:
    c = RawClient(*fs.esl_addresses[k])
    await c.connect()
    await c.auth()
    if events:
        assert (await c.command(f"event plain {events}")).ok
    return c


async def test_self_loop_answer_then_kill(fs: Emulator) -> None:
    c = await client(fs)
    a = str(uuid.uuid4())
    job = await c.bgapi(f"originate {{origination_uuid={a},origination_caller_id_number=1000}}"
                        "sofia/external/answer@127.0.0.1:5080 &park()")
    done = await c.job(job)
    assert done.body == f"+OK {a}\n".encode()
    await c.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == a)
    b = next(e["Unique-ID"] for e in c.events if e.name == "CHANNEL_CREATE"
             and e.get("Call-Direction") == "inbound")
    assert (await c.api(f"uuid_exists {b}")) == "true"
    assert await c.api(f"uuid_kill {a}") == "+OK\n"
    await c.wait_for(lambda e: e.name == "CHANNEL_DESTROY", count=2)
    assert c.names(a)[:3] == ["CHANNEL_OUTGOING", "CHANNEL_STATE", "CHANNEL_CREATE"]
    assert c.names(a)[-3:] == ["CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_STATE"]
    b_hangup = next(e for e in c.of(b) if e.name == "CHANNEL_HANGUP_COMPLETE")
    assert b_hangup["variable_sip_hangup_disposition"] == "recv_bye"
    assert b_hangup["variable_sip_term_status"] == "200"
    a_hangup = next(e for e in c.of(a) if e.name == "CHANNEL_HANGUP_COMPLETE")
    assert a_hangup["variable_sip_hangup_disposition"] == "send_bye"
    assert await c.api("show channels count") == "\n0 total.\n"
    await c.close()


async def test_tracking_variables_reach_the_inbound_leg(fs: Emulator) -> None:
    c = await client(fs)
    a = str(uuid.uuid4())
    job = await c.bgapi(f"originate {{switchlab_call_id=X42,sip_h_X-switchlab_call_id=X42,"
                        f"origination_uuid={a}}}sofia/external/answer@127.0.0.1:5080 &park()")
    await c.job(job)
    inbound = await c.wait_for(lambda e: e.name == "CHANNEL_CREATE"
                               and e.get("Call-Direction") == "inbound")
    assert inbound[0]["variable_sip_h_X-switchlab_call_id"] == "X42"
    assert "variable_switchlab_call_id" not in inbound[0]
    outbound = next(e for e in c.of(a) if e.name == "CHANNEL_CREATE")
    assert outbound["variable_switchlab_call_id"] == "X42"
    assert outbound["variable_sip_h_X-switchlab_call_id"] == "X42"
    await c.api("hupall NORMAL_CLEARING")
    await c.close()


async def test_cross_host_call_creates_the_inbound_leg_on_the_other_host(fs: Emulator) -> None:
    c0 = await client(fs, 0)
    c1 = await client(fs, 1)
    text = await c1.api("sofia status profile external")
    port = int(next(line.split("\t")[1].rsplit(":", 1)[1] for line in text.splitlines()
                    if line.startswith("URL")))
    assert port == fs.hosts[1].sip_address("external")[1] != 5080
    a = str(uuid.uuid4())
    job = await c0.bgapi(f"originate {{origination_uuid={a}}}"
                         f"sofia/external/answer-x@127.0.0.1:{port} &park()")
    assert (await c0.job(job)).body.startswith(b"+OK")
    created = await c1.wait_for(lambda e: e.name == "CHANNEL_CREATE")
    assert created[0]["Caller-Destination-Number"] == "answer-x"
    assert created[0]["FreeSWITCH-Hostname"] == fs.hosts[1].hostname
    assert not [e for e in c0.events if e.get("Call-Direction") == "inbound"]
    core0 = await c0.api("global_getvar core_uuid")
    core1 = await c1.api("global_getvar core_uuid")
    assert core0 != core1
    assert await c0.api(f"uuid_kill {a}") == "+OK\n"
    await c1.wait_for(lambda e: e.name == "CHANNEL_DESTROY")
    await c0.close()
    await c1.close()


async def test_call_through_the_dut_proxy_to_another_host(fs: Emulator) -> None:
    fs.dut.failures = {}
    c0 = await client(fs, 0)
    c1 = await client(fs, 1, events="CHANNEL_CREATE CHANNEL_ANSWER")
    port = fs.hosts[1].sip_address("internal")[1]
    job = await c0.bgapi(f"originate sofia/internal/answer@127.0.0.1:{port};"
                         "fs_path=sip:127.0.0.1:5070 &park()")
    assert (await c0.job(job)).body.startswith(b"+OK")
    await c1.wait_for(lambda e: e.name == "CHANNEL_ANSWER")
    assert fs.dut.stats.answered == 1
    await c0.api("hupall")
    await c0.close()
    await c1.close()


async def test_dut_failure_reports_the_sofia_cause(fs: Emulator) -> None:
    fs.dut.failures = {486: 1.0}
    c = await client(fs)
    assert await c.api("originate sofia/external/x@127.0.0.1:5070 &park()") == \
        "-ERR USER_BUSY\n"
    hc = await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    assert hc[0]["Hangup-Cause"] == "USER_BUSY"
    assert hc[0]["variable_sip_term_status"] == "486"
    assert hc[0]["variable_sip_hangup_disposition"] == "recv_refuse"
    fs.dut.failures = {"NORMAL_CIRCUIT_CONGESTION": 1.0}
    assert await c.api("originate sofia/external/x@127.0.0.1:5070 &park()") == \
        "-ERR NORMAL_CIRCUIT_CONGESTION\n"
    await c.close()


async def test_dut_answer_with_ringing_and_early_media(fs: Emulator) -> None:
    fs.dut.early_media = 1.0
    fs.dut.early_media_ms = 30
    fs.dut.ring_ms = 200
    c = await client(fs)
    a = str(uuid.uuid4())
    # the originate returns at early media, before the answer, like FreeSWITCH
    assert await c.api(f"originate {{origination_uuid={a}}}sofia/external/x@127.0.0.1:5070 "
                       "&park()") == f"+OK {a}\n"
    names = c.names(a)
    assert "CHANNEL_PROGRESS_MEDIA" in names and "CHANNEL_ANSWER" not in names
    await c.wait_for(lambda e: e.name == "CHANNEL_ANSWER" and e.get("Unique-ID") == a)
    names = c.names(a)
    assert names.index("CHANNEL_PROGRESS") < names.index("CHANNEL_PROGRESS_MEDIA") < \
        names.index("CHANNEL_ANSWER")
    states = [e["Answer-State"] for e in c.of(a) if e.name in
              ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER")]
    assert states == ["ringing", "early", "answered"]
    await c.api(f"uuid_kill {a}")
    # ignore_early_media: the originate waits for the 200
    b = str(uuid.uuid4())
    assert await c.api(f"originate {{ignore_early_media=true,origination_uuid={b}}}"
                       "sofia/external/x@127.0.0.1:5070 &park()") == f"+OK {b}\n"
    assert "CHANNEL_ANSWER" in c.names(b)
    await c.api(f"uuid_kill {b}")
    await c.close()


async def test_originate_timeout_gives_no_answer(fs: Emulator) -> None:
    fs.dut.answer_probability = 0.0
    c = await client(fs)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await c.api("originate {originate_timeout=1}sofia/external/x@127.0.0.1:5070 "
                       "&park()") == "-ERR NO_ANSWER\n"
    assert loop.time() - t0 <= 1.5
    hc = await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    assert hc[0]["variable_sip_hangup_disposition"] == "send_cancel"
    assert hc[0]["variable_sip_invite_failure_status"] == "487"
    # an unanswered call to an emulated host is cancelled there too
    job = await c.bgapi("originate {originate_timeout=1}sofia/external/ring@127.0.0.1:5080 "
                        "&park()")
    assert (await c.job(job)).body == b"-ERR NO_ANSWER\n"
    cancelled = await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE"
                                 and e.get("Call-Direction") == "inbound")
    assert cancelled[0]["Hangup-Cause"] == "ORIGINATOR_CANCEL"
    await c.close()


async def test_unreachable_port_fails_fast(fs: Emulator) -> None:
    c = await client(fs, events="")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await c.api("originate sofia/external/x@127.0.0.1:5999 &park()") == \
        "-ERR NORMAL_TEMPORARY_FAILURE\n"
    assert loop.time() - t0 < 0.5
    assert await c.api("originate sofia/nosuch/x@127.0.0.1:5080 &park()") == \
        "-ERR INVALID_PROFILE\n"
    assert await c.api("originate error/USER_BUSY &park()") == "-ERR USER_BUSY\n"
    assert (await c.api("originate")).startswith("-USAGE: ")
    await c.close()


async def test_bracketed_ipv6_destination_is_routed_by_its_address(fs: Emulator) -> None:
    """``x@[::1]:5080`` (as the client builds it) means host ``::1``: a loopback address
    where no profile listens (they are on 127.0.0.1), so the INVITE fails at once instead
    of going to the DUT."""
    c = await client(fs, events="")
    offered = fs.dut.stats.offered
    assert await c.api(originate_string("x@[::1]:5080")) == "-ERR NORMAL_TEMPORARY_FAILURE\n"
    assert fs.dut.stats.offered == offered
    await c.close()


async def test_loopback_and_exten_targets(fs: Emulator) -> None:
    c = await client(fs)
    body = await c.api("originate loopback/answer9/switchio &park()")
    assert body.startswith("+OK ")
    a = body[4:].strip()
    assert [e["Channel-Name"] for e in c.of(a) if e.name == "CHANNEL_CREATE"] == \
        ["loopback/answer9-a"]
    assert await c.api("show channels count") == "\n2 total.\n"
    assert (await c.api("hupall NORMAL_CLEARING")).startswith("+OK hangup all")
    await c.wait_for(lambda e: e.name == "CHANNEL_DESTROY", count=2)
    # exten target: the outbound leg runs the dialplan of the destination
    job = await c.bgapi("originate sofia/external/answer@127.0.0.1:5080 answer2 XML default")
    assert (await c.job(job)).body.startswith(b"+OK")
    await c.api("hupall")
    await c.close()


async def test_sendmsg_apps_playback_record_dtmf(fs: Emulator) -> None:
    c = await client(fs)
    a = str(uuid.uuid4())
    await c.api(f"originate {{origination_uuid={a}}}sofia/external/answer@127.0.0.1:5080 "
                "&park()")
    b = next(e["Unique-ID"] for e in c.events if e.name == "CHANNEL_CREATE"
             and e.get("Call-Direction") == "inbound")
    await c.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.get("Unique-ID") == a)
    reply = await c.command(f"sendmsg {a}\ncall-command: execute\nexecute-app-name: playback\n"
                            "execute-app-arg: tone_stream://%(100,0,440)")
    assert reply.reply_text == "+OK"
    done = await c.wait_for(lambda e: e.name == "CHANNEL_EXECUTE_COMPLETE"
                            and e.get("Application") == "playback")
    assert done[0]["Application-Response"] == "FILE PLAYED"
    names = c.names(a)
    assert names[names.index("PLAYBACK_START") - 1] == "CHANNEL_EXECUTE"
    assert names.index("PLAYBACK_STOP") < names.index("CHANNEL_EXECUTE_COMPLETE",
                                                       names.index("PLAYBACK_STOP") - 1) + 1
    await c.wait_for(lambda e: e.name == "PRIVATE_COMMAND")
    await c.command(f"sendmsg {a}\ncall-command: execute\nexecute-app-name: send_dtmf\n"
                    "execute-app-arg: 12")
    digits = await c.wait_for(lambda e: e.name == "DTMF", count=2, timeout=3)
    assert [d["DTMF-Digit"] for d in digits] == ["1", "2"]
    assert {d["Unique-ID"] for d in digits} == {b}
    await c.command(f"sendmsg {b}\ncall-command: execute\nexecute-app-name: record_session\n"
                    "execute-app-arg: /tmp/x.wav")
    await c.wait_for(lambda e: e.name == "RECORD_START")
    await c.command(f"sendmsg {b}\ncall-command: execute\n"
                    "execute-app-name: stop_record_session\nexecute-app-arg: /tmp/x.wav")
    stop = await c.wait_for(lambda e: e.name == "RECORD_STOP")
    assert stop[0]["Record-Completion-Cause"] == "success-maxtime"
    await c.command(f"sendmsg {a}\ncall-command: execute\nexecute-app-name: set\n"
                    "execute-app-arg: foo=bar")
    await c.wait_for(lambda e: e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") ==
                     "set")
    assert await c.api(f"uuid_getvar {a} foo") == "bar"
    # an unknown application hangs the channel up, as FreeSWITCH does
    await c.command(f"sendmsg {a}\ncall-command: execute\nexecute-app-name: no_such_app")
    hc = await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP" and e.get("Unique-ID") == a)
    assert hc[0]["Hangup-Cause"] == "DESTINATION_OUT_OF_ORDER"
    assert (await c.command("sendmsg 00000000-0000-0000-0000-000000000000\n"
                            "call-command: execute\nexecute-app-name: park")).reply_text == \
        "-ERR invalid session id [00000000-0000-0000-0000-000000000000]"
    await c.close()


async def test_uuid_bridge_and_show_calls(fs: Emulator) -> None:
    c = await client(fs)
    a1, a2 = str(uuid.uuid4()), str(uuid.uuid4())
    for a, cid in ((a1, 1000), (a2, 1001)):
        await c.api(f"originate {{origination_uuid={a},origination_caller_id_number={cid}}}"
                    "sofia/external/answer@127.0.0.1:5080 &park()")
    assert await c.api("show calls count") == "\n4 total.\n"
    assert await c.api(f"uuid_bridge {a1} {a2}") == f"+OK {a2}\n"
    bridge = await c.wait_for(lambda e: e.name == "CHANNEL_BRIDGE")
    assert bridge[0]["Bridge-A-Unique-ID"] == a1 and bridge[0]["Bridge-B-Unique-ID"] == a2
    await c.wait_for(lambda e: e.name == "RECV_INFO", count=2)
    assert await c.api("show calls count") == "\n3 total.\n"
    rows = json.loads(await c.api("show calls as json"))
    assert rows["row_count"] == 3
    bridged = [r for r in rows["rows"] if r["b_uuid"]]
    assert len(bridged) == 1 and bridged[0]["uuid"] == a1 and bridged[0]["b_uuid"] == a2
    await c.api(f"uuid_kill {a1}")
    await c.wait_for(lambda e: e.name == "CHANNEL_DESTROY", count=4)
    assert [e.name for e in c.events].count("CHANNEL_UNBRIDGE") == 1
    assert await c.api("show channels as json") == '{"row_count": 0}\n'
    await c.close()


async def test_hupall_matching_a_variable(fs: Emulator) -> None:
    c = await client(fs, events="CHANNEL_HANGUP")
    for app in ("A", "A", "B"):
        await c.api(f"originate {{switchio_app={app}}}sofia/external/answer@127.0.0.1:5080 "
                    "&park()")
    assert await c.api("show channels count") == "\n6 total.\n"
    assert await c.api("hupall NORMAL_CLEARING switchio_app A") == \
        "+OK hangup all channels matching [switchio_app]=[A] with cause: NORMAL_CLEARING\n"
    await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP", count=4)
    await asyncio.sleep(0.1)
    assert await c.api("show channels count") == "\n2 total.\n"
    await c.api("hupall")
    await c.close()


async def test_dut_hangs_up_after_call_duration(fs: Emulator) -> None:
    fs.dut.call_duration_ms = Latency.fixed(50)
    c = await client(fs, events="CHANNEL_HANGUP_COMPLETE")
    assert (await c.api("originate sofia/external/x@127.0.0.1:5070 &park()")).startswith("+OK")
    hc = await c.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    assert hc[0]["variable_sip_hangup_disposition"] == "recv_bye"
    assert fs.dut.stats.active == 0
    await c.close()
