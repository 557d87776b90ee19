"""The call-flow Session API and the call-flow apps (blockers, Bridger, Proxier,
Router), over real sockets: the emulator by default, real FreeSWITCH with --fshost
(the recorded dialplan: ``answer*`` answered then parked, anything else parked)."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchlab import Client, callback
from switchlab.apps.blockers import CalleeBlockOnInvite, CalleeEarlyMedia, CalleeRingback
from switchlab.apps.bridging import Bridger, Proxier
from switchlab.apps.router import Router
from switchlab.errors import APIError, CommandError, SessionGone
from switchlab.state.callflow import respond_arg


class Legs:
    """Keeps every parked leg of its calls, by direction."""

    def __init__(self) -> None:
        self.parked: dict[str, list[Any]] = {"inbound": [], "outbound": []}

    @callback("CHANNEL_PARK")
    def on_park(self, sess: Any) -> None:
        self.parked[sess.direction].append(sess)


class Columns:
    """A column sink: what apps recorded, per call id."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def __call__(self, call_id: str, name: str, value: Any) -> None:
        self.values.setdefault(call_id, {})[name] = value


@contextlib.asynccontextmanager
async def live(fshost: str, fspassword: str, events: tuple[str, ...] | None = None, **apps: Any
               ) -> AsyncIterator[tuple[Client, str, Columns]]:
    client = (Client(fshost, password=fspassword) if events is None else
              Client(fshost, password=fspassword, events=events))
    await client.connect()
    sink = Columns()
    client.listener.column_sinks.append(sink)
    try:
        for app_id, app in apps.items():
            client.load_app(app, app_id)
        host, port = await client.sip_address("external")
        yield client, f"{host}:{port}" if ":" not in host else f"[{host}]:{port}", sink
    finally:
        with contextlib.suppress(Exception):
            await client.hupall()
        await client.close()


