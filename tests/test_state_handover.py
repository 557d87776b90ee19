"""Channels handed over to the recorder (:mod:`switchlab.state.handover`): the
listener keeps no session or call for the channels of app-less attempts, and
the rows, counters and app dispatch are those of the listener that keeps them.

The same event bytes go over a real socket (a scripted ESL server) to a
listener with the hand-over and to one without; the live cases run an
:class:`~switchlab.originator.Originator` on the emulator (or ``--fshost``).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from switchlab import Client
from switchlab.esl import connect
from switchlab.measure import CallRecord, Run
from switchlab.originator import Originator, Recorder, loopback_destinations
from switchlab.state import EventListener
from switchlab.wire import serialize

from fakes import FakeESL, FakeJob, Peer
from switchlab.wire.parser import Command

TRACK = "variable_sip_h_X-switchlab_call_id"
APP = "variable_sip_h_X-switchlab_app"
TS = 1_795_691_766_000_000


def frame(name: str, uuid: str, call_id: str | None, ms: int, app: str | None = "originator",
          **headers: str) -> bytes:
    hdrs = [("Event-Name", name), ("Unique-ID", uuid), ("Event-Date-Timestamp", str(TS + ms * 1000))]
    if call_id is not None:
        hdrs.append((TRACK, call_id))
    if app is not None:
        hdrs.append((APP, app))
    hdrs.extend(headers.items())
    return serialize.event_plain(hdrs)


def hangup(cause: str, disposition: str, **more: str) -> dict[str, str]:
    return {"Hangup-Cause": cause, "variable_sip_hangup_disposition": disposition, **more}


#: (call id, app id): two answered calls (each side hanging up), one refused
#: with 486, one call of an app with a callback (it keeps its sessions)
CALLS = [("c1", "originator"), ("c2", "originator"), ("c3", "originator"), ("c4", "tone")]


def setup_frames() -> bytes:
    """Every channel created and answered (c3 refused), and an untracked channel."""
    out = [frame("CHANNEL_CREATE", "x", None, 0, app=None)]
    for call_id, app in CALLS:
        out.append(frame("CHANNEL_CREATE", call_id, call_id, 0, app))
        if call_id == "c3":
            continue
        out += [frame("CHANNEL_CREATE", f"{call_id}-b", call_id, 10, app),
                frame("CHANNEL_PROGRESS", call_id, call_id, 40, app),
                frame("CHANNEL_ANSWER", f"{call_id}-b", call_id, 190, app),
                frame("CHANNEL_ANSWER", call_id, call_id, 200, app)]
    return b"".join(out)


def teardown_frames() -> bytes:
    out = [frame("CHANNEL_HANGUP_COMPLETE", "x", None, 5, app=None,
                 **hangup("NORMAL_CLEARING", "send_bye"))]
    busy = hangup("USER_BUSY", "recv_refuse", variable_sip_term_status="486")
    out += [frame("CHANNEL_HANGUP", "c3", "c3", 60, **busy),
            frame("CHANNEL_HANGUP_COMPLETE", "c3", "c3", 61, **busy)]
    for call_id, app in CALLS:
        if call_id == "c3":
            continue
        mine, theirs = ("send_bye", "recv_bye") if call_id != "c2" else ("recv_bye", "send_bye")
        for uuid, disp, ms in ((call_id, mine, 1200), (f"{call_id}-b", theirs, 1210)):
            for name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"):
                out.append(frame(name, uuid, call_id, ms, app, **hangup("NORMAL_CLEARING", disp)))
                ms += 20
    return b"".join(out)


def scripted(parts: dict[str, bytes], api: dict[str, str] | None = None) -> FakeESL:
    """A server sending ``parts[arg]`` for ``api replay <arg>``."""
    def responder(cmd: Command, peer: Peer) -> bool:
        if cmd.verb == "api" and cmd.arg.startswith("replay "):
            peer.send(parts[cmd.arg.split()[1]] + serialize.api_response("+OK\n"))
            return True
        return False
    return FakeESL(responder=responder, api=api)


async def listening(fs: FakeESL, hand_over: bool, *, extra_tap: Callable[..., Any] | None = None
                    ) -> tuple[Any, EventListener, Recorder, list[str]]:
    conn = await connect(fs.address)
    listener = EventListener(conn)
    listener.destroy_comes = False  # as Client sets it for the load test's events
    if extra_tap is not None:
        listener.add_session_handler("CHANNEL_ANSWER", extra_tap)
    recorder = Recorder(Run(), hand_over=hand_over)
    recorder.attach(listener)
    fired: list[str] = []
    listener.add_callback("CHANNEL_ANSWER", "tone", lambda sess: fired.append(sess.uuid))
    for call_id, app in CALLS:
        rec = CallRecord(call_id, app=app, launch=1.0, launch_monotonic=0.0)
        job = FakeJob()
        recorder.launched(rec, job)  # type: ignore[arg-type]
        job.ok(call_id)
    await asyncio.sleep(0)
    return conn, listener, recorder, fired


#: columns of local receive times: they differ between two connections
LOCAL = ("rx_", "originate_latency", "job_done", "run_id")


def rows(recorder: Recorder) -> pd.DataFrame:
    df = recorder.run.df.sort_values("call_id").reset_index(drop=True)
    return df[[c for c in df.columns if not c.startswith(LOCAL)]]


async def test_rows_counters_and_apps_are_those_of_kept_sessions() -> None:
    got: dict[bool, dict[str, Any]] = {}
    for hand_over in (True, False):
        async with scripted({"a": setup_frames(), "b": teardown_frames()}) as fs:
            conn, listener, recorder, fired = await listening(fs, hand_over)
            try:
                await conn.api("replay a")
                mid = {"sessions": sorted(listener.sessions), "owned": listener.owned_channels,
                       "calls": sorted(listener.calls)}
                await conn.api("replay b")
                got[hand_over] = {
                    "rows": rows(recorder), "fired": fired, "mid": mid,
                    "total_sessions": listener.total_sessions,
                    "answered_sessions": listener.answered_sessions,
                    "hangup_causes": dict(listener.hangup_causes),
                    "total_calls": listener.total_calls, "sessions": len(listener.sessions),
                    "owned": listener.owned_channels, "open": recorder.active}
            finally:
                await conn.close()
    on, off = got[True], got[False]
    assert len(on["rows"]) == 4 and len(on["rows"].columns) >= 25
    pd.testing.assert_frame_equal(on["rows"], off["rows"])
    by_id = {r["call_id"]: r for r in on["rows"].to_dict("records")}
    assert by_id["c3"]["failed"] and by_id["c3"]["hangup_cause"] == "USER_BUSY"
    assert by_id["c1"]["hangup_side"] == "caller" and by_id["c2"]["hangup_side"] == "callee"
    # the app's channels kept their sessions and its callback ran on both
    assert on["fired"] == off["fired"] == ["c4-b", "c4"]
    # while the calls were up: only the app's call and the untracked channel had sessions
    assert on["mid"] == {"sessions": ["c4", "c4-b", "x"], "owned": 5, "calls": ["c4", "x"]}
    assert off["mid"]["owned"] == 0 and len(off["mid"]["sessions"]) == 8
    for key in ("total_sessions", "answered_sessions", "hangup_causes"):
        assert on[key] == off[key], key
    assert on["total_sessions"] == 8 and on["answered_sessions"] == 6
    assert on["hangup_causes"] == {"NORMAL_CLEARING": 7, "USER_BUSY": 1}
    assert (on["total_calls"], off["total_calls"]) == (2, 5)
    assert on["sessions"] == on["owned"] == on["open"] == 0 == off["sessions"]


async def test_with_no_app_registered_every_tracked_channel_is_handed_over() -> None:
    """The app id matters only when some app is registered (``_offer`` reads it only
    then): with none, the "tone" call's channels are handed over too, and the rows
    are those of the listener that keeps sessions. Registering an app later puts
    the rule back for the channels created after it."""
    late = frame("CHANNEL_CREATE", "c5", "c5", 0, "tone") + \
        frame("CHANNEL_CREATE", "c6", "c6", 0, "originator")
    got: dict[bool, pd.DataFrame] = {}
    for hand_over in (True, False):
        async with scripted({"a": setup_frames(), "b": teardown_frames(), "c": late}) as fs:
            conn = await connect(fs.address)
            listener = EventListener(conn)
            listener.destroy_comes = False
            recorder = Recorder(Run(), hand_over=hand_over)
            recorder.attach(listener)
            for call_id, app in [*CALLS, ("c5", "tone"), ("c6", "originator")]:
                job = FakeJob()
                recorder.launched(CallRecord(call_id, app=app, launch=1.0,  # type: ignore[arg-type]
                                             launch_monotonic=0.0), job)
                job.ok(call_id)
            await asyncio.sleep(0)
            try:
                await conn.api("replay a")
                if hand_over:  # all but the untracked channel "x"
                    assert listener.owned_channels == 7 and sorted(listener.sessions) == ["x"]
                await conn.api("replay b")
                listener.add_callback("CHANNEL_ANSWER", "tone", lambda sess: None)
                await conn.api("replay c")
                if hand_over:  # c5 is the app's now: a session; c6 is still handed over
                    assert sorted(listener.sessions) == ["c5"] and listener.owned_channels == 1
            finally:
                await conn.close()
            got[hand_over] = rows(recorder)
    assert len(got[True]) == 4
    pd.testing.assert_frame_equal(got[True], got[False])


async def test_another_session_handler_keeps_the_sessions() -> None:
    seen: list[str] = []
    async with scripted({"a": setup_frames(), "b": teardown_frames()}) as fs:
        conn, listener, recorder, _fired = await listening(
            fs, True, extra_tap=lambda ev, sess, name, ts: seen.append(sess.uuid))
        try:
            await conn.api("replay a")
            assert listener.owned_channels == 0 and len(listener.sessions) == 8
            await conn.api("replay b")
        finally:
            await conn.close()
    assert sorted(seen) == sorted(["c1", "c1-b", "c2", "c2-b", "c4", "c4-b"])
    assert recorder.finished == 4 and recorder.failed == 1


async def test_two_recorders_on_one_listener_both_get_their_rows() -> None:
    """Each recorder's session handler is a stranger to the other's hand-over: the
    listener keeps sessions and both see every event of their calls."""
    async with scripted({"a": setup_frames(), "b": teardown_frames()}) as fs:
        conn = await connect(fs.address)
        try:
            listener = EventListener(conn)
            listener.destroy_comes = False
            recorders = [Recorder(Run(), hand_over=True) for _ in range(2)]
            for recorder, calls in zip(recorders, (CALLS[:2], CALLS[2:])):
                recorder.attach(listener)
                for call_id, app in calls:
                    job = FakeJob()
                    recorder.launched(CallRecord(call_id, app=app), job)  # type: ignore[arg-type]
                    job.ok(call_id)
            await asyncio.sleep(0)
            await conn.api("replay a")
            assert listener.owned_channels == 0 and len(listener.sessions) == 8
            await conn.api("replay b")
        finally:
            await conn.close()
    assert [sorted(r.run.df.call_id) for r in recorders] == [["c1", "c2"], ["c3", "c4"]]
    assert [r.failed for r in recorders] == [0, 1]


async def test_detaching_lets_go_of_the_channels_handed_over() -> None:
    """After ``detach`` the recorder gets nothing more, and the channels it had
    taken do not come back as sessions mid-call."""
    async with scripted({"a": setup_frames(), "b": teardown_frames()}) as fs:
        conn, listener, recorder, _fired = await listening(fs, True)
        try:
            await conn.api("replay a")
            assert listener.owned_channels == 5
            recorder.detach()
            assert listener.owned_channels == 0
            await conn.api("replay b")
        finally:
            await conn.close()
    assert not listener.sessions and recorder.finished == 0 and recorder.active == 4
    assert listener.total_sessions == 8  # no channel counted twice


async def test_a_trailing_event_of_a_handed_over_channel_makes_no_session() -> None:
    late = frame("CHANNEL_HANGUP_COMPLETE", "c1", "c1", 2000) + \
        frame("CHANNEL_ANSWER", "c1-b", "c1", 2001)  # after its HANGUP_COMPLETE
    async with scripted({"a": setup_frames(), "b": teardown_frames(), "c": late}) as fs:
        conn, listener, recorder, _fired = await listening(fs, True)
        try:
            for part in "abc":
                await conn.api(f"replay {part}")
        finally:
            await conn.close()
    assert not listener.sessions and listener.owned_channels == 0
    assert recorder.finished == 4 and listener.answered_sessions == 6


async def test_a_closed_connection_or_a_reconcile_lets_go_of_owned_channels() -> None:
    alive = json.dumps({"row_count": 1, "rows": [{"uuid": "c1"}, {"uuid": "c4"}]})
    async with scripted({"a": setup_frames()}, api={"show channels as json": alive}) as fs:
        conn, listener, _recorder, _fired = await listening(fs, True)
        try:
            await conn.api("replay a")
            assert listener.owned_channels == 5
            # c1-b, c2, c2-b, c3 are gone from the server; so are c4-b and x (sessions)
            assert await listener.reconcile() == 6
            assert listener.owned_channels == 1 and sorted(listener.sessions) == ["c4"]
        finally:
            await conn.close()
        await asyncio.sleep(0.05)
    assert listener.owned_channels == 0 and not listener.sessions


async def test_an_originator_keeps_no_session_for_its_calls(fshost: str, fspassword: str) -> None:
    """Live (emulator, or FreeSWITCH with --fshost): while the calls are up the
    listener holds none of them; ``hand_over = False`` keeps them, as before."""
    for hand_over in (True, False):
        client = Client(fshost, password=fspassword)
        dest = await loopback_destinations([client], user="answer")
        orig = Originator([client], dest=dest, rate=20, limit=10, duration=0.5, max_offered=10)
        orig.recorder.hand_over = hand_over
        peak = {"owned": 0, "sessions": 0}

        def sample() -> None:
            listener = client.listener
            assert listener is not None
            peak["owned"] = max(peak["owned"], listener.owned_channels)
            peak["sessions"] = max(peak["sessions"], len(listener.sessions))

        orig.start()
        while orig.recorder.finished < 10:
            sample()
            await asyncio.sleep(0.01)
        assert await orig.wait(30)
        run = await orig.close()
        df = run.df
        assert len(df) == 10 and not df.failed.any(), df.hangup_cause.tolist()
        assert df.callee_answer.notna().all() and df.caller_hangup.notna().all()
        if hand_over:
            assert peak["sessions"] == 0 and peak["owned"] >= 2
        else:
            assert peak["owned"] == 0 and peak["sessions"] >= 2


@pytest.mark.parametrize("hand_over", [True, False])
def test_recorder_hand_over_is_off_unless_asked(hand_over: bool) -> None:
    assert Recorder(Run()).hand_over is False
    assert Recorder(Run(), hand_over=hand_over).hand_over is hand_over
    orig = Originator(["127.0.0.1:9"], dest="x@127.0.0.1:5080")
    assert orig.recorder.hand_over is True
