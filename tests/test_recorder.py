"""The :class:`~switchlab.originator.Recorder`: one row per call attempt.

Over real sockets (a client of the emulator, or of real FreeSWITCH with
``--fshost``; the DUT cases need the emulator), and from hand-built event
sequences for the cases a live switch makes hard to hit on purpose.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pandas as pd
import pytest

from switchlab import Client, connect
from switchlab.errors import Disconnected
from switchlab.esl import ESLProtocol
from switchlab.measure import CallRecord, Run
from switchlab.originator import LOAD_TEST_EVENTS, RECORDED_EVENTS, Recorder
from switchlab.state import EventListener
from switchlab.sim import DUTModel, Emulator
from switchlab.wire import Event, serialize

from fakes import FakeESL, FakeJob, answer_verb

PROXY = "127.0.0.1:5070"  # the emulator's DUT address


async def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        await asyncio.sleep(0.01)


def launch(recorder: Recorder, client: Client, dest: str, **record: Any) -> CallRecord:
    """What the originator does for each attempt."""
    job = client.originate(dest)
    rec = CallRecord(job.call_id or job.uuid, host=client.address, dest=dest, **record)
    recorder.launched(rec, job)
    return rec


@asynccontextmanager
async def recording(address: str, password: str = "ClueCon", **recorder_kwargs: Any
                    ) -> AsyncIterator[tuple[Client, Recorder, Run]]:
    client = Client(address, password=password, events=LOAD_TEST_EVENTS)
    await client.connect()
    run = Run({"test": "recorder"})
    recorder = Recorder(run, **recorder_kwargs)
    recorder.attach(client.listener)
    try:
        yield client, recorder, run
    finally:
        recorder.detach()
        await client.close()
        run.close()


# -- over real sockets -------------------------------------------------------------------
async def test_live_answered_calls_become_one_row_each(fshost: str, fspassword: str) -> None:
    N = 6
    answered: list[str] = []
    done: list[tuple[str, dict[str, Any]]] = []
    async with recording(fshost, fspassword) as (client, recorder, run):
        recorder.on_done = lambda rec, row: done.append((rec.call_id, row))

        def hang_up(rec: CallRecord) -> None:  # as the originator does after the hold time
            answered.append(rec.call_id)
            recorder.hung_up_locally(rec.call_id)
            client.listener.sessions[rec.call_id].hangup()

        recorder.on_answer = hang_up
        host, port = await client.sip_address("external")
        records = [launch(recorder, client, f"answer-rec{i}@{host}:{port}", run_id=run.run_id,
                          target_rate=5.0) for i in range(N)]
        assert recorder.offered == N and recorder.active == N
        await wait_for(lambda: recorder.finished == N)
    assert sorted(answered) == sorted(r.call_id for r in records)
    assert recorder.active == 0 and recorder.answered == N and recorder.failed == 0
    assert sorted(cid for cid, _row in done) == sorted(r.call_id for r in records)
    df = run.df
    assert len(df) == N and set(df.call_id) == {r.call_id for r in records}
    assert not df.failed.any()
    assert (df.hangup_cause == "NORMAL_CLEARING").all()
    assert (df.hangup_side == "local").all()
    assert (df.host == client.address).all() and (df.target_rate == 5.0).all()
    for col in ("caller_create", "caller_answer", "caller_hangup", "callee_create",
                "callee_answer", "callee_hangup", "job_done"):
        assert df[col].notna().all(), col
    assert (df.caller_create <= df.caller_answer).all()
    assert (df.callee_create >= df.caller_create).all()
    assert (df.setup_latency >= 0).all() and (df.originate_latency > 0).all()


def dut(**kwargs: Any) -> DUTModel:
    base: dict[str, Any] = dict(seed=5, trying_ms=1, ringing_ms=5, ring_ms=10, failure_ms=5,
                                answer_probability=1.0, failures={}, knee_ms=0)
    return DUTModel(**{**base, **kwargs})


async def test_dut_refusals_and_far_end_hangups_are_recorded(emulator: object) -> None:
    """The DUT is the far end: it refuses some calls (486) and hangs the
    others up itself after 30 ms."""
    N = 12
    model = dut(failures={486: 0.5}, call_duration_ms=30)
    async with Emulator(hosts=1, port=0, dut=model, tick_us=1000) as fs:
        async with recording("{}:{}".format(*fs.esl_addresses[0])) as (client, recorder, run):
            for _ in range(N):
                launch(recorder, client, f"switchlab@{PROXY}")
            await wait_for(lambda: recorder.finished == N)
    df = run.df
    assert len(df) == N and recorder.active == 0
    busy = df[df.failed]
    ok = df[~df.failed]
    assert len(busy) == recorder.failed and len(ok) == recorder.answered
    assert 0 < len(busy) < N
    assert (busy.hangup_cause == "USER_BUSY").all() and (busy.sip_code == 486).all()
    assert busy.caller_answer.isna().all()
    assert (ok.hangup_cause == "NORMAL_CLEARING").all()
    assert (ok.hangup_side == "callee").all()  # the far end sent the BYE
    assert (ok.duration >= 0.025).all()


async def test_calls_in_progress_when_the_host_goes_away_fail_as_disconnected(
        emulator: object) -> None:
    fs = Emulator(hosts=1, port=0, dut=dut(ring_ms=60_000), tick_us=1000)
    await fs.start()
    try:
        async with recording("{}:{}".format(*fs.esl_addresses[0])) as (client, recorder, run):
            recs = [launch(recorder, client, f"switchlab@{PROXY}") for _ in range(3)]
            await wait_for(lambda: all(client.listener.sessions.get(r.call_id) for r in recs))
            await fs.aclose()
            await wait_for(lambda: recorder.finished == 3)
    finally:
        await fs.aclose()
    df = run.df
    assert len(df) == 3 and df.failed.all()
    assert (df.hangup_cause == "HOST_DISCONNECTED").all()
    assert (df.hangup_side == "local").all()


# -- hand-built event sequences -------------------------------------------------------------
HEADER = "variable_sip_h_X-switchlab_call_id"


class FakeListener:
    """What the recorder needs of an EventListener: the tracking header, session
    handlers, the column sinks (app outcomes). It keeps no sessions: each event
    goes to the handlers with no session and no stamp (the recorder reads the
    tracking header, uuid and stamp of each event: the plain path)."""

    call_tracking_header = HEADER

    def __init__(self) -> None:
        self.handlers: dict[str, list[Callable[..., None]]] = {}
        self.column_sinks: list[Callable[[str, str, object], None]] = []

    def add_session_handler(self, name: str, fn: Callable[..., None]) -> None:
        self.handlers.setdefault(name, []).append(fn)

    def remove_session_handler(self, name: str, fn: Callable[..., None]) -> None:
        self.handlers[name].remove(fn)

    def dispatch(self, ev: Event) -> None:
        for fn in list(self.handlers.get(ev.name, ())):
            fn(ev, None, ev.name, None)


TS = 1_795_691_766_000_000


def event(name: str, uuid: str, call_id: str | None, ms: int = 0, **headers: str) -> Event:
    hdrs = {"Event-Name": name, "Unique-ID": uuid, "Event-Date-Timestamp": str(TS + ms * 1000),
            **headers}
    if call_id is not None:
        hdrs[HEADER] = call_id
    ev = Event.from_headers(hdrs)
    ev.received = time.monotonic()
    return ev


def answered_call(call_id: str, callee: str, hangup_by: str = "caller") -> list[Event]:
    """Both legs of an answered call that ``hangup_by``'s FreeSWITCH ends."""
    caller_disp, callee_disp = (("send_bye", "recv_bye") if hangup_by == "caller"
                                else ("recv_bye", "send_bye"))
    return [
        event("CHANNEL_CREATE", call_id, call_id, 0),
        event("CHANNEL_CREATE", callee, call_id, 10),
        event("CHANNEL_PROGRESS", call_id, call_id, 40),
        event("CHANNEL_ANSWER", callee, call_id, 190),
        event("CHANNEL_ANSWER", call_id, call_id, 200),
        event("CHANNEL_HANGUP", call_id, call_id, 1200, **{
            "Hangup-Cause": "NORMAL_CLEARING", "variable_sip_hangup_disposition": caller_disp}),
        event("CHANNEL_HANGUP", callee, call_id, 1210, **{
            "Hangup-Cause": "NORMAL_CLEARING", "variable_sip_hangup_disposition": callee_disp}),
        event("CHANNEL_HANGUP_COMPLETE", call_id, call_id, 1220, **{
            "Hangup-Cause": "NORMAL_CLEARING", "variable_sip_hangup_disposition": caller_disp}),
        event("CHANNEL_HANGUP_COMPLETE", callee, call_id, 1230, **{
            "Hangup-Cause": "NORMAL_CLEARING", "variable_sip_hangup_disposition": callee_disp}),
    ]


