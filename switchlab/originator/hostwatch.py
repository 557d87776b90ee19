"""Each host's event socket as the originator sees it: down, back, restarted, given up.

When a host's connection drops, its calls in progress are written at once
with ``HOST_DISCONNECTED`` (their later events cannot be seen) and the outage
starts (``host_down`` in the run's event log). The connection's own
:class:`~switchlab.esl.Reconnect` policy brings it back; then the host's
Core-UUID (``global_getvar core_uuid``) says whether FreeSWITCH restarted
(new UUID: its channels are gone) or only the socket dropped (same UUID: the
calls written off are hung up with ``uuid_kill`` so FreeSWITCH does not keep
them); the outage ends (``host_up``). A host still down ``deadline`` seconds
later is given up (``host_given_up``, its reconnect stopped); when every host
is given up the originator stops. Launches due while no host is up are
counted (:attr:`HostWatch.not_offered`) and logged as ``not_offered``.

>>> HostWatch.DEFAULT_DEADLINE
60.0
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..client import Client
from ..errors import SwitchlabError
from ..esl import Gap
from ..measure import Run
from ..measure.outages import HOST_DOWN, HOST_GIVEN_UP, HOST_UP, NOT_OFFERED
from .recorder import Recorder

log = logging.getLogger(__name__)

#: the cause written for calls in progress on a host whose socket dropped
HOST_DISCONNECTED = "HOST_DISCONNECTED"


class HostWatch:
    """Follows the hosts of one originator (see the module docstring).

    ``on_all_given_up()`` is called once no host is left; ``on_back()`` when
    a host is up again (the launcher wakes)."""

    DEFAULT_DEADLINE = 60.0

    def __init__(self, run: Run, recorder: Recorder, *, deadline: float | None = DEFAULT_DEADLINE,
                 on_all_given_up: Callable[[], Any] = lambda: None,
                 on_back: Callable[[], Any] = lambda: None) -> None:
        if deadline is not None and not deadline > 0:
            raise ValueError(f"host_down_deadline must be seconds > 0 (or None: never give up), "
                             f"got {deadline!r}")
        self.run = run
        self.recorder = recorder
        self.deadline = deadline
        self.on_all_given_up = on_all_given_up
        self.on_back = on_back
        self.clients: list[Client] = []
        #: ``{host: Core-UUID}`` as last learnt
        self.core_uuids: dict[str, str] = {}
        #: ``{host: (wall start, reason)}`` of the hosts down now
        self.down: dict[str, tuple[float, str]] = {}
        self.given_up: set[str] = set()
        self.restarts = 0
        #: launches due while no host was up
        self.not_offered = 0
        self._episode_not_offered = 0
        self._lost: dict[str, list[str]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    # -- wiring -------------------------------------------------------------------
    async def watch(self, client: Client) -> None:
        """Follow ``client``'s connection (once) and learn its Core-UUID."""
        if client in self.clients or client.connection is None:
            return
        self.clients.append(client)
        conn = client.connection
        conn.add_handler("disconnect", lambda reason, reconnecting, c=client:
                         self._on_disconnect(c, reason, reconnecting))
        conn.add_handler("reconnect", lambda gap, c=client: self._on_reconnect(c, gap))
        core = await self._core_uuid(client)
        if core:
            self.core_uuids[client.address] = core

    @staticmethod
    async def _core_uuid(client: Client) -> str | None:
        try:
            body = (await client.api("global_getvar core_uuid", check=False, timeout=5.0)).strip()
        except (SwitchlabError, asyncio.TimeoutError) as exc:
            log.info("%s: no Core-UUID (%s)", client.address, exc)
            return None
        return body if body and not body.startswith("-ERR") else None

    def close(self) -> None:
        """Stop watching (the run is closing): timers off, the not-offered count logged."""
        self._closing = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        self._log_not_offered()

    @property
    def hosts_left(self) -> int:
        """Hosts not given up (up, or down but still being reconnected)."""
        return len(self.clients) - len(self.given_up)

    # -- launches with no host --------------------------------------------------------
    def missed_launch(self) -> bool:
        """A launch was due and no host is up: count it as not offered. Returns
        False when no host will come back (every one given up)."""
        if self.hosts_left <= 0:
            return False
        self.not_offered += 1
        self._episode_not_offered += 1
        return True

    def _log_not_offered(self) -> None:
        n, self._episode_not_offered = self._episode_not_offered, 0
        if n:
            self.run.log(NOT_OFFERED, f"{n} launches not offered: no host was up", count=n)

    # -- events of the connections ------------------------------------------------------
    def _on_disconnect(self, client: Client, reason: str, reconnecting: bool) -> None:
        if self._closing:
            return
        host = client.address
        lost = [r.call_id for r in self.recorder.open.values() if r.host == host]
        n = self.recorder.fail_host(host, HOST_DISCONNECTED)
        if host not in self.down:
            self.down[host] = (time.time(), reason)
            self._lost[host] = lost
            self.run.log(HOST_DOWN, reason, host=host, calls_lost=n, reconnecting=reconnecting)
            log.warning("host %s down (%s): %d calls in progress written as %s", host, reason, n,
                        HOST_DISCONNECTED)
        else:
            self._lost.setdefault(host, []).extend(lost)
        if not reconnecting:
            self._give_up(client, f"not reconnecting: {reason}")
        elif self.deadline is not None and host not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[host] = loop.call_later(
                self.deadline, self._give_up, client,
                f"still down after the {self.deadline:g} s deadline")

    def _on_reconnect(self, client: Client, gap: Gap) -> None:
        if self._closing:
            return
        task = asyncio.get_running_loop().create_task(self._back(client, gap))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _back(self, client: Client, gap: Gap) -> None:
        host = client.address
        timer = self._timers.pop(host, None)
        if timer is not None:
            timer.cancel()
        start, _reason = self.down.pop(host, (gap.start, gap.reason))
        lost = self._lost.pop(host, [])
        self._log_not_offered()
        old = self.core_uuids.get(host)
        core = await self._core_uuid(client)
        restarted = core is not None and old is not None and core != old
        if core:
            self.core_uuids[host] = core
        if restarted:
            self.restarts += 1
        elif lost:
            self._kill(client, lost)
        what = "restarted (new Core-UUID, its channels are gone)" if restarted else "reconnected"
        self.run.log(HOST_UP, f"{what} after {time.time() - start:.1f} s", host=host, start=start,
                     end=time.time(), restarted=restarted, core_uuid=core, attempts=gap.attempts)
        log.warning("host %s %s", host, what)
        self.on_back()

    def _kill(self, client: Client, call_ids: Iterable[str]) -> None:
        """Hang up calls written off while the socket was down (they may still be up)."""
        for call_id in call_ids:
            try:
                fut = client.api(f"uuid_kill {call_id}", check=False)
            except SwitchlabError:
                return
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    def _give_up(self, client: Client, why: str) -> None:
        host = client.address
        if host in self.given_up:
            return
        self._timers.pop(host, None)
        self.given_up.add(host)
        start, reason = self.down.pop(host, (time.time(), why))
        self._lost.pop(host, None)
        self.run.log(HOST_GIVEN_UP, f"host given up: {why}", host=host, start=start,
                     end=time.time(), reason=reason)
        log.error("host %s given up: %s", host, why)
        if client.connection is not None and not self._closing:
            task = asyncio.get_running_loop().create_task(client.connection.close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self.hosts_left <= 0:
            self._log_not_offered()
            self.run.log("error", "every host was given up; stopping")
            self.on_all_given_up()
