"""State layer: sessions, calls, jobs, dispatch to apps, release of finished objects.

Transcript replays and a scripted call peer (tests/fakes.py) make these
deterministic; tests/test_client.py runs the same flows live.
"""
from __future__ import annotations

import asyncio
import gc
import re
import weakref

import pytest

from fakes import FakeESL, FakeSwitch, answer_verb, channel_event, event_frames
from switchlab import Client, EventListener, callback, connect, coroutine, handler
from switchlab.errors import SessionGone
from switchlab.wire import Event, serialize


def _wire_events(name: str) -> list[Event]:
    return [Event.from_plain(f.split(b"\n\n", 1)[1]) for f in event_frames(name)]


async def replay(name: str, **listener_kwargs):
    """Feed a transcript's events through a real connection into a listener."""
    frames = event_frames(name)

    fs = FakeESL(responder=answer_verb("api", b"".join(frames) + serialize.api_response("+OK\n")))
    await fs.__aenter__()
    conn = await connect(fs.address)
    listener = EventListener(conn, **listener_kwargs)
    seen = []
    listener.add_handler("*", seen.append)
    await conn.api("replay")
    return fs, conn, listener, seen


@pytest.mark.parametrize("name", ["call_selfloop_plain", "bridge", "hupall_with_var", "call_sipp_busy",
                                  "call_ringing", "call_loopback"])
async def test_transcript_sessions_are_tracked_then_released(name: str) -> None:
    fs, conn, listener, seen = await replay(name)
    try:
        wire = _wire_events(name)
        assert [e.name for e in seen] == [e.name for e in wire]
        uuids = {e.uuid for e in wire if e.uuid}
        destroyed = {e.uuid for e in wire if e.name == "CHANNEL_DESTROY"}
        assert destroyed == uuids  # every channel of these captures ends inside them
        assert listener.sessions == {} and listener.calls == {}
        assert listener.total_sessions == len(uuids)
        hangups = [e for e in wire if e.name == "CHANNEL_HANGUP"]
        assert sum(listener.hangup_causes.values()) == len(hangups)
        assert listener.answered_sessions == len({e.uuid for e in wire if e.name == "CHANNEL_ANSWER"})
    finally:
        await conn.close()
        await fs.stop()


async def test_timeline_keeps_wire_order_and_both_clocks() -> None:
    """FreeSWITCH stamps come from a 20 ms cached clock; the timeline is wire order."""
    kept = {}
    frames = event_frames("call_selfloop_plain")

    reply = b"".join(frames) + serialize.api_response("+OK\n")
    async with FakeESL(responder=answer_verb("api", reply)) as fs:
        conn = await connect(fs.address)
        listener = EventListener(conn)
        listener.add_handler("CHANNEL_CREATE", lambda ev: kept.setdefault(
            ev.uuid, listener.sessions[ev.uuid]))
        await conn.api("go")
        wire = _wire_events("call_selfloop_plain")
        for uuid, sess in kept.items():
            mine = [e for e in wire if e.uuid == uuid]
            # the session starts at its first event with a Unique-ID, CHANNEL_STATE
            # (CS_DESTROY) after CHANNEL_DESTROY is not taken
            assert [n for n, _, _ in sess.timeline] == [e.name for e in mine][: len(sess.timeline)]
            assert sess.timeline[-1][0] == "CHANNEL_DESTROY"
            assert [fs_us for _, fs_us, _ in sess.timeline] == [e.timestamp_us for e in mine][
                : len(sess.timeline)]
            rx = [r for _, _, r in sess.timeline]
            assert rx == sorted(rx) and rx[0] > 0
            assert sess.first("CHANNEL_CREATE")[0] == next(
                e.timestamp_us for e in mine if e.name == "CHANNEL_CREATE")
            assert sess.destroyed and sess.hangup_cause == "NORMAL_CLEARING"
            assert sess.answered
            assert sess.direction in ("inbound", "outbound")
        assert {s.direction for s in kept.values()} == {"inbound", "outbound"}
        await conn.close()