def attached(**kwargs: Any) -> tuple[Recorder, FakeListener, Run]:
    run = Run()
    recorder = Recorder(run, **kwargs)
    listener = FakeListener()
    recorder.attach(listener)  # type: ignore[arg-type]
    return recorder, listener, run


def launched(recorder: Recorder, call_id: str = "c1", **record: Any) -> FakeJob:
    """A hand-built attempt: its record is open, its job is pending."""
    job = FakeJob()
    recorder.launched(CallRecord(call_id, **record), job)  # type: ignore[arg-type]
    return job


def test_attach_listens_to_the_recorded_events_and_detach_stops() -> None:
    recorder, listener, _run = attached()
    assert recorder.is_attached(listener)  # type: ignore[arg-type]
    assert sorted(listener.handlers) == sorted(RECORDED_EVENTS)
    assert set(RECORDED_EVENTS) <= set(LOAD_TEST_EVENTS)
    # not CHANNEL_DESTROY: the listener releases sessions at CHANNEL_HANGUP_COMPLETE then
    assert set(LOAD_TEST_EVENTS) == {*RECORDED_EVENTS, "BACKGROUND_JOB"}
    recorder.detach()
    assert not recorder.is_attached(listener)  # type: ignore[arg-type]
    assert all(not fns for fns in listener.handlers.values())


