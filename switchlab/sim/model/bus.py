"""One host's event bus: sequence numbers, who wants which event, building and delivery,
and the ``log/data`` stream.

FreeSWITCH numbers every event it creates, whether or not a client listens;
the bus does the same but builds an event only when some connection's
subscription may want it (:meth:`EventBus.wants`), which keeps an unwatched
emulator cheap.
"""
from __future__ import annotations

import re

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...wire.urlcodec import fs_url_encode_fast as enc
from .clock import SimClock, log_stamp
from .event_builder import Headers, Pairs, SimEvent
from .fsdata import EXTENDED, SOURCE_VARIANTS, SOURCES

if TYPE_CHECKING:
    from .channel import Channel
    from .ports import Subscriber

#: log level names as FreeSWITCH prints them
LOG_LEVEL_NAMES = {0: "CONSOLE", 1: "ALERT", 2: "CRIT", 3: "ERR", 4: "WARNING", 5: "NOTICE",
                   6: "INFO", 7: "DEBUG"}
_LEVELS_BY_NAME = {name.lower(): num for num, name in LOG_LEVEL_NAMES.items()}
_LEVELS_BY_NAME.update({"emerg": 0, "error": 3, "warn": 4, "disable": -1})


def log_level_number(word: str) -> int | None:
    """A log level given as a digit (``atoi``) or a name (``switch_log_str2level``).

    >>> log_level_number("debug"), log_level_number("4"), log_level_number("loud")
    (7, 4, None)
    """
    if word[:1].isdigit():
        digits = re.match(r"\d+", word)
        return int(digits.group(0)) if digits else None
    return _LEVELS_BY_NAME.get(word.lower())


#: the core's own log level (switch.conf ``loglevel`` = info): nothing above is generated
CORE_LOG_LEVEL = 6