@pytest.mark.parametrize("name", ["call_selfloop_plain", "call_sipp_busy"])
async def test_session_handlers_get_what_the_listener_read(name: str) -> None:
    """``add_session_handler``: each event of its name, after the state update and
    before the plain handlers, with the listener's session for the channel (None
    when it keeps none), the name and the stamp the session's timeline has; the
    same events, in the same order, as plain handlers get. Removed, it gets none."""
    got: list[tuple[object, ...]] = []
    plain: list[Event] = []
    names = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY",
             "CHANNEL_STATE")
    reply = b"".join(event_frames(name)) + serialize.api_response("+OK\n")
    async with FakeESL(responder=answer_verb("api", reply)) as fs:
        conn = await connect(fs.address)
        listener = EventListener(conn)

        def tap(ev: Event, sess: object, ev_name: str, ts: object) -> None:
            assert len(got) == len(plain)  # before the plain handler of the same event
            kept = listener.sessions.get(ev.uuid or "")
            if sess is None:
                assert kept is None and ts is None
            else:
                assert sess is kept and sess.timeline[-1] == (ev_name, ts, ev.received)
                assert sess.events[0] is ev and ts == ev.timestamp_us
            got.append((ev, sess, ev_name, ts))

        for n in names:
            listener.add_session_handler(n, tap)
            listener.add_handler(n, plain.append)
        await conn.api("go")
        assert [g[0] for g in got] == plain and [g[2] for g in got] == [e.name for e in plain]
        assert {g[2] for g in got if g[1] is None} <= {"CHANNEL_STATE"}  # after DESTROY
        assert any(g[1] is not None for g in got)
        n = len(got)
        for name_ in names:
            listener.remove_session_handler(name_, tap)
        await conn.api("go")
        assert len(got) == n and len(plain) == 2 * n
        await conn.close()


async def test_fs_stamps_are_not_monotonic_in_wire_order() -> None:
    """The reason the engine never sorts by FreeSWITCH stamps (INDEX2.md)."""
    stamps = [e.timestamp_us for e in _wire_events("hupall_with_var")]
    assert any(b < a for a, b in zip(stamps, stamps[1:]))