async def test_an_answered_call_is_written_once_when_both_legs_completed() -> None:
    answers: list[str] = []
    done: list[dict[str, Any]] = []
    recorder, listener, run = attached(on_answer=lambda rec: answers.append(rec.call_id),
                                       on_done=lambda rec, row: done.append(row))
    job = launched(recorder, host="fs1", app="tone")
    assert recorder.active == 1 and recorder.offered == 1
    events = answered_call("c1", "c1-b")
    for ev in events[:5]:
        listener.dispatch(ev)
    job.ok("c1")
    await asyncio.sleep(0)
    assert answers == ["c1"] and recorder.answered_open == 1
    for ev in events[5:-1]:
        listener.dispatch(ev)
    assert done == [] and recorder.active == 1  # the callee leg has not completed yet
    listener.dispatch(events[-1])
    assert len(done) == 1 and recorder.active == 0 and recorder.answered_open == 0
    listener.dispatch(events[-1])  # late duplicates change nothing
    assert len(run.df) == 1 and recorder.finished == 1 and recorder.answered == 1
    row = run.df.iloc[0]
    assert row.call_id == "c1" and row.host == "fs1" and row.app == "tone"
    assert not row.failed and row.hangup_cause == "NORMAL_CLEARING"
    assert row.hangup_side == "caller" and row.hangup_disposition == "send_bye"
    assert row.setup_latency == pytest.approx(0.2)
    assert row.invite_latency == pytest.approx(0.01)
    assert row.post_dial_delay == pytest.approx(0.04)
    assert row.answer_latency == pytest.approx(0.01)
    assert row.duration == pytest.approx(1.0)


async def test_events_of_other_calls_and_untracked_channels_are_ignored() -> None:
    recorder, listener, run = attached()
    launched(recorder)
    listener.dispatch(event("CHANNEL_CREATE", "x", None))
    listener.dispatch(event("CHANNEL_CREATE", "y", "not-launched"))
    for ev in answered_call("c2", "c2-b"):
        listener.dispatch(ev)
    assert recorder.active == 1 and len(run) == 0


async def test_far_end_hangup_is_the_callee_side() -> None:
    recorder, listener, run = attached()
    job = launched(recorder)
    job.ok("c1")
    for ev in answered_call("c1", "c1-b", hangup_by="callee"):
        listener.dispatch(ev)
    await asyncio.sleep(0)
    assert run.df.hangup_side.tolist() == ["callee"]


