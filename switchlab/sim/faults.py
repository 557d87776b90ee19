"""Fault injection: what goes wrong with a FreeSWITCH, on demand (``Emulator.faults``).

Every method works from the emulator's own loop (tests, ``async with Emulator``) and
from any other thread while it serves in the background (a notebook after
``start_background()``): the work is handed to the emulator's loop. ``host`` is a
host index, or ``None`` for every host. Each fault is logged on ``switchlab.sim`` and
kept in :attr:`Faults.history`.

>>> from switchlab.sim import Emulator
>>> fs = Emulator(hosts=2, port=0).start_background()
>>> fs.faults.drop(host=1)          # TCP reset of host 1's event-socket connections
0
>>> fs.faults.blackhole(1.0)        # the DUT answers no INVITE any more
0.0
>>> [(r.kind, r.host) for r in fs.faults.history]
[('drop', 1), ('blackhole', None)]
>>> fs.stop()

=================  ==============================================================
fault              what the clients see
=================  ==============================================================
``drop``           a TCP reset (RST) on every connection; the port still accepts
``disconnect``     ``text/disconnect-notice`` then the close (FIN)
``stall``          events and log lines held for N s, then delivered in order;
                   replies keep flowing
``restart``        SYSTEM_SHUTDOWN hangups, originates refused with
                   CHAN_NOT_IMPLEMENTED, "The system is being shut down." notice,
                   the port refusing connections, then a fresh FreeSWITCH (new
                   Core-UUID, no channels)
``slow_client``    the clients' queues are full for N s: events are lost, and a
                   client that lost more than MAX_MISSED is disconnected
``malformed``      bytes FreeSWITCH never sends (bad Content-Length, ...)
``blackhole``      the DUT answers no INVITE: the originate times out (NO_ANSWER)
=================  ==============================================================
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .calls.lifecycle import hangup
from .dut import DUTModel
from .host import EmulatedHost

log = logging.getLogger("switchlab.sim")

#: what mod_event_socket sends every client when FreeSWITCH shuts down (kill_all_listeners)
SHUTDOWN_NOTICE = b"The system is being shut down.\n"

#: bytes FreeSWITCH never sends, by name (:meth:`Faults.malformed`)
MALFORMED: dict[str, bytes] = {
    "bad-length": b"Content-Type: api/response\nContent-Length: 12x\n\n",
    "huge-length": b"Content-Type: text/event-plain\nContent-Length: 1099511627776\n\n",
    "no-colon": b"Content-Type text/event-plain\n\n",
    "binary": b"\x00\xff\xfe\xfd\x00garbage\n\n",
}


class FaultTarget(Protocol):
    """What the faults need from the emulator (:class:`~switchlab.sim.emulator.Emulator`)."""

    hosts: list[EmulatedHost]
    loop: asyncio.AbstractEventLoop

    @property
    def dut(self) -> DUTModel: ...

    def call(self, fn: Any, *args: Any) -> Any: ...

    async def listen(self, index: int) -> None: ...

    def stop_listening(self, index: int) -> None: ...


@dataclass(frozen=True)
class FaultRecord:
    """One injected fault: wall-clock time, host index (None: all or the DUT), kind, detail."""

    at: float
    host: int | None
    kind: str
    detail: str = ""


class Faults:
    """Fault injection on an emulator's hosts and DUT (``fs.faults``)."""

    def __init__(self, emulator: FaultTarget) -> None:
        self.emulator = emulator
        self.history: list[FaultRecord] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # -- plumbing -----------------------------------------------------------------------
    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.emulator.call(fn, *args)

    def _hosts(self, host: int | None) -> list[EmulatedHost]:
        hosts = self.emulator.hosts
        if host is None:
            return list(hosts)
        if not 0 <= host < len(hosts):
            raise ValueError(f"host {host} does not exist: this emulator has hosts "
                             f"0..{len(hosts) - 1}")
        return [hosts[host]]

    def _note(self, host: int | None, kind: str, detail: str = "") -> None:
        self.history.append(FaultRecord(time.time(), host, kind, detail))
        log.warning("fault injected: %s on %s%s", kind,
                    "every host" if host is None else f"host {host}",
                    f" ({detail})" if detail else "")

    def _later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        handle = self.emulator.loop.call_later(delay, fn, *args)
        self._timers = [t for t in self._timers if not t.cancelled()
                        and t.when() > self.emulator.loop.time()]
        self._timers.append(handle)

    def cancel(self) -> None:
        """Forget scheduled fault steps (the emulator is closing)."""
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()

    # -- the faults ---------------------------------------------------------------------
    def drop(self, host: int | None = 0) -> int:
        """Reset (RST) every event-socket connection of ``host``; returns how many."""
        return int(self._run(self._drop, host))

    def _drop(self, host: int | None) -> int:
        n = 0
        for h in self._hosts(host):
            for lst in list(h.listeners):
                if lst.transport is not None:
                    lst.transport.abort()
                    n += 1
        self._note(host, "drop", f"{n} connections reset")
        return n

    def disconnect(self, host: int | None = 0, message: bytes | None = None) -> int:
        """Send FreeSWITCH's ``text/disconnect-notice`` (``message`` as its text, else
        "Disconnected, goodbye. ...") and close every connection; returns how many."""
        return int(self._run(self._disconnect, host, message))

    def _disconnect(self, host: int | None, message: bytes | None) -> int:
        n = 0
        for h in self._hosts(host):
            for lst in list(h.listeners):
                lst.close(notice=True, body=message)
                n += 1
        self._note(host, "disconnect", f"notice to {n} connections")
        return n

    def stall(self, seconds: float, host: int | None = 0) -> int:
        """Hold the events (and log lines) of ``host``'s connections for ``seconds``, then
        deliver them in order; command replies keep flowing. Returns how many
        connections stall (later connections are not affected)."""
        if seconds < 0:
            raise ValueError(f"stall for {seconds} s: give a duration >= 0")
        return int(self._run(self._stall, float(seconds), host))

    def _stall(self, seconds: float, host: int | None) -> int:
        stalled = [lst for h in self._hosts(host) for lst in h.listeners if not lst.closed]
        for lst in stalled:
            lst.stall()
        self._later(seconds, self._unstall, stalled, host)
        self._note(host, "stall", f"{len(stalled)} connections for {seconds:g} s")
        return len(stalled)

    def _unstall(self, stalled: list[Any], host: int | None) -> None:
        n = sum(lst.unstall() for lst in stalled if not lst.closed)
        log.warning("fault over: events flow again on %s (%d held events delivered)",
                    "every host" if host is None else f"host {host}", n)

    def slow_client(self, seconds: float, host: int | None = 0) -> int:
        """For ``seconds``, treat every connection of ``host`` as a client that stopped
        reading: FreeSWITCH's own slow-client policy then applies (events are lost,
        and after MAX_MISSED lost events the client is disconnected). Returns how many
        connections are affected. The counters are in :meth:`stats`."""
        if seconds < 0:
            raise ValueError(f"slow client for {seconds} s: give a duration >= 0")
        return int(self._run(self._slow_client, float(seconds), host))

    def _slow_client(self, seconds: float, host: int | None) -> int:
        slow = [lst for h in self._hosts(host) for lst in h.listeners if not lst.closed]
        for lst in slow:
            lst.queue_full = True
        self._later(seconds, self._fast_again, slow)
        self._note(host, "slow_client", f"{len(slow)} connections for {seconds:g} s")
        return len(slow)

    @staticmethod
    def _fast_again(slow: list[Any]) -> None:
        for lst in slow:
            lst.queue_full = False

    def slow_client_policy(self, max_buffered: int | None = None, max_missed: int | None = None,
                           host: int | None = None) -> None:
        """Set the slow-client policy: a client with more than ``max_buffered`` bytes
        unsent loses events, and one that lost more than ``max_missed`` in a row is
        disconnected (None: FreeSWITCH's figures, about 256 MB and 500)."""
        for h in self._hosts(host):
            h.max_buffered = max_buffered
            h.max_missed = max_missed

    def stats(self, host: int = 0) -> dict[str, int]:
        """What the slow-client policy did on ``host``, and its connections now."""
        h = self._hosts(host)[0]
        return {"connections": len(h.listeners), "lost_events": h.lost_events,
                "slow_disconnects": h.slow_disconnects, "channels": len(h.channels)}

    def malformed(self, host: int | None = 0, kind: str | bytes = "bad-length") -> int:
        """Send every connection of ``host`` a frame FreeSWITCH never sends (``kind``:
        one of :data:`MALFORMED`, or raw bytes); returns how many got it."""
        data = kind if isinstance(kind, bytes) else MALFORMED.get(kind)
        if data is None:
            raise ValueError(f"unknown malformed frame {kind!r}: use one of "
                             f"{', '.join(MALFORMED)} or bytes")
        name = "raw bytes" if isinstance(kind, bytes) else kind
        return int(self._run(self._malformed, host, data, name))

    def _malformed(self, host: int | None, data: bytes, kind: str) -> int:
        n = 0
        for h in self._hosts(host):
            for lst in list(h.listeners):
                lst.write(data)
                n += 1
        self._note(host, "malformed", f"{kind} to {n} connections")
        return n

    def blackhole(self, probability: float = 1.0) -> float:
        """From the next call on, the DUT leaves this share of INVITEs unanswered (no
        100, no 180, nothing): the originate times out with NO_ANSWER (at
        ``originate_timeout``), or sofia gives up at timer B (32 s,
        RECOVERY_ON_TIMER_EXPIRE). ``blackhole(0)`` ends it. Returns the previous value."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"blackhole probability {probability} must be between 0 and 1")
        return float(self._run(self._blackhole, float(probability)))

    def _blackhole(self, probability: float) -> float:
        dut = self.emulator.dut
        before, dut.blackhole = dut.blackhole, probability
        self._note(None, "blackhole", f"{probability:g} of INVITEs")
        return float(before)

    def restart(self, host: int = 0, down_s: float = 1.0, stopping_s: float = 0.2) -> str:
        """Restart ``host`` as FreeSWITCH does, and return the Core-UUID it comes back with.

        Now: every channel is hung up with SYSTEM_SHUTDOWN (clients get the events)
        and originates are refused with ``-ERR CHAN_NOT_IMPLEMENTED``. After
        ``stopping_s``: each client gets the notice "The system is being shut
        down." and is closed, and the port refuses connections. After ``down_s``
        more: the port accepts again, and the host is a fresh FreeSWITCH (that
        Core-UUID, no channels, counters and uptime from zero).
        """
        if down_s < 0 or stopping_s < 0:
            raise ValueError("restart: down_s and stopping_s must be >= 0")
        self._hosts(host)
        return str(self._run(self._restart, host, float(down_s), float(stopping_s)))

    def _restart(self, index: int, down_s: float, stopping_s: float) -> str:
        h = self.emulator.hosts[index]
        new_uuid = str(uuidlib.uuid4())
        h.stopping = True
        up = [c for c in h.channels.values() if not c.dead]
        for chan in up:
            hangup(chan, "SYSTEM_SHUTDOWN")
        self._note(index, "restart", f"{len(up)} channels hung up; down for "
                                     f"{stopping_s + down_s:g} s; new core {new_uuid}")
        self._later(stopping_s, self._shut_down, index, down_s, new_uuid)
        return new_uuid

    def _shut_down(self, index: int, down_s: float, new_uuid: str) -> None:
        h = self.emulator.hosts[index]
        self.emulator.stop_listening(index)
        h.stop()
        for lst in list(h.listeners):
            lst.close(notice=True, body=SHUTDOWN_NOTICE)
        h.reborn(new_uuid)
        h.stopping = True  # still down: nothing listens until _come_back
        self._later(down_s, self._come_back, index)

    def _come_back(self, index: int) -> None:
        task = self.emulator.loop.create_task(self._listen_again(index))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen_again(self, index: int) -> None:
        h = self.emulator.hosts[index]
        try:
            await self.emulator.listen(index)
        except OSError as exc:
            log.error("host %d could not listen again after its restart: %s", index, exc)
            return
        h.stopping = False
        h.started_mono, h.started_us = time.monotonic(), h.clock.now_us()  # uptime from now
        h.start()
        log.warning("fault over: host %d is back (core %s)", index, h.core_uuid)