# -- calls, apps and jobs with a scripted call peer ---------------------------------
class Recorder:
    """Records what it is called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.raw: list[str] = []

    @callback("CHANNEL_PARK")
    def on_park(self, sess):
        self.calls.append(("park", sess.direction, sess.uuid))
        if sess.is_inbound():
            sess.answer()

    @callback("CHANNEL_ANSWER")
    def on_answer(self, sess):
        self.calls.append(("answer", sess.direction, sess.uuid))

    @callback("BACKGROUND_JOB")
    def on_job(self, job):
        self.calls.append(("job", job.cause or "ok", job.sess_uuid))

    @handler("CHANNEL_CREATE")
    def on_create(self, ev):
        self.raw.append(ev.uuid)


async def fake_client(**kwargs):
    fs = FakeESL(responder=FakeSwitch())
    await fs.__aenter__()
    client = Client(fs.address, **kwargs)
    await client.connect()
    return fs, client


async def test_originate_ties_legs_dispatches_app_and_releases() -> None:
    fs, client = await fake_client()
    try:
        rec = Recorder()
        client.load_app(rec, app_id="rec")
        job = client.originate("Fred@127.0.0.1:5080", app_id="rec")
        uuid = await asyncio.wait_for(job, 5)
        assert uuid == job.sess_uuid == job.call_id
        call = client.listener.calls[job.call_id]
        assert len(call.legs) == 2 and call.first.uuid == uuid and call.first.is_outbound()
        assert call.last.is_inbound() and call.get_peer(call.first) is call.last
        assert call.app_id == "rec" and all(s.app_id == "rec" for s in call.legs)
        assert call.first.job is job or call.job is job
        kinds = [(k, d) for k, d, _ in rec.calls]
        assert ("park", "inbound") in kinds and ("answer", "inbound") in kinds
        assert ("answer", "outbound") in kinds and ("job", "ok") in kinds
        assert set(rec.raw) == {s.uuid for s in call.legs}
        assert call.first["Unique-ID"] == uuid and "Call-Direction" in call.first
        ended = call.wait()
        complete = []
        client.listener.add_call_end_handler(complete.append)
        hung = await asyncio.wait_for(call.first.hangup(), 5)
        assert hung.name == "CHANNEL_HANGUP"
        await asyncio.wait_for(ended, 5)
        assert complete == [call]
        assert client.listener.sessions == {} and client.listener.calls == {}
        assert all(s.destroyed and not s.lost for s in call.legs)
    finally:
        await client.close()
        await fs.stop()


async def test_sessions_of_other_apps_do_not_reach_an_app() -> None:
    fs, client = await fake_client()
    try:
        rec, other = Recorder(), Recorder()
        client.load_app(rec, app_id="rec")
        client.load_app(other, app_id="other")
        job = client.originate("answer@127.0.0.1:5080", app_id="other")
        await asyncio.wait_for(job, 5)
        assert rec.calls == [] and other.calls
        assert rec.raw and rec.raw == other.raw  # handlers see every channel
    finally:
        await client.close()
        await fs.stop()


async def test_failed_originate_job_and_coroutine_sees_session_gone() -> None:
    outcome = []

    class Waiter:
        @coroutine("CHANNEL_CREATE")
        async def on_create(self, sess):
            try:
                await sess.recv("CHANNEL_ANSWER")
                outcome.append("answered")
            except SessionGone as exc:
                outcome.append(("gone", exc.session_uuid))

    fs, client = await fake_client()
    try:
        client.load_app(Waiter, app_id="w")
        job = client.originate("busy@127.0.0.1:5080", app_id="w")
        with pytest.raises(Exception) as info:
            await asyncio.wait_for(job, 5)
        assert info.value.text == "USER_BUSY" and job.cause == "USER_BUSY"
        await asyncio.sleep(0.05)
        assert outcome == [("gone", job.sess_uuid)]
        assert client.listener.failed_jobs["USER_BUSY"] == 1
        assert client.listener.hangup_causes["USER_BUSY"] == 1
        assert client.listener.sessions == {} and client.listener.calls == {}
    finally:
        await client.close()
        await fs.stop()


async def test_coroutine_recv_sees_event_from_same_tcp_read() -> None:
    """PARK and ANSWER in one write: a coroutine started on PARK must get ANSWER."""
    got = []

    class App:
        @coroutine("CHANNEL_PARK")
        async def on_park(self, sess):
            ev = await sess.recv("CHANNEL_ANSWER")
            got.append(ev.name)
            ev = await sess.recv("CHANNEL_HANGUP")
            got.append(ev["Hangup-Cause"])

    uuid = "7f1f3af1-969e-48b8-aa18-59f8993aa90d"
    burst = b"".join([
        channel_event("CHANNEL_CREATE", uuid, **{"Call-Direction": "inbound"}),
        channel_event("CHANNEL_PARK", uuid),
        channel_event("CHANNEL_ANSWER", uuid),
        channel_event("CHANNEL_HANGUP", uuid, **{"Hangup-Cause": "NORMAL_CLEARING"}),
        channel_event("CHANNEL_DESTROY", uuid),
    ])

    reply = serialize.api_response("+OK\n") + burst
    async with FakeESL(responder=answer_verb("api", reply)) as fs:
        conn = await connect(fs.address)
        listener = EventListener(conn)
        from switchlab.apps import load_app
        load_app(listener, App, "default")
        await conn.api("go")
        for _ in range(50):
            if len(got) == 2:
                break
            await asyncio.sleep(0.01)
        assert got == ["CHANNEL_ANSWER", "NORMAL_CLEARING"]
        assert listener.sessions == {}
        await conn.close()


async def test_release_after_hangup_complete_without_destroy() -> None:
    """On a myevents socket CHANNEL_DESTROY never comes (myevents_filter.raw)."""
    fs, conn, listener, seen = await replay("myevents_filter", release_after_hangup=0.05)
    try:
        assert "CHANNEL_DESTROY" not in {e.name for e in seen}
        assert len(listener.sessions) == 1
        sess = next(iter(listener.sessions.values()))
        assert sess.hungup and not sess.destroyed
        await asyncio.sleep(0.2)
        assert listener.sessions == {} and listener.calls == {}
        assert sess.destroyed and sess.lost
    finally:
        await conn.close()
        await fs.stop()


async def test_sessions_without_destroy_are_released_each_after_its_own_delay() -> None:
    """One timer serves every session waiting for CHANNEL_DESTROY after its
    CHANNEL_HANGUP_COMPLETE: each is released release_after_hangup after its own
    hangup, and one whose CHANNEL_DESTROY comes is released then and not again."""
    hangup = {"Hangup-Cause": "NORMAL_CLEARING"}
    batches = {
        "api one": channel_event("CHANNEL_CREATE", "a") + channel_event(
            "CHANNEL_HANGUP_COMPLETE", "a", **hangup) + channel_event("CHANNEL_CREATE", "c"),
        "api two": channel_event("CHANNEL_CREATE", "b") + channel_event(
            "CHANNEL_HANGUP_COMPLETE", "b", **hangup) + channel_event(
            "CHANNEL_HANGUP_COMPLETE", "c", **hangup) + channel_event("CHANNEL_DESTROY", "c"),
    }

    def responder(cmd, peer) -> bool:
        data = batches.get(cmd.line)
        if data is None:
            return False
        peer.send(data + serialize.api_response("+OK\n"))
        return True

    async with FakeESL(responder=responder) as fs:
        conn = await connect(fs.address)
        listener = EventListener(conn, release_after_hangup=0.6)
        ended = []
        listener.add_call_end_handler(lambda call: ended.append(call.uuid))
        await conn.api("one")
        await asyncio.sleep(0.3)
        await conn.api("two")
        assert ended == ["c"] and set(listener.sessions) == {"a", "b"}
        await asyncio.sleep(0.45)  # a: 0.75 s after its hangup; b: 0.45 s
        assert ended == ["c", "a"] and set(listener.sessions) == {"b"}
        await asyncio.sleep(0.5)
        assert ended == ["c", "a", "b"] and listener.sessions == {} and listener.calls == {}
        assert listener._unreleased == {} and listener._release_timer is None
        await conn.close()


async def test_close_fails_waiters_and_releases() -> None:
    fs, client = await fake_client()
    try:
        client.load_app(Recorder(), app_id="rec")
        job = client.originate("Fred@127.0.0.1:5080", app_id="rec")
        await asyncio.wait_for(job, 5)
        sess = client.listener.sessions[job.sess_uuid]
        waiter = sess.recv("CHANNEL_BRIDGE")
        await fs.stop()  # the server vanishes
        with pytest.raises(SessionGone, match="connection closed"):
            await asyncio.wait_for(waiter, 5)
        assert client.listener.sessions == {} and client.listener.calls == {}
        assert sess.lost
    finally:
        await client.close()


async def test_reconnect_reconciles_sessions_lost_in_the_gap() -> None:
    switch = FakeSwitch()
    async with FakeESL(responder=switch) as fs:
        client = Client(fs.address, reconnect=True)
        await client.connect()
        client.load_app(Recorder(), app_id="rec")
        kept = client.originate("Fred@127.0.0.1:5080", app_id="rec")
        lost = client.originate("Fred@127.0.0.1:5080", app_id="rec")
        await asyncio.wait_for(asyncio.gather(kept, lost), 5)
        await fs.stop()
        # while we are away, one call ends on the server
        for leg in [u for u, peer in list(switch.peer_of.items()) if u == lost.sess_uuid]:
            switch.legs.pop(switch.peer_of[leg], None)
            switch.legs.pop(leg, None)
        await asyncio.sleep(0.1)
        await fs.restart()
        await client.connection.wait_connected(5)
        for _ in range(100):
            if lost.sess_uuid not in client.listener.sessions:
                break
            await asyncio.sleep(0.02)
        assert lost.sess_uuid not in client.listener.sessions
        assert kept.sess_uuid in client.listener.sessions
        assert len(client.listener.gaps) == 1
        await client.close()


async def test_two_thousand_calls_leave_nothing_behind() -> None:
    """Registries do not grow with the number of calls made."""
    fs, client = await fake_client()
    refs: list[weakref.ref] = []
    try:
        client.load_app(Recorder(), app_id="rec")
        listener = client.listener
        listener.add_handler("CHANNEL_CREATE", lambda ev: refs.append(
            weakref.ref(listener.sessions[ev.uuid])))
        for batch in range(20):
            jobs = [client.originate(f"answer{batch}-{i}@127.0.0.1:5080", app_id="rec")
                    for i in range(100)]
            await asyncio.wait_for(asyncio.gather(*jobs), 20)
            for job in jobs:
                listener.sessions[job.sess_uuid].hangup()
            for _ in range(200):
                if not listener.sessions:
                    break
                await asyncio.sleep(0.01)
            assert listener.sessions == {} and listener.calls == {}
        assert listener.total_calls == 2000 and listener.total_sessions == 4000
        assert client.connection.pending_jobs == 0 and listener._tasks == set()
        del jobs, job
        # the last call's cycle breaker (``loop.call_soon`` at its release) may still be
        # queued, holding that call: let the loop run what is queued, then collect
        await asyncio.sleep(0)
        gc.collect()
        assert len(refs) == 4000 and sum(r() is not None for r in refs) == 0
    finally:
        await client.close()
        await fs.stop()


async def test_session_helpers_send_exact_commands() -> None:
    fs, client = await fake_client()
    try:
        client.load_app(Recorder(), app_id="rec")
        job = client.originate("answer@127.0.0.1:5080", app_id="rec")
        await asyncio.wait_for(job, 5)
        sess = client.listener.sessions[job.sess_uuid]
        u = sess.uuid
        # applications complete on their CHANNEL_EXECUTE_COMPLETE (this peer sends none)
        sess.playback("tone_stream://%(251,0,1004);loops=-1")
        sess.echo()
        await sess.setvar("foo", "bar")
        await sess.send_dtmf("1234", 100)
        sess.bridge("Fred@127.0.0.1:5080", proxy="127.0.0.1:5070", vars={"a": 1})
        await sess.sched_hangup(2)
        assert await sess.answer() is None  # already answered
        lines = [(c.line, {k: v for k, v in c.headers.items() if k != "Event-UUID"})
                 for c in fs.peers[0].commands]
        assert all(c.headers.get("Event-UUID") for c in fs.peers[0].commands
                   if c.line.startswith("sendmsg"))  # each execute names its completion
        assert (f"sendmsg {u}", {"call-command": "execute", "execute-app-name": "playback",
                                 "execute-app-arg": "tone_stream://%(251,0,1004);loops=-1"}) in lines
        assert (f"sendmsg {u}", {"call-command": "execute", "execute-app-name": "echo"}) in lines
        assert (f"api uuid_setvar {u} foo bar", {}) in lines
        assert (f"api uuid_send_dtmf {u} 1234@100", {}) in lines
        assert (f"api sched_hangup +2 {u} NORMAL_CLEARING", {}) in lines
        assert (f"sendmsg {u}", {"call-command": "execute", "execute-app-name": "bridge",
                                 "execute-app-arg": "{a=1}sofia/external/Fred@127.0.0.1:5080;"
                                                    "fs_path=sip:127.0.0.1:5070"}) in lines
        with pytest.raises(ValueError):
            sess.setvar("foo", "bar\napi hupall")
        with pytest.raises(ValueError):
            sess.hangup("NORMAL CLEARING")
        with pytest.raises(ValueError):
            sess.bridge("x@h &bridge(y)")
        sess.vars["done"] = True
        assert await asyncio.wait_for(sess.wait_var("done"), 1) is True
        assert re.match(r"<Session [0-9a-f-]+ outbound answered>", repr(sess))
    finally:
        await client.close()
        await fs.stop()


async def test_ended_calls_free_without_the_cycle_collector_but_held_legs_keep_links() -> None:
    """Call <-> leg cycles are cut when nothing else can reach them (so a load
    test does not feed the garbage collector's long pauses), and kept when a
    user holds a leg."""
    fs, client = await fake_client()
    try:
        listener = client.listener
        jobs = [client.originate(f"answer-{i}@127.0.0.1:5080") for i in range(50)]
        await asyncio.wait_for(asyncio.gather(*jobs), 20)
        kept = listener.sessions[jobs[0].sess_uuid]  # a user holds this caller leg
        refs = [weakref.ref(listener.sessions[j.sess_uuid]) for j in jobs[1:]]
        for job in jobs:
            listener.sessions[job.sess_uuid].hangup()
        for _ in range(300):
            if not listener.sessions:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the cycle check runs on the next loop turn
        del job
        gc.disable()
        try:
            # freed by reference counting alone: no collection ran
            assert sum(r() is not None for r in refs) == 0
        finally:
            gc.enable()
        assert kept.call is not None and kept.call.last is not None
        assert kept.call.last.destroyed and kept.call.first is kept
    finally:
        await client.close()
        await fs.stop()
