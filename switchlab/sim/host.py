"""One emulated FreeSWITCH: identity, channels, event bus, log bus, heartbeat.

Several hosts live in one :class:`~switchlab.sim.emulator.Emulator` and share its
event loop, clock, virtual SIP network and DUT. Each has its own Core-UUID,
hostname, event-socket port and sofia profile ports.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .channel import Channel
from .clock import SimClock, log_stamp, uptime_text
from .events import Pairs, SimEvent, enc
from .templates import EXTENDED, FS_VERSION, SOURCE_VARIANTS, SOURCES

if TYPE_CHECKING:
    from .emulator import Emulator
    from .listener import Listener

log = logging.getLogger("switchlab.sim")

#: log level names as FreeSWITCH prints them
LOG_LEVEL_NAMES = {0: "CONSOLE", 1: "ALERT", 2: "CRIT", 3: "ERR", 4: "WARNING", 5: "NOTICE",
                   6: "INFO", 7: "DEBUG"}
#: the core's own log level (switch.conf ``loglevel`` = info): nothing above is generated
CORE_LOG_LEVEL = 6


class Profile:
    """A sofia profile (``internal``/``external``) of an emulated host."""

    def __init__(self, name: str, ip: str, port: int) -> None:
        self.name = name
        self.ip = ip
        self.port = port
        self.calls_in = 0
        self.failed_in = 0
        self.calls_out = 0
        self.failed_out = 0

    @property
    def url(self) -> str:
        return f"sip:mod_sofia@{self.ip}:{self.port}"


class EmulatedHost:
    """An emulated FreeSWITCH instance (one event socket, two sofia profiles)."""

    def __init__(self, emulator: Emulator, index: int, hostname: str, sip_ip: str,
                 internal_port: int, external_port: int, heartbeat_s: float) -> None:
        self.emulator = emulator
        self.index = index
        self.hostname = hostname
        self.core_uuid = str(uuidlib.uuid4())
        self.ipv4 = "127.0.0.1"
        self.ipv6 = "::1"
        self.sip_ip = sip_ip
        self.profiles = {
            "external": Profile("external", sip_ip, external_port),
            "internal": Profile("internal", sip_ip, internal_port),
        }
        self.clock: SimClock = emulator.clock
        self.heartbeat_s = heartbeat_s
        self.esl_address: tuple[str, int] | None = None
        self.started_us = self.clock.now_us()
        self.started_mono = time.monotonic()
        self.channels: dict[str, Channel] = {}
        self.listeners: list[Listener] = []
        self.max_sessions = 3000
        self.sps_max = 500
        self.global_vars = self._global_vars()
        # counters
        self._seq = 0
        self._session = 0
        self.sessions_since_startup = 0
        self.peak_sessions = 0
        self._recent_creates: deque[float] = deque()
        self.peak_sps = 0
        # subscriptions: event name -> number of listeners wanting it; ALL counted apart
        self._want: dict[str, int] = {}
        self._want_all = 0
        self._event_listeners: list[Listener] = []
        self._log_listeners: list[Listener] = []
        self._log_max_level = -1
        # cached header pieces
        self._core_tail_plain = (
            f"Core-UUID: {self.core_uuid}\nFreeSWITCH-Hostname: {enc(hostname)}\n"
            f"FreeSWITCH-Switchname: {enc(hostname)}\nFreeSWITCH-IPv4: {enc(self.ipv4)}\n"
            f"FreeSWITCH-IPv6: {enc(self.ipv6)}\n")
        self._date_cache: tuple[int, str, list[tuple[str, str]]] = (-1, "", [])
        self._source_plain: dict[tuple[str, str, str], str] = {}
        self._heartbeat_task: asyncio.Task[None] | None = None

    # -- identity ------------------------------------------------------------------
    def _global_vars(self) -> dict[str, str]:
        base = "/usr/local/freeswitch"
        return {
            "hostname": self.hostname, "local_mask_v4": "255.0.0.0", "local_ip_v6": self.ipv6,
            "base_dir": base, "recordings_dir": f"{base}/var/lib/freeswitch/recordings",
            "sound_prefix": f"{base}/share/freeswitch/sounds",
            "sounds_dir": f"{base}/share/freeswitch/sounds",
            "conf_dir": f"{base}/etc/freeswitch", "log_dir": f"{base}/var/log/freeswitch",
            "run_dir": f"{base}/var/run/freeswitch", "db_dir": f"{base}/var/lib/freeswitch/db",
            "mod_dir": f"{base}/lib/freeswitch/mod",
            "htdocs_dir": f"{base}/share/freeswitch/htdocs",
            "script_dir": f"{base}/share/freeswitch/scripts", "temp_dir": "/tmp",
            "grammar_dir": f"{base}/share/freeswitch/grammar",
            "fonts_dir": f"{base}/share/freeswitch/fonts",
            "images_dir": f"{base}/var/lib/freeswitch/images",
            "certs_dir": f"{base}/etc/freeswitch/tls",
            "storage_dir": f"{base}/var/lib/freeswitch/storage",
            "cache_dir": f"{base}/var/cache/freeswitch",
            "data_dir": f"{base}/share/freeswitch",
            "localstate_dir": f"{base}/var/lib/freeswitch", "core_uuid": self.core_uuid,
            "local_ip_v4": self.sip_ip, "bind_server_ip": self.sip_ip,
            "external_rtp_ip": self.sip_ip, "external_sip_ip": self.sip_ip,
            "domain": self.sip_ip, "global_codec_prefs": "PCMU,PCMA",
            "outbound_codec_prefs": "PCMU,PCMA",
            "internal_sip_port": str(self.profiles["internal"].port),
            "external_sip_port": str(self.profiles["external"].port),
            "default_password": "ClueCon-not-used", "hold_music": "silence",
        }

    def sip_address(self, profile: str = "external") -> tuple[str, int]:
        """``(ip, port)`` of one of this host's sofia profiles."""
        p = self.profiles[profile]
        return p.ip, p.port

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.emulator.loop

    def next_session_id(self) -> int:
        self._session += 1
        return self._session

    def uptime_us(self) -> int:
        return int((time.monotonic() - self.started_mono) * 1_000_000)

    def uptime_text(self) -> str:
        return uptime_text(self.uptime_us())

    # -- scheduling ------------------------------------------------------------------
    def later(self, delay: float, fn: Callable[..., Any], *args: Any,
              chan: Channel | None = None) -> asyncio.TimerHandle | asyncio.Handle:
        """Run ``fn(*args)`` after ``delay`` seconds.

        A long timer tied to ``chan`` is cancelled when the channel is released (so a
        finished call is not kept in memory); short ones just run and find the
        channel gone (every callback checks).
        """
        if delay <= 0:
            return self.loop.call_soon(fn, *args)
        handle = self.loop.call_later(delay, fn, *args)
        if chan is not None and delay >= 0.25:
            timers = chan.timers
            if len(timers) > 8:
                timers[:] = [t for t in timers if not t.cancelled()]
            timers.append(handle)
        return handle

    def tick(self) -> float:
        """One clock tick in seconds: the delay FreeSWITCH shows between two steps."""
        return self.clock.tick_seconds()

    # -- channels ----------------------------------------------------------------------
    def add_channel(self, chan: Channel) -> None:
        self.channels[chan.uuid] = chan
        self.sessions_since_startup += 1
        n = len(self.channels)
        if n > self.peak_sessions:
            self.peak_sessions = n
        now = time.monotonic()
        recent = self._recent_creates
        recent.append(now)
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        if len(recent) > self.peak_sps:
            self.peak_sps = len(recent)

    def remove_channel(self, chan: Channel) -> None:
        self.channels.pop(chan.uuid, None)

    def sessions_per_sec(self) -> int:
        now = time.monotonic()
        recent = self._recent_creates
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        return len(recent)

    # -- subscriptions -------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)
        self.update_subscriptions()

    def update_subscriptions(self) -> None:
        """Recount which event names some listener wants (after event/nixevent/...)."""
        want: dict[str, int] = {}
        want_all = 0
        ev_listeners = []
        log_listeners = []
        max_level = -1
        for lst in self.listeners:
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
        self._want = want
        self._want_all = want_all
        self._event_listeners = ev_listeners
        self._log_listeners = log_listeners
        self._log_max_level = min(max_level, CORE_LOG_LEVEL)

    def wants(self, name: str) -> bool:
        """True if at least one listener may want an event called ``name``."""
        return bool(self._want_all or name in self._want)

    # -- events --------------------------------------------------------------------------
    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def make_event(self, name: str, *, chan: Channel | None = None,
                   pre: Pairs = (), post: Pairs = (),  # type: ignore[assignment]
                   extended: bool | None = None, variant: str | None = None,
                   body: str | None = None, lead: Pairs = (),  # type: ignore[assignment]
                   stamp: int | None = None) -> SimEvent | None:
        """Allocate a sequence number; build the event only if someone wants it."""
        seq = self.next_seq()
        if not (self._want_all or name in self._want):
            return None
        source = SOURCE_VARIANTS.get((name, variant)) if variant else None
        if source is None:
            source = SOURCES.get(name) or SOURCES["CUSTOM"]
        if extended is None:
            extended = name in EXTENDED
        return SimEvent(self, name, seq, self.clock.now_us() if stamp is None else stamp,
                        source, lead, pre, chan, post, extended, body)

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
        stamp = ev.stamp
        cached = self._date_cache
        if cached[0] != stamp:
            local, gmt = self.clock.dates(stamp)
            date_plain = (f"Event-Date-Local: {enc(local)}\nEvent-Date-GMT: {enc(gmt)}\n"
                          f"Event-Date-Timestamp: {stamp}\n")
            date_pairs = [("Event-Date-Local", local), ("Event-Date-GMT", gmt),
                          ("Event-Date-Timestamp", str(stamp))]
            self._date_cache = cached = (stamp, date_plain, date_pairs)
        src = self._source_plain.get(ev.source)
        if src is None:
            f, fn, line = ev.source
            src = self._source_plain[ev.source] = (
                f"Event-Calling-File: {f}\nEvent-Calling-Function: {fn}\n"
                f"Event-Calling-Line-Number: {line}\n")
        return (f"Event-Name: {ev.name}\n{self._core_tail_plain}{cached[1]}{src}"
                f"Event-Sequence: {ev.seq}\n")

    def core_pairs(self, ev: SimEvent) -> Pairs:
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
    def logs_wanted(self, level: int) -> bool:
        return level <= self._log_max_level

    def log(self, level: int, file: str, func: str, line: int, text: str,
            chan: Channel | None = None, text_channel: int = 3, prefix: bool = True) -> None:
        """Emit a ``log/data`` line to listeners that asked for ``level`` (cheap if none)."""
        if level > self._log_max_level:
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

    # -- heartbeat -------------------------------------------------------------------------
    def start(self) -> None:
        if self.heartbeat_s and self.heartbeat_s > 0:
            self._heartbeat_task = self.loop.create_task(self._heartbeat())

    def stop(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            self._heartbeat_task = None

    async def _heartbeat(self) -> None:
        n = 0
        interval = float(self.heartbeat_s)
        start = time.monotonic()
        while True:
            n += 1
            await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
            try:
                self.send_heartbeat(n)
            except Exception:  # pragma: no cover - never let a bug stop the heartbeat
                log.exception("heartbeat of %s failed", self.hostname)

    def send_heartbeat(self, n: int = 1) -> None:
        """Fire HEARTBEAT and the RE_SCHEDULE events that follow it."""
        up_us = self.uptime_us()
        now_s = int(time.time())
        sps = self.sessions_per_sec()
        self.fire("HEARTBEAT", post=[
            ("Event-Info", "System Ready"), ("Up-Time", uptime_text(up_us)),
            ("FreeSWITCH-Version", FS_VERSION), ("Uptime-msec", str(up_us // 1000)),
            ("Session-Count", str(len(self.channels))), ("Max-Sessions", str(self.max_sessions)),
            ("Session-Per-Sec", str(self.sps_max)), ("Session-Per-Sec-Last", str(sps)),
            ("Session-Per-Sec-Max", str(self.peak_sps)),
            ("Session-Per-Sec-FiveMin", str(self.peak_sps)),
            ("Session-Since-Startup", str(self.sessions_since_startup)),
            ("Session-Peak-Max", str(self.peak_sessions)),
            ("Session-Peak-FiveMin", str(self.peak_sessions)), ("Idle-CPU", "98.570000"),
        ])
        self.fire("RE_SCHEDULE", post=[
            ("Task-ID", "1"), ("Task-Desc", "heartbeat"), ("Task-Group", "core"),
            ("Task-Runtime", str(now_s + int(self.heartbeat_s))),
        ])
        if n % 3 == 0:
            self.fire("RE_SCHEDULE", post=[
                ("Task-ID", "2"), ("Task-Desc", "check_ip"), ("Task-Group", "core"),
                ("Task-Runtime", str(now_s + 60)),
            ])

    def __repr__(self) -> str:
        return f"<EmulatedHost {self.hostname} esl={self.esl_address}>"
