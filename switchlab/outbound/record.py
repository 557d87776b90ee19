"""A call handled by an outbound app as a per-call row, like an originated call's.

The controlled channel is the row's only leg (``call_id`` is its uuid, its
events are the caller columns); ``launch`` is when FreeSWITCH connected,
``job_done`` when the ``connect`` reply came, ``dest`` the destination number,
``app`` the server's apps and ``handled_by`` is ``"outbound"``. The calls an
inbound ``switchlab serve`` handles are rows too (:class:`CallRows`,
``handled_by`` ``"inbound"``).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..measure.record import RECORDED_EVENTS, CallRecord
from ..measure.run import Run
from ..state.call import Call
from ..state.dispatch import EventListener
from ..wire.events import Event

if TYPE_CHECKING:
    from .call import OutboundCall


def call_record(call: OutboundCall, run_id: str | None = None) -> CallRecord:
    """The :class:`~switchlab.measure.record.CallRecord` of a finished outbound call."""
    channel = call.channel
    assert channel is not None, "a call is recorded once connected"
    uuid = channel.uuid or ""
    apps = "+".join(type(i).__name__ for i in call.server.instances)
    rec = CallRecord(uuid, launch=call.accepted_wall, launch_monotonic=call.accepted,
                     run_id=run_id, host=call.conn.host, app=apps,
                     dest=channel.get("Caller-Destination-Number"))
    rec.job_result(f"+OK {uuid}\n", received=channel.received)
    for ev in call.events:
        if ev.uuid == uuid:
            rec.add_event(ev, "caller")
    if call.error is not None:
        rec.hung_up_locally()
    rec.set_column("handled_by", "outbound")
    return rec


class CallRows:
    """One row per call a listener sees end (``switchlab serve``, inbound mode).

    The recorded events of each leg are kept until its call ends; the call's
    first leg is the caller, the next the callee; ``handled_by`` says which
    mode served it. Nothing is kept once the call is written.
    """

    def __init__(self, listener: EventListener, run: Run, handled_by: str = "inbound",
                 app: str | None = None) -> None:
        self.run = run
        self.handled_by = handled_by
        self.app = app
        self._events: dict[str, list[Event]] = {}
        listener.add_handler("*", self._event)
        listener.add_call_end_handler(self._end)

    def _event(self, ev: Event) -> None:
        uuid = ev.uuid
        if uuid is not None and ev.name in RECORDED_EVENTS:
            self._events.setdefault(uuid, []).append(ev)

    def _end(self, call: Call) -> None:
        legs = list(call.legs)
        if not legs:
            return
        first = self._events.get(legs[0].uuid)
        rx = first[0].received if first else time.monotonic()
        rec = CallRecord(legs[0].uuid, launch=time.time() - (time.monotonic() - rx),
                         launch_monotonic=rx, run_id=self.run.run_id, host=legs[0].host,
                         app=self.app)
        for i, leg in enumerate(legs[:2]):
            for ev in self._events.pop(leg.uuid, ()):
                rec.add_event(ev, "caller" if i == 0 else "callee")
        for leg in legs[2:]:
            self._events.pop(leg.uuid, None)
        rec.set_column("handled_by", self.handled_by)
        self.run.add_record(rec)