async def test_a_local_hangup_is_the_local_side() -> None:
    recorder, listener, run = attached()
    job = launched(recorder)
    job.ok("c1")
    await asyncio.sleep(0)
    events = answered_call("c1", "c1-b")
    for ev in events[:5]:
        listener.dispatch(ev)
    recorder.hung_up_locally("c1")
    recorder.hung_up_locally("never-launched")
    for ev in events[5:]:
        listener.dispatch(ev)
    assert run.df.hangup_side.tolist() == ["local"]


async def test_a_refused_job_with_no_channel_is_written_at_once() -> None:
    recorder, _listener, run = attached()
    job = launched(recorder)
    job.err("USER_BUSY")
    await asyncio.sleep(0)
    assert recorder.active == 0 and recorder.failed == 1
    row = run.df.iloc[0]
    assert row.failed and row.hangup_cause == "USER_BUSY" and row.originate_latency >= 0


async def test_the_caller_legs_cause_wins_over_the_jobs() -> None:
    recorder, listener, run = attached()
    job = launched(recorder)
    listener.dispatch(event("CHANNEL_CREATE", "c1", "c1"))
    listener.dispatch(event("CHANNEL_HANGUP", "c1", "c1", 30, **{
        "Hangup-Cause": "CALL_REJECTED", "variable_sip_term_status": "603"}))
    job.err("CALL_REJECTED")
    await asyncio.sleep(0)
    assert recorder.active == 1  # the caller leg has not completed its hangup
    listener.dispatch(event("CHANNEL_HANGUP_COMPLETE", "c1", "c1", 40, **{
        "Hangup-Cause": "CALL_REJECTED", "variable_sip_term_status": "603"}))
    row = run.df.iloc[0]
    assert row.failed and row.hangup_cause == "CALL_REJECTED" and row.sip_code == 603


@pytest.mark.parametrize("outcome, cause", [
    (lambda fut: fut.cancel(), "HOST_DISCONNECTED"),
    (lambda fut: fut.set_exception(Disconnected("gone")), "HOST_DISCONNECTED"),
    (lambda fut: fut.set_exception(asyncio.TimeoutError()), "TIMEOUTERROR"),
])
async def test_a_job_lost_locally_is_a_named_local_failure(outcome: Callable[[Any], Any],
                                                          cause: str) -> None:
    recorder, _listener, run = attached()
    job = launched(recorder)
    outcome(job.future)
    await asyncio.sleep(0)
    row = run.df.iloc[0]
    assert row.failed and row.hangup_cause == cause and row.hangup_side == "local"


async def test_fail_host_writes_only_that_hosts_open_calls() -> None:
    recorder, _listener, run = attached()
    for call_id, host in (("a1", "fs-a"), ("a2", "fs-a"), ("b1", "fs-b")):
        launched(recorder, call_id, host=host)
    assert recorder.fail_host("fs-a") == 2
    assert list(recorder.open) == ["b1"]
    assert sorted(run.df.call_id) == ["a1", "a2"]
    assert (run.df.hangup_cause == "HOST_DISCONNECTED").all()
    assert recorder.fail_host("fs-a", "OTHER") == 0


async def test_sweep_writes_a_call_whose_callee_leg_never_completed_after_grace() -> None:
    recorder, listener, run = attached(grace=5.0)
    job = launched(recorder)
    job.ok("c1")
    await asyncio.sleep(0)
    for ev in answered_call("c1", "c1-b")[:-1]:  # the callee's HANGUP_COMPLETE is lost
        listener.dispatch(ev)
    assert recorder.active == 1
    assert recorder.sweep(time.monotonic() + 1) == 0 and recorder.active == 1
    assert recorder.sweep(time.monotonic() + 6) == 1 and recorder.active == 0
    row = run.df.iloc[0]
    assert not row.failed and pd.notna(row.callee_answer) and pd.notna(row.callee_hangup)


async def test_flush_writes_every_open_attempt() -> None:
    recorder, listener, run = attached()
    launched(recorder, "c1")
    launched(recorder, "c2")
    listener.dispatch(event("CHANNEL_CREATE", "c1", "c1"))
    assert recorder.flush() == 2 and recorder.active == 0
    assert sorted(run.df.call_id) == ["c1", "c2"] and run.df.failed.all()
    assert recorder.flush() == 0


