"""`CallRecord`: the events of one call attempt in, one row dict out.

A pure object: no I/O, no clock reads unless you leave the launch times out.
Feed it the caller leg's and the callee leg's channel events (anything that
behaves like :class:`switchlab.wire.Event`: a mapping of header → str with
``.name``, ``.uuid``, ``.received`` and ``.timestamp_us``) and the bgapi
originate's result, then ask for :meth:`CallRecord.row`.

>>> from switchlab.wire import Event
>>> rec = CallRecord("c1", launch=1_700_000_000.0, launch_monotonic=100.0, host="fs1")
>>> ev = Event.from_headers({"Event-Name": "CHANNEL_CREATE", "Unique-ID": "c1",
...                          "Event-Date-Timestamp": "1700000000010000"})
>>> rec.add_event(ev)
True
>>> rec.job_result("-ERR USER_BUSY\\n", received=100.05)
>>> row = rec.row()
>>> row["hangup_cause"], row["failed"], row["originate_latency"]
('USER_BUSY', True, 0.05)
"""
from __future__ import annotations

import time
from typing import Any

from ..errors import MeasurementError
from ..wire.replies import originate_outcome
from .leg import RECORDED_EVENTS, EventLike, Leg, sip_code_of
from .schema import COLUMNS, DERIVE_PLAN, SIDE_CALLEE, SIDE_CALLER, SIDE_LOCAL

__all__ = ["RECEIVED_DISPOSITIONS", "RECORDED_EVENTS", "SENT_DISPOSITIONS", "CallRecord",
           "EventLike", "derive", "parse_job_result", "side_from_dispositions", "sip_code_of"]

#: ``sip_hangup_disposition`` values meaning "this leg's FreeSWITCH ended the call".
SENT_DISPOSITIONS = frozenset({"send_bye", "send_cancel", "send_refuse"})
#: ... and "the SIP peer of this leg ended it".
RECEIVED_DISPOSITIONS = frozenset({"recv_bye", "recv_cancel", "recv_refuse"})


def parse_job_result(body: str | bytes) -> tuple[bool, str | None]:
    """``(ok, cause)`` from an originate bgapi result body
    (:func:`switchlab.wire.replies.originate_outcome`).

    >>> parse_job_result("+OK 3d4bb68e-4970-47c8-beee-0eb783d7ae3e\\n")
    (True, None)
    >>> parse_job_result(b"-ERR NO_ANSWER\\n")
    (False, 'NO_ANSWER')
    """
    return originate_outcome(body)


def side_from_dispositions(caller: str | None, callee: str | None) -> str | None:
    """Which side ended the call, from ``sip_hangup_disposition`` of each leg.

    The caller leg's own view wins: ``send_*`` means FreeSWITCH's caller leg
    ended it (``"caller"``), ``recv_*`` means the far side did (``"callee"``).
    Without it, the callee leg's view is mirrored.
    """
    if caller in SENT_DISPOSITIONS:
        return SIDE_CALLER
    if caller in RECEIVED_DISPOSITIONS:
        return SIDE_CALLEE
    if callee in SENT_DISPOSITIONS:
        return SIDE_CALLEE
    if callee in RECEIVED_DISPOSITIONS:
        return SIDE_CALLER
    return None


def derive(row: dict[str, Any]) -> dict[str, Any]:
    """Fill the derived columns of ``row`` that are missing or None (in place;
    returns ``row``), as declared (:mod:`switchlab.measure.columns`): a
    :class:`~switchlab.measure.columns.Diff` of two µs times gives float
    seconds, of two monotonic times seconds rounded to the ns; a
    :class:`~switchlab.measure.columns.Formula` is called with the row.

    >>> derive({"caller_create": 1_000_000, "caller_answer": 1_020_000})["setup_latency"]
    0.02
    """
    g = row.get
    for name, end, start, micro, func in DERIVE_PLAN:
        if g(name) is not None:
            continue
        if func is not None:
            row[name] = func(row)
            continue
        a, b = g(end), g(start)
        if a is None or b is None:
            row[name] = None
        elif micro:
            row[name] = (a - b) / 1e6
        else:
            row[name] = round(a - b, 9)
    return row


