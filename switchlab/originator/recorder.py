"""The recorder: ties every host's channel events and bgapi results to one
:class:`~switchlab.measure.CallRecord` per call attempt and hands finished
rows to the :class:`~switchlab.measure.Run`.

Both legs carry the tracking variable set at originate
(``variable_sip_h_X-switchlab_call_id``), so a callee leg on another host of
the pool (a cluster behind a proxy) is tied to its caller as well.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ..esl import Job
from ..errors import APIError, Disconnected
from ..measure import CallRecord, Run
from ..measure.leg import RECORDED_EVENT_NAMES, Leg
from ..state.dispatch import EventListener
from ..state.handover import OwnedFn
from ..state.registry import SessionFn
from ..state.session import Session
from ..wire.events import Event

log = logging.getLogger(__name__)

#: channel events a row is built from (the measure layer's list)
RECORDED_EVENTS = RECORDED_EVENT_NAMES
#: everything a load test subscribes to (apps add their own): the recorded
#: events and the jobs. Not CHANNEL_DESTROY: without it the listener releases a
#: session at its CHANNEL_HANGUP_COMPLETE, and FreeSWITCH renders and the
#: originator reads two events fewer per call (an app that wants it subscribes it)
LOAD_TEST_EVENTS = (*RECORDED_EVENTS, "BACKGROUND_JOB")
_RECORDED = frozenset(RECORDED_EVENTS)


class Recorder:
    """Collects open call attempts and writes each one's row when it is over.

    ``on_answer(record)`` is called when a caller leg answers (the originator
    uses it to schedule the hangup); ``on_done(record, row)`` after a row was
    written. ``grace`` seconds after its caller leg completed, an attempt whose
    callee leg never finished (lost on another host, or on a host that went
    away) is written with what is known.

    ``hand_over`` (set before :meth:`attach`): the listener keeps no session or
    call for the channels of attempts without an app, it hands them to the
    recorder (:mod:`switchlab.state.handover`; the :class:`Originator` does
    this). Default False: it keeps them, as for any channel.
    """

    def __init__(self, run: Run, *, grace: float = 10.0,
                 on_answer: Callable[[CallRecord], Any] | None = None,
                 on_done: Callable[[CallRecord, dict[str, Any]], Any] | None = None,
                 hand_over: bool = False) -> None:
        self.run = run
        self.hand_over = hand_over
        self.grace = grace
        self.on_answer = on_answer
        self.on_done = on_done
        self.open: dict[str, CallRecord] = {}
        self._caller_done: dict[str, float] = {}
        self._listeners: list[tuple[EventListener, SessionFn]] = []
        self.answered_open = 0
        self.offered = 0
        self.answered = 0
        self.failed = 0
        self.finished = 0

    # -- wiring -------------------------------------------------------------
    def attach(self, listener: EventListener) -> None:
        """Receive the recorded events of one host's listener."""
        header = listener.call_tracking_header
        open_ = self.open
        on_leg = self._on_leg

        def on_event(ev: Event, sess: Session | None, name: str, ts: int | None) -> None:
            # A session handler: the listener read the event's name, uuid and stamp,
            # and the tracking variable once per channel (Session.call_id):
            # nothing is looked up in the event again.
            if sess is not None:
                call_id = sess.call_id
                rec = open_.get(call_id) if call_id is not None else None
                if rec is None:
                    return
                uuid = sess.uuid
                leg = rec.leg_of(uuid)
                if name == "CHANNEL_HANGUP_COMPLETE" or name == "CHANNEL_ANSWER":
                    on_leg(rec, leg, ev, name, uuid, ts, ev.received or None)
                else:  # what _on_leg does with the other events
                    leg.add(ev, name, ts, ev.received or None)
                return
            call_id = ev.get(header)  # a channel the listener does not keep
            if call_id is None:
                return
            rec = open_.get(call_id)
            if rec is not None:
                uuid = ev.get("Unique-ID")
                on_leg(rec, rec.leg_of(uuid), ev, name, uuid, ev.timestamp_us, ev.received or None)

        for name in RECORDED_EVENTS:
            listener.add_session_handler(name, on_event)
        listener.column_sinks.append(self.set_column)
        if self.hand_over:  # app-less calls: no session or call kept for their channels
            listener.set_call_owner(self._own, (on_event,))
        self._listeners.append((listener, on_event))

    def _own(self, call_id: str, uuid: str) -> OwnedFn | None:
        """The handler of a channel of attempt ``call_id`` (open, launched here) that
        the listener hands over, or None (not one of this recorder's attempts)."""
        rec = self.open.get(call_id)
        if rec is None:
            return None
        return partial(self._owned_event, rec, rec.leg_of(uuid), uuid)

    def _owned_event(self, rec: CallRecord, leg: Leg, uuid: str, ev: Event, name: str,
                     ts: int | None) -> None:
        """An event of a handed-over channel, recorded while its attempt is open."""
        if name in _RECORDED and self.open.get(rec.call_id) is rec:
            self._on_leg(rec, leg, ev, name, uuid, ts, ev.received or None)

    def is_attached(self, listener: EventListener) -> bool:
        return any(l is listener for l, _ in self._listeners)

    def detach(self) -> None:
        for listener, fn in self._listeners:
            for name in RECORDED_EVENTS:
                listener.remove_session_handler(name, fn)
            if self.set_column in listener.column_sinks:
                listener.column_sinks.remove(self.set_column)
            if self.hand_over:
                listener.set_call_owner(None)
        self._listeners.clear()

    # -- input --------------------------------------------------------------
    def launched(self, record: CallRecord, job: Job) -> None:
        """Track a new attempt; its job's result is recorded when it arrives."""
        self.open[record.call_id] = record
        self.offered += 1
        if isinstance(job, Job):  # told in the protocol's step when its BACKGROUND_JOB comes
            job.watch(self._job_settled, record)
        else:  # anything else with a future
            job.future.add_done_callback(lambda fut: self._on_job(record, job, fut))

    def _job_settled(self, job: Job, rec: CallRecord) -> None:
        self._on_job(rec, job, job.future)

    def _on_job(self, rec: CallRecord, job: Job, fut: asyncio.Future[str]) -> None:
        if fut.cancelled() or isinstance(fut.exception(), Disconnected):
            rec.fail_locally("HOST_DISCONNECTED")
        elif isinstance(fut.exception(), (APIError, type(None))):
            rec.job_result(job.body or "", job.done_at or time.monotonic())
        else:  # a local error (e.g. a timeout): keep it, named
            rec.fail_locally(type(fut.exception()).__name__.upper())
        self._maybe_done(rec)

    def _on_leg(self, rec: CallRecord, leg: Leg, ev: Event, name: str, uuid: str | None,
                ts: int | None, rx: float | None) -> None:
        """A recorded event of ``rec``'s leg ``leg`` (stamped ``ts``, received at ``rx``)."""
        if name == "CHANNEL_HANGUP_COMPLETE":
            leg.add(ev, name, ts, rx)
            if uuid == rec.call_id:
                self._caller_done[rec.call_id] = time.monotonic()
            if rec.complete:
                self._finish(rec)
        elif name == "CHANNEL_ANSWER":
            caller = rec.caller
            if caller.answer is not None:  # rec.answered already
                leg.add(ev, name, ts, rx)
            elif leg.add(ev, name, ts, rx) and caller.answer is not None:
                self.answered_open += 1
                if self.on_answer is not None:
                    self.on_answer(rec)
        else:
            # Only a leg's CHANNEL_HANGUP_COMPLETE (or the job's result, or a local
            # failure) can make a record complete: the other events set stamps, and a
            # CHANNEL_CREATE only adds a leg to wait for (CallRecord.complete).
            leg.add(ev, name, ts, rx)

    def set_column(self, call_id: str, name: str, value: Any) -> None:
        """An app's outcome for call ``call_id`` (``call.set_column``): into its row."""
        rec = self.open.get(call_id)
        if rec is not None:
            rec.set_column(name, value)

    def hung_up_locally(self, call_id: str) -> None:
        rec = self.open.get(call_id)
        if rec is not None:
            rec.hung_up_locally()

    def fail_host(self, host: str, cause: str = "HOST_DISCONNECTED") -> int:
        """Write every open attempt of ``host`` as failed locally; returns how many."""
        gone = [r for r in self.open.values() if r.host == host]
        for rec in gone:
            rec.fail_locally(cause)
            self._maybe_done(rec)
        return len(gone)

    # -- output -------------------------------------------------------------
    def _maybe_done(self, rec: CallRecord) -> None:
        if rec.complete:
            self._finish(rec)

    def _finish(self, rec: CallRecord) -> None:
        if self.open.pop(rec.call_id, None) is None:
            return
        self._caller_done.pop(rec.call_id, None)
        if rec.answered:
            self.answered_open -= 1
        row = self.run.add_record(rec)
        self.finished += 1
        if row["failed"]:
            self.failed += 1
        else:
            self.answered += 1
        if self.on_done is not None:
            self.on_done(rec, row)

    def sweep(self, now: float | None = None) -> int:
        """Write attempts whose caller leg completed ``grace`` seconds ago."""
        now = time.monotonic() if now is None else now
        late = [cid for cid, t in self._caller_done.items() if now - t >= self.grace]
        for cid in late:
            rec = self.open.get(cid)
            if rec is not None:
                self._finish(rec)
            else:
                self._caller_done.pop(cid, None)
        return len(late)

    def flush(self) -> int:
        """Write every attempt still open (at the end of a run); returns how many."""
        pending = list(self.open.values())
        for rec in pending:
            self._finish(rec)
        return len(pending)

    @property
    def active(self) -> int:
        """Attempts in progress (launched, row not written yet)."""
        return len(self.open)
