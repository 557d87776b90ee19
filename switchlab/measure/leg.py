"""One leg of a call attempt as its channel events told it (:class:`Leg`), and
what a :class:`~switchlab.measure.record.CallRecord` needs of an event.

>>> from switchlab.wire import Event
>>> leg = Leg()
>>> ev = Event.from_headers({"Event-Name": "CHANNEL_HANGUP_COMPLETE", "Hangup-Cause": "USER_BUSY",
...                          "variable_sip_term_status": "486"})
>>> leg.add(ev, ev.name, 1_000_000, 5.0), leg.outcome()
(True, ('USER_BUSY', 486, None))
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

CREATE = "CHANNEL_CREATE"
PROGRESS = "CHANNEL_PROGRESS"
PROGRESS_MEDIA = "CHANNEL_PROGRESS_MEDIA"
ANSWER = "CHANNEL_ANSWER"
HANGUP = "CHANNEL_HANGUP"
HANGUP_COMPLETE = "CHANNEL_HANGUP_COMPLETE"
#: The channel events a CallRecord uses, in the order a channel fires them; it
#: ignores every other event.
RECORDED_EVENT_NAMES = (CREATE, PROGRESS, PROGRESS_MEDIA, ANSWER, HANGUP, HANGUP_COMPLETE)
RECORDED_EVENTS = frozenset(RECORDED_EVENT_NAMES)


class EventLike(Protocol):
    """What a CallRecord needs of an event (``switchlab.wire.Event`` fits)."""

    received: float

    @property
    def name(self) -> str: ...
    @property
    def uuid(self) -> str | None: ...
    @property
    def timestamp_us(self) -> int | None: ...
    def get(self, name: str, default: Any = None) -> Any: ...


class Leg:
    """What one leg's events told us.

    The outcome (cause, SIP code, disposition) is read from the hangup events
    only when the row is built: CHANNEL_HANGUP_COMPLETE carries the final
    variables (e.g. a cancelled call's ``sip_hangup_disposition`` only appears
    there), so its values win; CHANNEL_HANGUP's fill what it lacks.
    """

    __slots__ = (
        "answer",
        "complete",
        "completes",
        "create",
        "early_media",
        "hangup",
        "hangup_seen",
        "hangups",
        "progress",
        "rx_answer",
        "rx_create",
        "rx_hangup",
    )

    def __init__(self) -> None:
        self.create: int | None = None
        self.progress: int | None = None
        self.early_media: int | None = None
        self.answer: int | None = None
        self.hangup: int | None = None
        self.rx_create: float | None = None
        self.rx_answer: float | None = None
        self.rx_hangup: float | None = None
        self.complete = False
        self.hangup_seen = False
        self.hangups: list[EventLike] | None = None  # CHANNEL_HANGUP events, arrival order
        self.completes: list[EventLike] | None = None  # CHANNEL_HANGUP_COMPLETE events

    def add(self, ev: EventLike, name: str, ts: int | None, rx: float | None) -> bool:
        """Record ``ev`` (named ``name``, stamped ``ts`` µs, received at ``rx``)."""
        if name == CREATE:
            if self.create is None:
                self.create, self.rx_create = ts, rx
        elif name == ANSWER:
            if self.answer is None:
                self.answer, self.rx_answer = ts, rx
        elif name == HANGUP or name == HANGUP_COMPLETE:
            # CHANNEL_HANGUP's stamp is the hangup time, whatever the arrival order;
            # CHANNEL_HANGUP_COMPLETE's stands in until (unless) it arrives
            if name == HANGUP:
                if not self.hangup_seen:
                    self.hangup_seen = True
                    self.hangup = ts
                if self.hangups is None:
                    self.hangups = [ev]
                else:
                    self.hangups.append(ev)
            else:
                if self.hangup is None:
                    self.hangup = ts
                if self.completes is None:
                    self.completes = [ev]
                else:
                    self.completes.append(ev)
                self.complete = True
            if rx is not None and (self.rx_hangup is None or rx < self.rx_hangup):
                self.rx_hangup = rx
        elif name == PROGRESS:
            if self.progress is None:
                self.progress = ts
        elif name == PROGRESS_MEDIA:
            if self.early_media is None:
                self.early_media = ts
        else:
            return False
        return True

    def outcome(self, code: bool = True) -> tuple[str | None, int | None, str | None]:
        """``(cause, SIP code, disposition)``: for each, the value of the last
        CHANNEL_HANGUP_COMPLETE that has one, else of the first CHANNEL_HANGUP
        (without ``code``, the SIP code is not read: None)."""
        cause = sip = disp = None
        for ev in _newest_complete_first(self.completes, self.hangups):
            if cause is None:
                cause = _cause_of(ev)
            if code and sip is None and not _lacks_sip_code(ev):
                sip = sip_code_of(ev)
            if disp is None:
                disp = ev.get("variable_sip_hangup_disposition") or None
            if cause is not None and disp is not None and (sip is not None or not code):
                break
        return cause, sip, disp


def _newest_complete_first(completes: list[EventLike] | None,
                           hangups: list[EventLike] | None) -> list[EventLike]:
    if completes is None:
        return hangups or []
    if hangups is None:
        return completes[::-1]
    return completes[::-1] + hangups


#: what both SIP-code header lines of a plain event hold (``variable_sip_term_status: ``,
#: ``variable_sip_invite_failure_status: ``)
_SIP_CODE_MARK = b"_status: "
#: a body starting with one of these is not a plain event's (JSON, XML)
_NOT_PLAIN = b"{< \t\r\n"


def _lacks_sip_code(ev: EventLike) -> bool:
    """True when ``ev`` is a plain event whose bytes cannot hold either SIP-code
    variable: one search over an event that has neither, where
    :func:`sip_code_of` misses twice (an answered call FreeSWITCH hung up has
    neither, in its CHANNEL_HANGUP_COMPLETE and its CHANNEL_HANGUP). False
    means "look them up", also for any other kind of event (JSON, XML,
    decoded headers: no ``raw`` bytes to rule them out)."""
    raw = getattr(ev, "raw", None)
    if raw.__class__ is not bytes or not raw or raw[:1] in _NOT_PLAIN:
        return False
    return _SIP_CODE_MARK not in raw


def _cause_of(ev: EventLike) -> str | None:
    return ev.get("Hangup-Cause") or ev.get("variable_hangup_cause") or None


def sip_code_of(headers: EventLike | Mapping[str, str]) -> int | None:
    """The SIP status that ended a leg: ``variable_sip_term_status``, else
    ``variable_sip_invite_failure_status`` (e.g. 487 for a call FreeSWITCH
    cancelled on ``originate_timeout``), else None (answered calls hung up
    by FreeSWITCH carry neither)."""
    for key in ("variable_sip_term_status", "variable_sip_invite_failure_status"):
        value = headers.get(key)
        if value:
            try:
                code = int(value)
            except ValueError:
                continue
            if 100 <= code <= 699:
                return code
    return None