async def test_through_a_listener_the_rows_are_those_of_the_events() -> None:
    """Behind a real EventListener the recorder takes each event's call id, name and
    stamp from the listener's sessions (nothing looked up again): the rows are exactly
    those the events give when read one by one (FakeListener), for every hangup side,
    and a channel without the tracking variable stays out."""
    calls = [("c1", "c1-b", "caller"), ("c2", "c2-b", "callee")]
    by_hand: list[dict[str, Any]] = []
    frames = []
    for call_id, callee, side in calls:
        recorder, listener, run = attached()
        launched(recorder, call_id, launch=1.0, launch_monotonic=0.0).ok(call_id)
        await asyncio.sleep(0)
        for ev in answered_call(call_id, callee, hangup_by=side):
            listener.dispatch(ev)
            frames.append(serialize.event_plain(list(ev.headers.items())))
        by_hand.extend(run.df.to_dict("records"))
    for name in ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"):  # not tracked
        frames.insert(1, serialize.event_plain([("Event-Name", name), ("Unique-ID", "x"),
                                                ("Event-Date-Timestamp", "1")]))
    fs = FakeESL(responder=answer_verb("api", b"".join(frames) + serialize.api_response("+OK\n")))
    await fs.__aenter__()
    conn = await connect(fs.address)
    try:
        listener_ = EventListener(conn)
        run = Run()
        recorder = Recorder(run)
        recorder.attach(listener_)
        for call_id, _callee, _side in calls:
            launched(recorder, call_id, launch=1.0, launch_monotonic=0.0).ok(call_id)
        await asyncio.sleep(0)
        await conn.api("replay")
        assert recorder.active == 0 and recorder.finished == 2
        assert listener_.total_sessions == 5  # the untracked channel too
        live = run.df.to_dict("records")
    finally:
        await conn.close()
        await fs.stop()
    columns = ["call_id", "caller_create", "caller_progress", "caller_answer", "caller_hangup",
               "callee_create", "callee_answer", "callee_hangup", "hangup_cause", "sip_code",
               "hangup_side", "hangup_disposition", "failed", "setup_latency", "duration"]
    got = [{c: r[c] for c in columns} for r in live]
    want = [{c: r[c] for c in columns} for r in by_hand]
    assert got == want and [r["hangup_side"] for r in got] == ["caller", "callee"]


async def test_a_real_jobs_watcher_gives_the_rows_of_its_future() -> None:
    """The recorder watches a real :class:`~switchlab.esl.Job` (told in the protocol's
    step, no done callback); the rows are those of a job seen through its future
    (FakeJob): answered, refused, lost with the connection."""
    loop = asyncio.get_running_loop()

    columns = ["call_id", "caller_create", "caller_answer", "hangup_cause", "sip_code",
               "hangup_side", "failed", "setup_latency"]
    got: dict[bool, pd.DataFrame] = {}
    for real in (False, True):
        recorder, listener, run = attached()
        p = ESLProtocol(loop.create_future, write=lambda data: None, host="fs1")
        jobs: dict[str, Any] = {}
        for call_id in ("ok", "busy", "lost"):
            jobs[call_id] = p.new_job(f"j-{call_id}", "originate") if real else FakeJob()
            recorder.launched(CallRecord(call_id, launch=1.0, launch_monotonic=0.0),
                              jobs[call_id])
        for ev in answered_call("ok", "ok-b"):
            listener.dispatch(ev)
        for call_id, body in (("ok", "+OK ok\n"), ("busy", "-ERR USER_BUSY\n")):
            if real:
                p.receive_data(serialize.event_plain(
                    [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", f"j-{call_id}")],
                    body.encode()))
                if call_id == "ok":  # told at once, in the protocol's step
                    assert recorder.finished == 1
            else:
                (jobs[call_id].ok if call_id == "ok" else jobs[call_id].err)(body[5:-1])
        if real:
            p.connection_lost("gone")
        else:
            jobs["lost"].future.set_exception(Disconnected("gone"))
        await asyncio.sleep(0)
        assert recorder.active == 0 and recorder.finished == 3
        got[real] = run.df[columns]
    pd.testing.assert_frame_equal(got[True], got[False])
    assert list(got[True].hangup_cause) == ["NORMAL_CLEARING", "USER_BUSY", "HOST_DISCONNECTED"]