class CallRecord:
    """Collects one call attempt and builds its row.

    ``launch`` is the local wall clock (``time.time()`` seconds) and
    ``launch_monotonic`` the local ``time.monotonic()`` at launch; both
    default to now. ``job_done`` is derived from the monotonic clock, so a
    wall-clock step during the call cannot distort it.
    """

    __slots__ = (
        "active_calls",
        "app",
        "call_id",
        "callee",
        "caller",
        "dest",
        "erlangs",
        "extra",
        "host",
        "job_cause",
        "job_ok",
        "launch_us",
        "local_cause",
        "local_hangup",
        "run_id",
        "rx_job",
        "rx_launch",
        "target_rate",
    )

    def __init__(self, call_id: str, *, launch: float | None = None,
                 launch_monotonic: float | None = None, run_id: str | None = None,
                 host: str | None = None, app: str | None = None, dest: str | None = None,
                 active_calls: float | None = None, erlangs: float | None = None,
                 target_rate: float | None = None) -> None:
        self.call_id = call_id
        self.run_id = run_id
        self.host = host
        self.app = app
        self.dest = dest
        if launch is None:
            launch = time.time()
        self.launch_us = round(launch * 1e6)
        self.rx_launch = time.monotonic() if launch_monotonic is None else launch_monotonic
        self.active_calls = active_calls
        self.erlangs = erlangs
        self.target_rate = target_rate
        self.caller = Leg()
        self.callee = Leg()
        self.job_ok: bool | None = None
        self.job_cause: str | None = None
        self.rx_job: float | None = None
        self.local_hangup = False
        self.local_cause: str | None = None
        self.extra: dict[str, Any] | None = None

    # -- input --------------------------------------------------------------
    def add_event(self, ev: EventLike, leg: str | None = None) -> bool:
        """Record a channel event of the ``"caller"`` or ``"callee"`` leg
        (by default: the caller leg when ``ev.uuid`` is :attr:`call_id`, else
        the callee leg). Returns False for events the row does not use."""
        name = ev.name
        if name not in RECORDED_EVENTS and (leg is None or leg in ("caller", "callee")):
            return False
        if leg is None:
            target = self.leg_of(ev.uuid)
        elif leg == "caller":
            target = self.caller
        elif leg == "callee":
            target = self.callee
        else:
            raise ValueError(f"leg must be 'caller' or 'callee', not {leg!r}")
        return target.add(ev, name, ev.timestamp_us, getattr(ev, "received", None) or None)

    def leg_of(self, uuid: str | None) -> Leg:
        """The leg of channel ``uuid``: the caller leg's uuid is the call id (the
        originate's ``origination_uuid``), any other channel is the callee leg."""
        return self.caller if uuid == self.call_id else self.callee

    def job_result(self, body: str | bytes, received: float) -> None:
        """Record the bgapi originate result (``+OK <uuid>`` or ``-ERR CAUSE``)
        and the local monotonic time it arrived."""
        self.job_ok, self.job_cause = parse_job_result(body)
        self.rx_job = received

    def hung_up_locally(self) -> None:
        """Say that switchlab itself ended this call (``uuid_kill``, ``hupall``,
        an app's hangup): ``hangup_side`` becomes ``"local"``."""
        self.local_hangup = True

    def fail_locally(self, cause: str) -> None:
        """Record a failure switchlab detected itself (e.g. ``HOST_DISCONNECTED``
        when the host went away mid-call). Used as the cause only when
        FreeSWITCH gave none."""
        self.local_cause = cause
        self.local_hangup = True

    def set_column(self, name: str, value: Any) -> None:
        """Set an app's own column of this row (one declared with
        :func:`~switchlab.measure.register_columns`), e.g.
        ``rec.set_column("dtmf_ok", True)``."""
        if name not in COLUMNS:
            raise MeasurementError(f"unknown row column {name!r}; declare it first with "
                                   "switchlab.measure.register_columns([ColumnSpec(...)])")
        if self.extra is None:
            self.extra = {}
        self.extra[name] = value

    # -- state --------------------------------------------------------------
    @property
    def answered(self) -> bool:
        return self.caller.answer is not None

    @property
    def complete(self) -> bool:
        """True once nothing more is expected: the job result is in, and every
        leg that was created has completed its hangup (a ``-ERR`` job with no
        caller channel is complete at once)."""
        if self.local_cause is not None:
            return True
        if self.job_ok is None:
            return False
        caller, callee = self.caller, self.callee
        if caller.create is not None and not caller.complete:
            return False
        if self.job_ok and caller.create is None and not caller.complete:
            return False
        return callee.create is None or callee.complete

    # -- output -------------------------------------------------------------
    def row(self) -> dict[str, Any]:
        """The row dict: every column of :data:`~switchlab.measure.schema.COLUMNS`, in
        that order."""
        c, e = self.caller, self.callee
        cause, sip_code, disposition = c.outcome()
        if cause is None and self.job_ok is False:
            cause = self.job_cause
        e_cause = e_disposition = None
        if cause is None or not (self.local_hangup or disposition in SENT_DISPOSITIONS
                                 or disposition in RECEIVED_DISPOSITIONS):
            e_cause, _, e_disposition = e.outcome(code=False)  # read only when needed
        if cause is None:
            cause = e_cause or self.local_cause
        side = SIDE_LOCAL if self.local_hangup else side_from_dispositions(
            disposition, e_disposition)
        job_done = None
        if self.rx_job is not None:
            job_done = self.launch_us + round((self.rx_job - self.rx_launch) * 1e6)
        failed = c.answer is None or self.job_ok is False
        row = dict.fromkeys(COLUMNS)  # every column, in column order
        row.update({
            "run_id": self.run_id, "call_id": self.call_id, "host": self.host,
            "app": self.app, "dest": self.dest,
            "launch": self.launch_us, "job_done": job_done,
            "caller_create": c.create, "caller_progress": c.progress,
            "caller_early_media": c.early_media, "caller_answer": c.answer,
            "caller_hangup": c.hangup,
            "callee_create": e.create, "callee_answer": e.answer, "callee_hangup": e.hangup,
            "rx_launch": self.rx_launch, "rx_job": self.rx_job,
            "rx_caller_create": c.rx_create, "rx_caller_answer": c.rx_answer,
            "rx_caller_hangup": c.rx_hangup,
            "hangup_cause": cause, "sip_code": sip_code, "hangup_side": side,
            "hangup_disposition": disposition, "failed": bool(failed),
            "active_calls": self.active_calls, "erlangs": self.erlangs,
            "target_rate": self.target_rate,
        })
        if self.extra:
            row.update(self.extra)
        return derive(row)

    def __repr__(self) -> str:
        state = "complete" if self.complete else "open"
        return f"<CallRecord {self.call_id} {state} answered={self.answered}>"