async def until(pred: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


# -- Session API ---------------------------------------------------------------------
def test_respond_arg_is_checked() -> None:
    assert respond_arg(486, "Busy Here") == "486 Busy Here"
    for bad in (99, 700, "486", True):
        with pytest.raises(CommandError):
            respond_arg(bad)  # type: ignore[arg-type]
    with pytest.raises(CommandError):
        respond_arg(486, "Busy\napi hupall")


async def test_execute_resolves_with_its_own_execute_complete(fshost: str,
                                                              fspassword: str) -> None:
    legs = Legs()
    async with live(fshost, fspassword, legs=legs) as (client, addr, _):
        job = client.originate(f"answer-exec@{addr}", app_id="legs")
        await asyncio.wait_for(job, 10)
        await until(lambda: legs.parked["outbound"])
        sess = legs.parked["outbound"][0]
        # two applications queued at once: each future gets its own completion
        slow = sess.execute("sleep", "300")
        fast = sess.execute("set", "flow_test=one")
        ev_fast = await asyncio.wait_for(fast, 5)
        ev_slow = await asyncio.wait_for(slow, 5)
        assert ev_slow["Application"] == "sleep" and ev_fast["Application"] == "set"
        assert ev_fast["Application-UUID"] != ev_slow["Application-UUID"]
        assert ev_fast.name == "CHANNEL_EXECUTE_COMPLETE"
        assert await sess.getvar("flow_test") == "one"
        assert (await sess.setvars({"flow_a": 1, "flow_b": "two"})).startswith("+OK")
        assert (await sess.getvar("flow_a"), await sess.getvar("flow_b")) == ("1", "two")
        assert await sess.getvar("flow_unset") is None
        dump = await sess.dump()
        assert dump["Unique-ID"] == sess.uuid and dump["variable_flow_b"] == "two"
        assert dump["Event-Name"] == "CHANNEL_DATA"
        assert (await sess.dump(json=True))["variable_flow_a"] == "1"
        with pytest.raises(CommandError):
            sess.setvars({"x": "a;b"})
        # park (already parked: leave it and come back) and a scheduled hangup
        await sess.hangup("NORMAL_CLEARING")
        with pytest.raises(SessionGone):
            await asyncio.wait_for(sess.execute("set", "x=1"), 5)
        with pytest.raises(APIError):
            await sess.dump()


async def test_early_media_then_respond_486(fshost: str, fspassword: str) -> None:
    """ring_ready -> 180, pre_answer -> 183 (the originate returns), respond 486 ->
    the caller fails with USER_BUSY, as in the early_media_respond recording."""
    legs = Legs()
    async with live(fshost, fspassword, legs=legs) as (client, addr, _):
        job = client.originate(f"ring-em@{addr}", app_id="legs")
        await until(lambda: legs.parked["inbound"])
        callee = legs.parked["inbound"][0]
        caller = client.listener.sessions[job.sess_uuid]
        ev = await asyncio.wait_for(callee.ring_ready(), 5)
        assert ev["Application"] == "ring_ready"
        await until(lambda: caller.first("CHANNEL_PROGRESS") is not None, 5)  # the 180
        ev = await asyncio.wait_for(callee.pre_answer(), 5)
        assert ev["Application"] == "pre_answer"
        assert await asyncio.wait_for(job, 5) == caller.uuid  # early media satisfies it
        assert not caller.answered and caller.first("CHANNEL_PROGRESS_MEDIA") is not None
        hangup = caller.recv("CHANNEL_HANGUP")
        ev = await asyncio.wait_for(callee.respond(486, "Busy Here"), 5)
        assert ev["Application-Data"] == "486 Busy Here"
        ev = await asyncio.wait_for(hangup, 5)
        assert ev["Hangup-Cause"] == "USER_BUSY"
        assert ev["variable_sip_term_status"] == "486"
        assert ev["variable_sip_reason"] == 'Q.850;cause=17;text="USER_BUSY"'


async def test_transfer_park_and_sched_hangup(fshost: str, fspassword: str) -> None:
    legs = Legs()
    async with live(fshost, fspassword, legs=legs) as (client, addr, _):
        job = client.originate(f"park-xfer@{addr}", app_id="legs")
        await until(lambda: legs.parked["inbound"])
        callee = legs.parked["inbound"][0]
        answered = callee.recv("CHANNEL_ANSWER")
        assert (await callee.transfer("answer-xfer", "XML", "switchio")).startswith("+OK")
        await asyncio.wait_for(answered, 5)  # the dialplan answered the new destination
        await asyncio.wait_for(job, 5)
        caller = client.listener.sessions[job.sess_uuid]
        await until(lambda: legs.parked["outbound"])
        playing = caller.execute("playback", "tone_stream://%(1000,0,440);loops=-1")
        ev = await asyncio.wait_for(caller.park(), 5)
        assert ev is not None and ev.name == "CHANNEL_PARK"
        assert (await asyncio.wait_for(playing, 5))["Application"] == "playback"
        hangup = caller.recv("CHANNEL_HANGUP")
        assert (await caller.sched_hangup(1, "ALLOTTED_TIMEOUT")).startswith("+OK")
        assert (await asyncio.wait_for(hangup, 5))["Hangup-Cause"] == "ALLOTTED_TIMEOUT"
        with pytest.raises(CommandError):
            caller.transfer("a b")


# -- blockers ------------------------------------------------------------------------
async def test_callee_ringback(fshost: str, fspassword: str) -> None:
    # a client subscribed to little: the app's `subscribe` brings the completions it awaits
    few = ("CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_DESTROY", "BACKGROUND_JOB")
    async with live(fshost, fspassword, few, ring=CalleeRingback(ring_s=0.5)) as (
            client, addr, sink):
        job = client.originate(f"ring-back@{addr}", app_id="ring")
        await asyncio.wait_for(job, 10)
        caller = client.listener.sessions[job.sess_uuid]
        progress, answer = caller.first("CHANNEL_PROGRESS"), caller.first("CHANNEL_ANSWER")
        assert progress is not None and answer is not None
        assert 0.45 <= answer[1] - progress[1] < 3
        await until(lambda: "ringback_ok" in sink.values.get(job.call_id, {}))
        assert sink.values[job.call_id] == {"ringback_ok": True}


@pytest.mark.parametrize("code,cause", [(486, "USER_BUSY"), (603, "CALL_REJECTED")])
async def test_callee_block_on_invite(fshost: str, fspassword: str, code: int,
                                      cause: str) -> None:
    async with live(fshost, fspassword,
                    block=CalleeBlockOnInvite(code, None)) as (client, addr, sink):
        job = client.originate(f"block@{addr}", app_id="block")
        with pytest.raises(APIError) as err:
            await asyncio.wait_for(job, 10)
        assert err.value.text == cause
        await until(lambda: "block_ok" in sink.values.get(job.call_id, {}))
        assert sink.values[job.call_id] == {"block_code": code, "block_ok": True}


async def test_callee_early_media_only_and_then_answer(fshost: str, fspassword: str) -> None:
    apps = {"early": CalleeEarlyMedia(early_s=0.3), "emonly": CalleeEarlyMedia(answer=False)}
    async with live(fshost, fspassword, **apps) as (client, addr, sink):
        job = client.originate(f"early@{addr}", app_id="early",
                               vars={"ignore_early_media": True})
        await asyncio.wait_for(job, 10)
        caller = client.listener.sessions[job.sess_uuid]
        media, answer = caller.first("CHANNEL_PROGRESS_MEDIA"), caller.first("CHANNEL_ANSWER")
        assert media is not None and answer is not None and answer[1] - media[1] >= 0.25
        only = client.originate(f"early-only@{addr}", app_id="emonly", timeout=2,
                                vars={"ignore_early_media": True})
        with pytest.raises(APIError):
            await asyncio.wait_for(only, 10)  # never answered: the originate times out
        await until(lambda: "early_media_ok" in sink.values.get(only.call_id, {}))
        assert sink.values[job.call_id]["early_media_ok"] is True
        assert sink.values[only.call_id]["early_media_ok"] is True


# -- bridging and routing ------------------------------------------------------------
async def test_bridger_and_proxier_bridge_onward(fshost: str, fspassword: str) -> None:
    apps = {"bridger": Bridger(), "proxier": Proxier()}
    async with live(fshost, fspassword, **apps) as (client, addr, sink):
        for app_id in apps:
            job = client.originate(f"{app_id}1@{addr}", app_id=app_id)
            await asyncio.wait_for(job, 10)  # answered through the onward leg
            await until(lambda: sink.values.get(job.call_id, {}).get("bridge_ok") is True)
            await client.hupall(app_id)
            await until(lambda: "bridge_cause" in sink.values[job.call_id])
            assert sink.values[job.call_id]["bridge_cause"] == "SUCCESS"


async def test_bridger_records_a_failed_bridge(fshost: str, fspassword: str) -> None:
    bridger = Bridger(dest="nobody@127.0.0.1:9")  # nothing listens there
    async with live(fshost, fspassword, bfail=bridger) as (client, addr, sink):
        job = client.originate(f"bfail@{addr}", app_id="bfail", timeout=10)
        with pytest.raises(APIError):
            await asyncio.wait_for(job, 40)
        await until(lambda: "bridge_ok" in sink.values.get(job.call_id, {}), 40)
        assert sink.values[job.call_id]["bridge_ok"] is False
        assert sink.values[job.call_id]["bridge_cause"] not in (None, "SUCCESS")


async def test_router_routes_guards_stops_and_rejects(fshost: str, fspassword: str) -> None:
    router = Router()
    seen: list[str] = []

    @router.route(r"^route-answer")
    async def answer(sess: Any, match: Any, router: Router) -> None:
        seen.append("answer")
        await sess.answer()

    @router.route(r"^route-(busy)", name="busy")
    async def busy(sess: Any, match: Any, router: Router) -> None:
        seen.append(match.group(1))
        await sess.respond(486)
        raise Router.StopRouting

    @router.route(r"^route-", name="catch_all")
    def catch_all(sess: Any, match: Any, router: Router) -> None:
        seen.append("catch_all")

    async with live(fshost, fspassword, router=router) as (client, addr, sink):
        ok = client.originate(f"route-answer@{addr}", app_id="router")
        await asyncio.wait_for(ok, 10)
        busy_job = client.originate(f"route-busy@{addr}", app_id="router")
        miss = client.originate(f"elsewhere@{addr}", app_id="router")
        for job, cause in ((busy_job, "USER_BUSY"), (miss, "NO_ROUTE_DESTINATION")):
            with pytest.raises(APIError) as err:
                await asyncio.wait_for(job, 10)
            assert err.value.text == cause
        await until(lambda: all("route" in sink.values.get(j.call_id, {})
                                for j in (ok, busy_job, miss)))
        assert [sink.values[j.call_id]["route"] for j in (ok, busy_job, miss)] == \
            ["answer", "busy", "none"]
        assert seen == ["answer", "catch_all", "busy"]  # StopRouting skipped the catch-all
        # the guard keeps the router off the outbound (caller) legs
        assert client.listener.sessions[ok.sess_uuid].answered


# -- the same far ends played by the emulated DUT ----------------------------------------
async def test_dut_far_ends_match_the_blockers() -> None:
    from switchlab.sim import Emulator
    from switchlab.sim.dut import farends

    class Seen:
        def __init__(self) -> None:
            self.at: dict[str, float] = {}

        @callback("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER")
        def on_event(self, sess: Any) -> None:
            self.at.setdefault(sess.last_event.name, sess.last_event.received)

    cases = [(farends.ringback(0.4), None), (farends.busy(486), "USER_BUSY"),
             (farends.early_media_then_answer(0.3), None),
             (farends.early_media_only(timeout_s=0.5), "NO_USER_RESPONSE")]
    for dut, cause in cases:
        async with Emulator(hosts=1, port=0, dut=dut) as fs:
            host, port = fs.esl_addresses[0]
            client = Client(f"{host}:{port}")
            await client.connect()
            seen = Seen()
            client.load_app(seen, "seen")
            try:
                job = client.originate("far@127.0.0.1:5070", app_id="seen",
                                       vars={"ignore_early_media": True})
                if cause is None:
                    await asyncio.wait_for(job, 10)
                else:
                    with pytest.raises(APIError) as err:
                        await asyncio.wait_for(job, 10)
                    assert err.value.text == cause
                assert ("CHANNEL_PROGRESS_MEDIA" in seen.at) == bool(dut.early_media)
                if cause is None:
                    start = seen.at.get("CHANNEL_PROGRESS_MEDIA", seen.at.get("CHANNEL_PROGRESS"))
                    assert start is not None and seen.at["CHANNEL_ANSWER"] - start >= 0.25
                else:
                    assert "CHANNEL_ANSWER" not in seen.at
            finally:
                await client.close()


async def test_a_refused_execute_leaves_nothing_waiting(fshost: str, fspassword: str) -> None:
    legs = Legs()
    async with live(fshost, fspassword, legs=legs) as (client, addr, _):
        job = client.originate(f"answer-refused@{addr}", app_id="legs")
        await asyncio.wait_for(job, 10)
        await until(lambda: legs.parked["outbound"])
        sess = legs.parked["outbound"][0]
        with pytest.raises(CommandError):
            sess.execute("play back", "x")  # not one word: refused before sending
        assert not sess._apps
        ev = await asyncio.wait_for(sess.execute("set", "after_refusal=1"), 5)
        assert ev["Application"] == "set" and len(sess._apps or {}) == 0
