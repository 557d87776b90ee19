"""``Call``: the legs (sessions) of one call, tied by a tracking variable.

``Client.originate`` puts the caller leg's uuid into the SIP header variable
``sip_h_X-switchlab_call_id``; FreeSWITCH keeps it on the caller leg as
``variable_sip_h_X-switchlab_call_id`` and the callee leg (the inbound INVITE)
gets the same ``variable_sip_h_X-...`` from the received X-header, so both
legs carry the same call id, also across a proxy that forwards X-headers.
"""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..esl.job import silence as _silence
from .session import Vars

if TYPE_CHECKING:
    from ..esl import Job
    from ..wire.events import Event
    from .session import Session


class Call:
    """A call: ``uuid`` (the call id), ``legs`` (sessions, in creation order),
    ``first`` (the originating leg: the one whose uuid is the call id, else
    the first seen), ``last`` (the most recent other leg), ``vars`` (scratch
    space for apps), ``app_id``, ``job`` (the originate job, when known).
    """

    __slots__ = ("uuid", "legs", "vars", "app_id", "job", "first", "last", "ended", "_finished",
                 "columns", "sinks", "__weakref__")

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        self.legs: list[Session] = []
        self.vars = Vars()
        self.app_id: str | None = None
        self.job: Job | None = None
        self.first: Session | None = None
        self.last: Session | None = None
        self.ended = False
        self._finished: asyncio.Future[Call] | None = None
        self.columns: dict[str, Any] | None = None  # app outcomes (set_column)
        self.sinks: list[Callable[[str, str, Any], Any]] | None = None  # the listener's

    def append(self, sess: Session) -> None:
        """Add a leg."""
        self.legs.append(sess)
        if self.first is None:
            self.first = sess
        elif sess.uuid == self.uuid and self.first.uuid != self.uuid:
            self.last, self.first = self.first, sess
        else:
            self.last = sess

    @property
    def sessions(self) -> list[Session]:
        """Legs that are not destroyed yet."""
        return [s for s in self.legs if not s.destroyed]

    def get_peer(self, sess: Session) -> Session | None:
        """The other leg of a two-leg call (None if there is none)."""
        if sess is self.first:
            return self.last
        if sess is self.last:
            return self.first
        return None

    @property
    def answered(self) -> bool:
        return any(s.answered for s in self.legs)

    def hangup(self, cause: str = "NORMAL_CLEARING") -> asyncio.Future[Event | None] | None:
        """Hang up the first leg still up (its peer follows over SIP)."""
        for sess in (self.first, self.last, *self.legs):
            if sess is not None and not sess.hungup and not sess.destroyed:
                return sess.hangup(cause)
        return None

    def set_column(self, name: str, value: Any) -> None:
        """Record an app outcome of this call: the value of per-call column ``name``
        (declared by the app's ``columns``) in the run's row. Set it before the call
        ends (by CHANNEL_HANGUP at the latest): the row is written when both legs
        have completed their hangup."""
        if self.columns is None:
            self.columns = {}
        self.columns[name] = value
        for sink in self.sinks or ():
            sink(self.uuid, name, value)

    def _end(self) -> None:
        self.ended = True
        if self._finished is not None and not self._finished.done():
            self._finished.set_result(self)

    def wait(self, loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Future[Call]:
        """An awaitable resolved once every leg is destroyed."""
        if self._finished is None:
            if loop is None:
                leg = self.first
                loop = leg.conn.loop if leg is not None else asyncio.get_event_loop()
            self._finished = loop.create_future()
            self._finished.add_done_callback(_silence)
            if self.ended:
                self._finished.set_result(self)
        return self._finished

    def __repr__(self) -> str:
        return f"<Call {self.uuid} {len(self.legs)} legs{' ended' if self.ended else ''}>"

    def __len__(self) -> int:
        return len(self.legs)

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(self.legs)


def break_unobserved_cycle(call: Call, probe: object) -> bool:
    """Free an ended call at once if nothing outside it can reach it.

    A call and its legs form reference cycles (``call.legs`` ↔ ``sess.call``),
    which only the cyclic garbage collector frees; under load its full passes
    stall the event loop (launch jitter). Scheduled with
    ``loop.call_soon(break_unobserved_cycle, call, object())`` *after* the call
    ended (so no caller frame holds a leg), this counts references: when the
    legs and the call are held only by each other, nobody can ever observe
    them and the cycle is cut; a leg or call that anything else holds (a user,
    an app's task) keeps its links. ``probe``, a fresh object passed the same
    way as ``call``, measures the references the scheduling itself adds, so
    the count does not depend on the interpreter's internals.
    Returns True when it cut the cycle.
    """
    legs = call.legs
    for sess in legs:
        # legs list entries + first/last + the loop variable + getrefcount's argument
        inside = legs.count(sess) + (call.first is sess) + (call.last is sess) + 2
        if sys.getrefcount(sess) > inside:
            return False
    backrefs = 0
    for sess in legs:
        if sess.call is call:
            backrefs += 1
    if sys.getrefcount(call) - backrefs > sys.getrefcount(probe):
        return False
    for sess in legs:
        sess.call = None
    call.first = call.last = None
    legs.clear()
    return True
