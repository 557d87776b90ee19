"""``EventListener``: consumes a connection's events, keeps sessions and calls,
dispatches to handlers and apps, and releases what is finished.

Bookkeeping per event (the hot path) reads only ``Event-Name``,
``Unique-ID`` and ``Event-Date-Timestamp``; a new channel also reads the
tracking and app-id variables once. A session is released at
``CHANNEL_DESTROY`` (or ``release_after_hangup`` seconds after
``CHANNEL_HANGUP_COMPLETE`` when no destroy comes, as on a ``myevents``
socket; at ``CHANNEL_HANGUP_COMPLETE`` itself when ``destroy_comes`` is off
because nobody subscribed to ``CHANNEL_DESTROY``), a call once all its legs
are released, a job when its ``BACKGROUND_JOB`` arrives: registries do not
grow with the calls made.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from ..esl import Connection, ConnectionState, Gap, Job
from ..errors import APIError, CommandFailed, Disconnected, SessionGone
from ..wire.events import Event
from .call import Call, break_unobserved_cycle
from .handover import HandOver
from .names import (
    APP_ID_VAR,
    CALL_TRACKING_VAR,
    FULL_EVENTS as _FULL,
    NO_CREATE_EVENTS as _NO_CREATE,
    header_of,
)
from .registry import CoroFn, Registry, SessionFn
from .session import Session

log = logging.getLogger(__name__)

class EventListener(Registry, HandOver):
    """Keeps ``sessions`` (uuid → :class:`Session`) and ``calls`` (call id →
    :class:`Call`) for one connection and dispatches events.

    Dispatch order for each event: state update, then session handlers
    (``add_session_handler(name, fn)``: ``fn(event, session, name, stamp)``),
    then low-level handlers (``add_handler(name, fn)``: ``fn(event)``, name ``"*"`` for every event),
    then the app callbacks (``fn(session)``) and coroutines (``async
    fn(session)``) registered for the session's app id (``"default"`` for
    sessions without one). ``BACKGROUND_JOB`` callbacks get the :class:`Job`.
    """

    def __init__(self, conn: Connection, *, call_tracking_var: str = CALL_TRACKING_VAR,
                 app_id_var: str = APP_ID_VAR, release_after_hangup: float = 30.0) -> None:
        self.conn = conn
        self.call_tracking_header = header_of(call_tracking_var)
        self.app_id_header = header_of(app_id_var)
        self.release_after_hangup = release_after_hangup
        #: whether ``CHANNEL_DESTROY`` events come (the client subscribed to them,
        #: or to ``ALL``); when not, a session is released right after its
        #: ``CHANNEL_HANGUP_COMPLETE`` was dispatched (FreeSWITCH sends nothing
        #: after it for the channel but ``CHANNEL_DESTROY`` and a ``CS_DESTROY``
        #: ``CHANNEL_STATE``, which never make a session again)
        self.destroy_comes = True
        self.sessions: dict[str, Session] = {}
        self.calls: dict[str, Call] = {}
        self._init_registry()
        self._init_hand_over()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._released: set[str] = set()
        self._released_order: deque[str] = deque()
        # sessions whose CHANNEL_HANGUP_COMPLETE came: uuid -> (release deadline, session),
        # one timer for all of them (CHANNEL_DESTROY normally comes first)
        self._unreleased: dict[str, tuple[float, Session]] = {}
        self._release_timer: asyncio.TimerHandle | None = None
        # statistics
        self.total_sessions = 0
        self.total_calls = 0
        self.answered_sessions = 0
        self.hangup_causes: Counter[str] = Counter()
        self.failed_jobs: Counter[str] = Counter()
        self.gaps: list[Gap] = []
        #: ``fn(call_id, column, value)`` for every app outcome a call records (Recorder)
        self.column_sinks: list[Callable[[str, str, Any], Any]] = []
        conn.add_named_event_handler(self._handle)
        conn.add_handler("job", self._job_done)
        conn.add_handler("disconnect", self._on_disconnect)
        conn.add_handler("reconnect", self._on_reconnect)

    @property
    def host(self) -> str:
        return self.conn.host

    def __repr__(self) -> str:
        return (f"<EventListener {self.conn.address} sessions={len(self.sessions)} "
                f"calls={len(self.calls)}>")

    def count_sessions(self) -> int:
        return len(self.sessions)

    def count_calls(self) -> int:
        return len(self.calls)

    def count_jobs(self) -> int:
        return self.conn.pending_jobs

    def count_failed(self) -> int:
        """Sessions that hung up with a cause other than NORMAL_CLEARING."""
        return sum(self.hangup_causes.values()) - self.hangup_causes["NORMAL_CLEARING"]

    # -- the hot path -----------------------------------------------------------
    def handle_event(self, ev: Event) -> None:
        """Update state from ``ev`` and dispatch it (connected to the connection).

        One step per event: the name, uuid and stamp are read once, the session's
        history and timeline are written here (no call into the session unless a
        waiter or an app is pending on it), and the session handlers get what was
        read (:meth:`add_session_handler`)."""
        self._handle(ev, ev.get("Event-Name", ""))

    def _handle(self, ev: Event, name: str) -> None:
        """:meth:`handle_event` of ``ev`` named ``name`` (its Event-Name, read by the
        connection: the listener is its named event handler)."""
        get = ev.get  # ev.subclass and ev.uuid without their property frames
        if name == "CUSTOM":
            name = get("Event-Subclass") or name
        uuid = get("Unique-ID")
        sess = None
        ts = None
        if uuid is not None:
            sess = self.sessions.get(uuid)
            if self._owner is not None and (sess is None or not sess._tied):  # handed over?
                owned = self._owned.get(uuid) if sess is None else None
                if owned is None and name in _FULL and name not in _NO_CREATE:
                    owned = self._offer(ev, uuid, self._owner, sess)
                if owned is not None:
                    self._owned_event(owned, ev, uuid, name)
                    if self._handlers:
                        self._plain_handlers(ev, name)
                    return
            if sess is None and name not in _NO_CREATE and uuid not in self._released:
                sess = self._new_session(ev, uuid, name)
            if sess is not None:
                ts = ev.timestamp_us  # the session's update
                sess.events.appendleft(ev)
                sess.timeline.append((name, ts, ev.received))
                if sess._waiters or sess._apps:
                    sess._wake(ev, name)
                if not sess._tied:
                    self._tie(sess, ev, name)
                if name == "CHANNEL_ANSWER":
                    if not sess.answered:
                        sess.answered = True
                        self.answered_sessions += 1
                elif name == "CHANNEL_HANGUP":
                    if not sess.hungup:
                        self._hungup(sess, ev)
                elif name == "CHANNEL_HANGUP_COMPLETE":
                    if not sess.hungup:
                        self._hungup(sess, ev)
                    if self.release_after_hangup is not None and self.destroy_comes \
                            and uuid not in self._unreleased:
                        self._release_later(sess)
        taps = self._session_handlers.get(name)
        if taps:
            for tap in taps:
                try:
                    tap(ev, sess, name, ts)
                except Exception:
                    self._failed(tap, ev)
        if self._handlers:
            self._plain_handlers(ev, name)
        if sess is not None:
            if self._callbacks or self._coroutines:  # any app registered at all
                app_id = sess.app_id or "default"
                cbs = self._callbacks.get(app_id)
                if cbs:
                    for fn in cbs.get(name, ()):
                        self._call(fn, sess)
                cos = self._coroutines.get(app_id)
                if cos:
                    for fn in cos.get(name, ()):
                        self._spawn(fn, sess)
            if name == "CHANNEL_DESTROY" or (name == "CHANNEL_HANGUP_COMPLETE"
                                             and not self.destroy_comes):
                self._release(sess)

    def _plain_handlers(self, ev: Event, name: str) -> None:
        """The :meth:`add_handler` handlers of ``ev``, named ``name``."""
        handlers = self._handlers
        for fn in handlers.get(name, ()):
            self._call(fn, ev)
        for fn in handlers.get("*", ()):
            self._call(fn, ev)

    def _new_session(self, ev: Event, uuid: str, name: str) -> Session | None:
        """A session for a channel first seen in ``ev``; None for an event of a
        channel being destroyed. A CHANNEL_CREATE always starts one (FreeSWITCH
        fires it for a new channel: its state is not read)."""
        if name != "CHANNEL_CREATE" and ev.get("Channel-State") == "CS_DESTROY":
            return None
        sess = Session(uuid, self.conn, ev.host)
        sess.created = ev.received
        self.sessions[uuid] = sess
        self.total_sessions += 1
        return sess

    def _call(self, fn: Callable[[Any], Any], arg: Any) -> None:
        try:
            fn(arg)
        except Exception:
            self._failed(fn, arg)

    def _failed(self, fn: Callable[..., Any], arg: Any) -> None:
        log.exception("%s: %r failed on %r", self.conn.address, fn, arg)

    def _spawn(self, fn: CoroFn, model: Any) -> None:
        try:
            coro = fn(model)
        except Exception:
            log.exception("%s: coroutine %r failed to start on %r", self.conn.address, fn, model)
            return
        task = self.conn.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        self.conn.request_yield()  # let it run up to its first await before the next event

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, (SessionGone, Disconnected)):
            log.debug("%s: app coroutine ended: %s", self.conn.address, exc)
        elif exc is not None:
            log.error("%s: app coroutine %r failed", self.conn.address, task, exc_info=exc)

    def _tie(self, sess: Session, ev: Event, name: str) -> None:
        call_id = ev.get(self.call_tracking_header)
        if call_id is None and name not in _FULL:
            return  # this event has no variables; try again with the next one
        sess._tied = True
        sess.call_id = call_id
        app_id = ev.get(self.app_id_header)
        sess.app_id = app_id
        key = call_id or sess.uuid
        call = self.calls.get(key)
        if call is None:
            call = Call(key)
            call.sinks = self.column_sinks
            self.calls[key] = call
            self.total_calls += 1
        call.append(sess)
        if call.app_id is None:
            call.app_id = app_id
        sess.call = call

    def _hungup(self, sess: Session, ev: Event) -> None:
        if not sess.hungup:
            sess.hungup = True
            cause = ev.get("Hangup-Cause")
            sess.hangup_cause = cause
            self.hangup_causes[cause or "UNKNOWN"] += 1

    def _release_later(self, sess: Session) -> None:
        """Release ``sess`` ``release_after_hangup`` seconds from now unless its
        CHANNEL_DESTROY comes first."""
        loop = self.conn.loop
        delay = self.release_after_hangup or 0.0
        self._unreleased[sess.uuid] = (loop.time() + delay, sess)
        if self._release_timer is None:
            self._release_timer = loop.call_later(delay, self._release_overdue)

    def _release_overdue(self) -> None:
        self._release_timer = None
        loop = self.conn.loop
        now = loop.time()
        pending = self._unreleased
        for uuid in [u for u, (deadline, _) in pending.items() if deadline <= now]:
            _, sess = pending.pop(uuid)
            self._release(sess, "no CHANNEL_DESTROY after CHANNEL_HANGUP_COMPLETE")
        if self._unreleased:
            first = min(deadline for deadline, _ in self._unreleased.values())
            self._release_timer = loop.call_at(first, self._release_overdue)

    def _release(self, sess: Session, reason: str | None = None) -> None:
        uuid = sess.uuid
        if self.sessions.get(uuid) is not sess:
            return
        del self.sessions[uuid]
        if self._unreleased:
            self._unreleased.pop(uuid, None)
        if reason:
            sess.lost = True
        sess._end(reason)
        self._released_add(uuid)
        call = sess.call
        if call is None:
            return
        for leg in call.legs:
            if not leg.destroyed:
                return
        # every leg is released: so is the call
        if self.calls.get(call.uuid) is call:
            del self.calls[call.uuid]
        call._end()
        for fn in self._call_end:
            self._call(fn, call)
        self.conn.loop.call_soon(break_unobserved_cycle, call, object())

    def _released_add(self, uuid: str) -> None:
        """Remember the last 4096 released channels (their trailing events make no session)."""
        released, order = self._released, self._released_order
        released.add(uuid)
        order.append(uuid)
        if len(order) > 4096:
            released.discard(order.popleft())

    # -- jobs and connection state ----------------------------------------------
    def _job_done(self, job: Job) -> None:
        if job.sess_uuid:
            sess = self.sessions.get(job.sess_uuid)
            if sess is not None:
                sess.job = job
        if job.call_id:
            call = self.calls.get(job.call_id)
            if call is not None:
                call.job = job
        if job.failed:
            self.failed_jobs[job.cause or "UNKNOWN"] += 1
        app_id = job.app_id or "default"
        cbs = self._callbacks.get(app_id)
        if cbs:
            for fn in cbs.get("BACKGROUND_JOB", ()):
                self._call(fn, job)
        cos = self._coroutines.get(app_id)
        if cos:
            for fn in cos.get("BACKGROUND_JOB", ()):
                self._spawn(fn, job)

    def _on_disconnect(self, reason: str, reconnecting: bool) -> None:
        if reconnecting:
            return  # reconciled after the reconnect
        self._drop_owned()
        for sess in list(self.sessions.values()):
            self._release(sess, f"connection closed: {reason}")

    def _on_reconnect(self, gap: Gap) -> None:
        self.gaps.append(gap)
        if self.sessions or self._owned:
            task = self.conn.loop.create_task(self.reconcile(f"ended during a connection gap of "
                                                             f"{gap.duration:.3f} s"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def reconcile(self, reason: str = "not on the server any more") -> int:
        """Release sessions FreeSWITCH no longer has (after a gap); returns how many."""
        try:
            body = await self.conn.api("show channels as json")
            rows = json.loads(body).get("rows") or []
        except (APIError, CommandFailed, Disconnected, ValueError) as exc:
            log.warning("%s: could not reconcile sessions after a gap: %s", self.conn.address, exc)
            return 0
        alive = {row.get("uuid") for row in rows}
        gone = [s for s in self.sessions.values() if s.uuid not in alive]
        for sess in gone:
            self._release(sess, reason)
        return len(gone) + self._drop_owned(alive)

    def close(self) -> None:
        """Detach from the connection and release everything."""
        try:
            self.conn.remove_named_event_handler(self._handle)
            self.conn.remove_handler("job", self._job_done)
            self.conn.remove_handler("disconnect", self._on_disconnect)
            self.conn.remove_handler("reconnect", self._on_reconnect)
        except ValueError:
            pass
        reason = "listener closed" if self.conn.state is not ConnectionState.CLOSED else \
            f"connection closed: {self.conn.closed_reason}"
        for sess in list(self.sessions.values()):
            self._release(sess, reason)
        self._drop_owned()
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        for task in list(self._tasks):
            task.cancel()