class EventBus:
    """Numbers, builds and delivers one host's events and log lines."""

    def __init__(self, clock: SimClock, core_uuid: str, hostname: str, ipv4: str,
                 ipv6: str) -> None:
        self.clock = clock
        self.core_uuid = core_uuid
        self.hostname = hostname
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.seq = 0
        #: subscriptions: event name -> number of listeners wanting it; ALL counted apart
        #: (read directly by :meth:`~.channel.Channel.fire`: no call when none wants it)
        self.want: dict[str, int] = {}
        self.want_all = 0
        self._event_listeners: list[Subscriber] = []
        self._log_listeners: list[Subscriber] = []
        #: the highest level some listener takes (capped by the core's): a log line above
        #: it is not built (hot paths test ``bus.log_max_level >= level`` before formatting)
        self.log_max_level = -1
        self._listener_log_level = -1
        #: ``runtime.hard_log_level`` (switch.conf ``loglevel``; ``fsctl loglevel`` sets it)
        self.core_log_level = CORE_LOG_LEVEL
        # cached header pieces
        self._core_tail_plain = (
            f"Core-UUID: {core_uuid}\nFreeSWITCH-Hostname: {enc(hostname)}\n"
            f"FreeSWITCH-Switchname: {enc(hostname)}\nFreeSWITCH-IPv4: {enc(ipv4)}\n"
            f"FreeSWITCH-IPv6: {enc(ipv6)}\n")
        #: the second of the last event's stamp and its two date lines, URL-encoded
        self._date_lines: tuple[int, str] = (-1, "")
        self._source_plain: dict[tuple[str, str, str], str] = {}

    # -- subscriptions -------------------------------------------------------------------
    def update(self, listeners: Iterable[Subscriber]) -> None:
        """Recount which event names some listener wants (after event/nixevent/...)."""
        want: dict[str, int] = {}
        want_all = 0
        ev_listeners = []
        log_listeners = []
        max_level = -1
        for lst in listeners:
            if lst.closed:
                continue
            if lst.events_on:
                ev_listeners.append(lst)
                if lst.all_events:
                    want_all += 1
                for name in lst.event_names:
                    want[name] = want.get(name, 0) + 1
            if lst.log_level is not None:
                log_listeners.append(lst)
                max_level = max(max_level, lst.log_level)
        self.want = want
        self.want_all = want_all
        self._event_listeners = ev_listeners
        self._log_listeners = log_listeners
        self._listener_log_level = max_level
        self.log_max_level = min(max_level, self.core_log_level)

    def set_core_log_level(self, level: int) -> int:
        """``switch_core_session_ctl(SCSC_LOGLEVEL)``: -1 (DISABLE) .. 7 (DEBUG, the cap)."""
        self.core_log_level = min(level, 7)
        self.log_max_level = min(self._listener_log_level, self.core_log_level)
        return self.core_log_level

    def wants(self, name: str) -> bool:
        """True if at least one listener may want an event called ``name``."""
        return bool(self.want_all or name in self.want)

    # -- events --------------------------------------------------------------------------
    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def make_event(self, name: str, *, chan: Channel | None = None,
                   pre: Headers = (), post: Headers = (),
                   extended: bool | None = None, variant: str | None = None,
                   body: str | None = None, lead: Headers = (),
                   stamp: int | None = None) -> SimEvent | None:
        """Allocate a sequence number; build the event only if someone wants it."""
        self.seq += 1
        if not (self.want_all or name in self.want):
            return None
        source = SOURCE_VARIANTS.get((name, variant)) if variant else None
        if source is None:
            source = SOURCES.get(name) or SOURCES["CUSTOM"]
        if extended is None:
            extended = name in EXTENDED
        return SimEvent(self, name, self.seq, self.clock.now_us() if stamp is None else stamp,
                        source, lead, pre, chan, post, extended, body)

    def emit(self, name: str, chan: Channel, pre: Headers, post: Headers, extended: bool | None,
             variant: str | None, body: str | None, lead: Headers) -> None:
        """A channel event, now: :meth:`make_event` + :meth:`dispatch` inlined (this runs
        a dozen times per call)."""
        self.seq += 1  # the sequence number is used even if nobody listens
        if not (self.want_all or name in self.want):
            return
        source = SOURCE_VARIANTS.get((name, variant)) if variant else None
        if source is None:
            source = SOURCES.get(name) or SOURCES["CUSTOM"]
        if extended is None:
            extended = name in EXTENDED
        ev = SimEvent(self, name, self.seq, self.clock.now_us(), source, lead, pre, chan, post,
                      extended, body)
        for lst in self._event_listeners:
            lst.deliver(ev)

    def fire(self, name: str, **kw: Any) -> None:
        """Fire an event now (nothing is built when no listener wants ``name``)."""
        ev = self.make_event(name, **kw)
        if ev is not None:
            self.dispatch(ev)

    def dispatch(self, ev: SimEvent) -> None:
        """Deliver a built event to every listener whose subscription matches."""
        for lst in self._event_listeners:
            lst.deliver(ev)

    def core_plain(self, ev: SimEvent) -> str:
        """The host's headers of ``ev``, URL-encoded (the date lines cached per second)."""
        stamp = ev.stamp
        sec = stamp // 1_000_000
        dates = self._date_lines
        if dates[0] != sec:
            local, gmt = self.clock.dates(stamp)
            lines = f"Event-Date-Local: {enc(local)}\nEvent-Date-GMT: {enc(gmt)}\n"
            dates = self._date_lines = (sec, lines)
        src = self._source_plain.get(ev.source)
        if src is None:
            f, fn, line = ev.source
            src = self._source_plain[ev.source] = (
                f"Event-Calling-File: {f}\nEvent-Calling-Function: {fn}\n"
                f"Event-Calling-Line-Number: {line}\n")
        return (f"Event-Name: {ev.name}\n{self._core_tail_plain}{dates[1]}"
                f"Event-Date-Timestamp: {stamp}\n{src}Event-Sequence: {ev.seq}\n")

    def core_pairs(self, ev: SimEvent) -> Pairs:
        """The host's headers of ``ev``, decoded."""
        local, gmt = self.clock.dates(ev.stamp)
        f, fn, line = ev.source
        return [
            ("Event-Name", ev.name), ("Core-UUID", self.core_uuid),
            ("FreeSWITCH-Hostname", self.hostname), ("FreeSWITCH-Switchname", self.hostname),
            ("FreeSWITCH-IPv4", self.ipv4), ("FreeSWITCH-IPv6", self.ipv6),
            ("Event-Date-Local", local), ("Event-Date-GMT", gmt),
            ("Event-Date-Timestamp", str(ev.stamp)), ("Event-Calling-File", f),
            ("Event-Calling-Function", fn), ("Event-Calling-Line-Number", line),
            ("Event-Sequence", str(ev.seq)),
        ]

    # -- logging -------------------------------------------------------------------------
    def log(self, level: int, file: str, func: str, line: int, text: str,
            chan: Channel | None = None, text_channel: int = 3, prefix: bool = True) -> None:
        """Emit a ``log/data`` line to listeners that asked for ``level`` (cheap if none)."""
        if level > self.log_max_level:
            return
        if prefix:
            body = (f"{log_stamp(self.clock.now_us())} 98.57% [{LOG_LEVEL_NAMES[level]}] "
                    f"{file}:{line} {text}\n")
        else:
            body = f"{text}\n"
        headers = [("Log-Level", str(level)), ("Text-Channel", str(text_channel)),
                   ("Log-File", file), ("Log-Func", func), ("Log-Line", str(line)),
                   ("User-Data", chan.uuid if chan is not None else "")]
        for lst in self._log_listeners:
            if lst.log_level is not None and level <= lst.log_level:
                lst.deliver_log(body, headers)
