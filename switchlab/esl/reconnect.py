"""``Reconnecting``: bring a lost inbound connection back, and record the outage as a ``Gap``."""
from __future__ import annotations

import asyncio
import logging
import time

from ..errors import AuthenticationError, CommandFailed, ConnectionFailed, Disconnected
from .lifecycle import ConnectionState, Gap, Reconnect

__all__ = ["Reconnecting"]

log = logging.getLogger(__name__)

_monotonic = time.monotonic


class Reconnecting:
    """The reconnect loop of :class:`~.inbound.Connection` (a mixin: it uses the
    connection's ``_open``, ``_restore``, ``_notify`` and state)."""

    address: str
    state: ConnectionState
    closed_reason: str | None
    gaps: list[Gap]
    reconnect_policy: Reconnect | None
    _user_closed: bool
    _closed_event: asyncio.Event

    async def _open(self, timeout: float) -> None:
        raise NotImplementedError

    async def _restore(self) -> None:
        raise NotImplementedError

    def _notify(self, kind: str, *args: object) -> None:
        raise NotImplementedError

    def _finish_close(self, reason: str) -> None:
        self.closed_reason = reason
        self.state = ConnectionState.CLOSED
        self._closed_event.set()

    def _give_up(self, reason: str) -> None:
        self._finish_close(reason)
        log.error("%s: %s", self.address, reason)
        self._notify("disconnect", reason, False)

    async def _reconnect(self, reason: str) -> None:
        policy = self.reconnect_policy or Reconnect()
        start_wall, start_mono = time.time(), _monotonic()
        delay = policy.initial
        attempts = 0
        while not self._user_closed:
            attempts += 1
            try:
                await self._open(policy.attempt_timeout)
                await self._restore()
            except AuthenticationError as exc:
                self._give_up(f"{reason}; reconnect refused: {exc}")
                return
            except (ConnectionFailed, Disconnected, CommandFailed, OSError) as exc:
                log.info("%s: reconnect attempt %d failed: %s", self.address, attempts, exc)
                if policy.max_time is not None and _monotonic() - start_mono > policy.max_time:
                    self._give_up(f"{reason}; gave up reconnecting after {attempts} attempts "
                                  f"over {policy.max_time:g} s")
                    return
                await asyncio.sleep(delay)
                delay = policy.next_delay(delay)
                continue
            gap = Gap(start_wall, time.time(), start_mono, _monotonic(), reason, attempts)
            self.gaps.append(gap)
            self.state = ConnectionState.CONNECTED
            self.closed_reason = None
            log.warning("%s: reconnected after %.3f s without a connection (%s to %s): events of "
                        "that interval are lost", self.address, gap.duration,
                        time.strftime("%H:%M:%S", time.localtime(gap.start)),
                        time.strftime("%H:%M:%S", time.localtime(gap.end)))
            self._notify("reconnect", gap)
            return
