"""A call handled by an outbound app as a per-call row, like an originated call's.

The controlled channel is the row's only leg (``call_id`` is its uuid, its
events are the caller columns); ``launch`` is when FreeSWITCH connected,
``job_done`` when the ``connect`` reply came, ``dest`` the destination number,
``app`` the server's apps and ``handled_by`` is ``"outbound"``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..measure.record import CallRecord

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
