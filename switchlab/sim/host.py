"""One emulated FreeSWITCH: identity, sofia profiles, channels, scheduling, heartbeat;
its events and log lines go through its :class:`~.model.bus.EventBus`.

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
from typing import Any

from .esl.server import EslServerProtocol
from .model.bus import EventBus
from .model.channel import Channel
from .model.clock import SimClock, uptime_text
from .model.fsdata import FS_VERSION
from .model.ports import Network, Profile
from .model.timers import Timer, TimerWheel

log = logging.getLogger("switchlab.sim")


class EmulatedHost:
    """An emulated FreeSWITCH instance (one event socket, two sofia profiles)."""

    def __init__(self, emulator: Network, index: int, hostname: str, sip_ip: str,
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
        self.channels: dict[str, Channel] = {}
        self.listeners: list[EslServerProtocol] = []
        self.max_sessions = 3000
        #: mod_event_socket's 20 ms listener poll (read_packet); 0 delivers at once
        self.event_poll_s = 0.020
        self.sps_max = 500
        #: the listening socket (None while a restart fault keeps the port closed)
        self.server: asyncio.base_events.Server | None = None
        self.stopping = False
        #: slow-client policy (None: :mod:`.esl.server`'s MAX_BUFFERED / MAX_MISSED)
        self.max_buffered: int | None = None
        self.max_missed: int | None = None
        self.lost_events = 0
        self.slow_disconnects = 0
        #: api commands the emulator adds (``sim_fault``); FreeSWITCH's are in esl.api
        self.extra_api: dict[str, Callable[[Any, str], str]] = {}
        #: recordings made here: path -> length in ms (mod_dptools.media)
        self.recordings: dict[str, int] = {}
        #: the last task id of switch_scheduler.c, which numbers tasks from 1; a fresh
        #: 1.11 core has added 5 (heartbeat, sql/cache cleanups, ...)
        self.sched_task_id = 5
        self._heartbeat_task: asyncio.Task[None] | None = None
        #: the host's scheduled call steps, batched per millisecond
        self.wheel = TimerWheel()
        self._fresh_state()

    def _fresh_state(self) -> None:
        """Counters, globals and event bus of a freshly started FreeSWITCH."""
        self.global_vars = self._global_vars()
        self.started_us = self.clock.now_us()
        self.started_mono = time.monotonic()
        self._session = 0
        self.sessions_since_startup = 0
        self.peak_sessions = 0
        self._recent_creates: deque[float] = deque()
        self.peak_sps = 0
        for p in self.profiles.values():
            p.calls_in = p.failed_in = p.calls_out = p.failed_out = 0
        self.bus = EventBus(self.clock, self.core_uuid, self.hostname, self.ipv4, self.ipv6)
        # the bus's own methods, bound once: these run many times per call
        self.log = self.bus.log
        self.fire = self.bus.fire

    def reborn(self, core_uuid: str | None = None) -> None:
        """Come back as a new FreeSWITCH process: a new Core-UUID, no channels, no
        listeners, counters and uptime from zero (the restart fault's last step)."""
        for chan in list(self.channels.values()):
            chan.cancel_timers()
        self.channels.clear()
        self.listeners.clear()
        self.core_uuid = core_uuid or str(uuidlib.uuid4())
        self.stopping = False
        self._fresh_state()

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

    @property
    def sessions_created(self) -> int:
        """``switch_core_session_id() - 1``: sessions created so far."""
        return self._session

    def uptime_us(self) -> int:
        return int((time.monotonic() - self.started_mono) * 1_000_000)

    def uptime_text(self) -> str:
        return uptime_text(self.uptime_us())

    # -- scheduling ------------------------------------------------------------------
    def later(self, delay: float, fn: Callable[..., Any], *args: Any,
              chan: Channel | None = None) -> Timer | asyncio.Handle:
        """Run ``fn(*args)`` after ``delay`` seconds (in the millisecond it falls in,
        after what was due before it: :class:`TimerWheel`).

        A long timer tied to ``chan`` is cancelled when the channel is released (so a
        finished call is not kept in memory); short ones just run and find the
        channel gone (every callback checks).
        """
        if delay <= 0:
            return self.emulator.loop.call_soon(fn, *args)
        handle = self.wheel.add(self.emulator.loop, delay, fn, args)
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
    def add_listener(self, listener: EslServerProtocol) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: EslServerProtocol) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)
        self.update_subscriptions()

    def update_subscriptions(self) -> None:
        """Recount which event names some listener wants (after event/nixevent/...)."""
        self.bus.update(self.listeners)

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
