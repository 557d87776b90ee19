"""``Session``: one FreeSWITCH channel as seen through its events.

A session keeps, for every event it received, the event name, FreeSWITCH's
``Event-Date-Timestamp`` (µs since the epoch, from a cached clock that
advances in timer ticks and is not monotonic in wire order) and the local
``time.monotonic()`` receive time, in wire order: :attr:`Session.timeline`.
Never sort by the FreeSWITCH stamps to decide what happened first.

Control helpers send at once and return an awaitable, so they work both from
plain ``@callback`` functions (fire and forget) and from coroutines::

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess):
        await sess.answer()                 # resolves with the CHANNEL_ANSWER event
        await sess.playback("tone_stream://%(251,0,1004)")
        ev = await sess.recv("CHANNEL_EXECUTE_COMPLETE")
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..esl import Connection
from ..esl.job import silence as _silence
from ..errors import SessionGone
from ..wire.events import Event
from ..wire.validate import check_word
from .callflow import CallFlow
from .media import Media

if TYPE_CHECKING:
    from ..esl import Job
    from .call import Call

_UNSET = object()


class Vars(dict[str, Any]):
    """A session's (or call's) scratch space for apps; ``wait_var`` waits on it.

    Set values with ``vars[name] = value`` (that is what wakes waiters).
    """

    # no __init__: made for every session and call, most never used; ``_waiters``
    # is set by the first ``_wait``
    __slots__ = ("_waiters",)

    _waiters: dict[str, list[asyncio.Future[Any]]]

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        try:
            waiters = self._waiters
        except AttributeError:
            return
        if waiters and value:
            for fut in waiters.pop(key, ()):
                if not fut.done():
                    fut.set_result(value)

    def _wait(self, key: str, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        fut = loop.create_future()
        if self.get(key):
            fut.set_result(self[key])
            return fut
        try:
            waiters = self._waiters
        except AttributeError:
            waiters = self._waiters = {}
        waiters.setdefault(key, []).append(fut)
        return fut


class Session(CallFlow, Media):
    """One channel (call leg). Created and updated by the ``EventListener``.

    Attributes: ``uuid``, ``host``, ``answered``, ``hungup``, ``destroyed``,
    ``hangup_cause``, ``call`` (its :class:`~switchlab.state.Call`), ``call_id`` (the
    tracking variable's value, None without one), ``app_id``,
    ``job`` (the originate :class:`~switchlab.connection.Job`, when known),
    ``vars`` (scratch space for apps), ``timeline`` (``(event name,
    FreeSWITCH µs stamp, local monotonic receive time)`` per event, wire
    order), ``events`` (the few most recent events, newest first).
    ``sess["Header"]`` reads the newest event that has that header.
    """

    #: how many recent events a session keeps for ``sess[...]`` lookups
    history = 6

    __slots__ = ("uuid", "conn", "host", "events", "timeline", "answered", "hungup", "destroyed",
                 "lost", "hangup_cause", "call", "call_id", "app_id", "job", "vars", "created", "_direction",
                 "_waiters", "_tied", "_apps", "__weakref__")

    def __init__(self, uuid: str, conn: Connection, host: str | None = None) -> None:
        self.uuid = uuid
        self.conn = conn
        self.host = host or conn.host
        self.events: deque[Event] = deque(maxlen=self.history)
        self.timeline: list[tuple[str, int | None, float]] = []
        self.answered = False
        self.hungup = False
        self.destroyed = False
        self.lost = False
        self.hangup_cause: str | None = None
        self.call: Call | None = None
        self.call_id: str | None = None
        self.app_id: str | None = None
        self.job: Job | None = None
        self.vars = Vars()
        self.created = 0.0
        self._direction: str | None = None
        self._waiters: dict[str, list[asyncio.Future[Event]]] | None = None
        self._tied = False
        self._apps: dict[str, list[Any]] | None = None  # app uuid -> [future, loops left]

    # -- fed by the listener ----------------------------------------------------
    # The listener appends each event to ``events`` and its ``(name, stamp,
    # received)`` to ``timeline`` itself (one step per event), and calls
    # ``_wake`` only when a waiter or an app is pending.
    def _wake(self, ev: Event, name: str) -> None:
        """``ev`` (named ``name``) came: finish the app it completes, wake its waiters."""
        if self._apps and name == "CHANNEL_EXECUTE_COMPLETE":
            self._app_complete(ev)
        waiters = self._waiters
        if waiters:
            futs = waiters.pop(name, None)
            if futs:
                for fut in futs:
                    if not fut.done():
                        fut.set_result(ev)
                self.conn.request_yield()

    def _end(self, reason: str | None = None) -> None:
        self.destroyed = True
        if self._apps:
            self._fail_apps(reason or "the channel was destroyed")
        waiters, self._waiters = self._waiters, None
        if waiters:
            why = reason or "the channel was destroyed"
            for name, futs in waiters.items():
                for fut in futs:
                    if not fut.done():
                        fut.set_exception(SessionGone(
                            f"session {self.uuid} ended before {name}: {why}", self.uuid))
                        _silence(fut)
            self.conn.request_yield()

    # -- reading ----------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The value of header ``key`` in the newest event that has it."""
        for ev in self.events:
            value = ev.get(key)
            if value is not None:
                return value
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key, _UNSET)
        if value is _UNSET:
            raise KeyError(f"{key!r} is in none of the last {len(self.events)} events of session {self.uuid}")
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _UNSET) is not _UNSET

    @property
    def last_event(self) -> Event | None:
        return self.events[0] if self.events else None

    @property
    def direction(self) -> str | None:
        """``inbound`` or ``outbound`` (FreeSWITCH's ``Call-Direction``)."""
        if self._direction is None:
            self._direction = self.get("Call-Direction")
        return self._direction

    def is_inbound(self) -> bool:
        return self.direction == "inbound"

    def is_outbound(self) -> bool:
        return self.direction == "outbound"

    @property
    def state(self) -> str | None:
        """``Channel-State`` of the newest event (``CS_EXECUTE``, ...)."""
        return self.get("Channel-State")

    @property
    def variables(self) -> dict[str, str]:
        """Channel variables (``variable_*`` headers, prefix removed) of the newest event."""
        ev = self.last_event
        if ev is None:
            return {}
        return {k[9:]: v for k, v in ev.items() if k.startswith("variable_")}

    def first(self, name: str) -> tuple[int | None, float] | None:
        """``(FreeSWITCH µs, local monotonic)`` of the first ``name`` event, or None."""
        for ev_name, fs_us, rx in self.timeline:
            if ev_name == name:
                return fs_us, rx
        return None

    @property
    def times(self) -> dict[str, tuple[int | None, float]]:
        """First occurrence of each event name: ``{name: (FreeSWITCH µs, local monotonic)}``."""
        out: dict[str, tuple[int | None, float]] = {}
        for name, fs_us, rx in self.timeline:
            out.setdefault(name, (fs_us, rx))
        return out

    def done(self) -> bool:
        """True once the channel is destroyed (or lost)."""
        return self.destroyed

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __repr__(self) -> str:
        flags = [f for f, on in (("answered", self.answered), ("hungup", self.hungup),
                                 ("destroyed", self.destroyed)) if on]
        return f"<Session {self.uuid} {self.direction or '?'} {' '.join(flags) or self.state or ''}>"

    # -- waiting ----------------------------------------------------------------
    def recv(self, name: str, timeout: float | None = None) -> asyncio.Future[Event]:
        """An awaitable for the next ``name`` event of this session.

        Fails with :class:`~switchlab.errors.SessionGone` if the channel ends
        first, with ``TimeoutError`` after ``timeout`` seconds.
        """
        loop = self.conn.loop
        fut: asyncio.Future[Event] = loop.create_future()
        if self.destroyed:
            fut.set_exception(SessionGone(f"session {self.uuid} has already ended", self.uuid))
            _silence(fut)
            return fut
        if self._waiters is None:
            self._waiters = {}
        self._waiters.setdefault(name, []).append(fut)
        if timeout is not None:
            loop.call_later(timeout, _expire, fut, f"{name} for session {self.uuid}", timeout)
        return fut

    async def wait_var(self, name: str, timeout: float | None = None) -> Any:
        """Wait until an app sets ``sess.vars[name]`` to something true; return it."""
        return await asyncio.wait_for(self.vars._wait(name, self.conn.loop), timeout)

    # -- control (send now, await optionally) -----------------------------------
    def _fire(self, fut: asyncio.Future[Any]) -> asyncio.Future[Any]:
        fut.add_done_callback(_silence)
        return fut

    def _then(self, sent: asyncio.Future[Any], event: str, done_already: bool
              ) -> asyncio.Future[Event | None]:
        """A future for ``event`` that fails if the command that should cause it fails."""
        if done_already:
            fut: asyncio.Future[Event | None] = self.conn.loop.create_future()
            fut.set_result(None)
            sent.add_done_callback(_silence)
            return fut
        waiter: asyncio.Future[Event | None] = self.recv(event)  # type: ignore[assignment]

        def chain(f: asyncio.Future[Any]) -> None:
            exc = None if f.cancelled() else f.exception()
            if exc is not None and not waiter.done():
                waiter.set_exception(exc)
        sent.add_done_callback(chain)
        return self._fire(waiter)

    def api(self, cmd: str) -> asyncio.Future[str]:
        """``api <cmd>`` on this session's connection (fire and forget allowed)."""
        return self._fire(self.conn.api(cmd))

    def playback(self, path: str, *, loops: int = 1, event_lock: bool = False
                 ) -> asyncio.Future[Event]:
        """``playback <path>`` (e.g. ``tone_stream://%(251,0,1004);loops=-1``)."""
        return self.execute("playback", path, loops=loops, event_lock=event_lock)

    def echo(self) -> asyncio.Future[Event]:
        """Echo the caller's audio back (``echo``)."""
        return self.execute("echo")

    def breakmedia(self) -> asyncio.Future[str]:
        """Stop the current playback (``uuid_break``)."""
        return self.api(f"uuid_break {self.uuid}")

    def send_dtmf(self, digits: str, duration_ms: int | None = None) -> asyncio.Future[str]:
        """``uuid_send_dtmf <uuid> <digits>[@<duration>]``."""
        check_word("DTMF digits", digits)
        arg = digits if duration_ms is None else f"{digits}@{int(duration_ms)}"
        return self.api(f"uuid_send_dtmf {self.uuid} {arg}")


def _expire(fut: asyncio.Future[Any], what: str, timeout: float) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError(f"no {what} within {timeout:g} s"))
        _silence(fut)
