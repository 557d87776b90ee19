"""Hold timers: each answered call is hung up (``uuid_kill`` on its host)
after its hold time, unless it ended before."""
from __future__ import annotations

import asyncio

from ..client import Client
from ..measure import CallRecord
from ..pool import ClientPool


class HoldTimers:
    """One timer per answered call of ``pool``'s hosts."""

    def __init__(self, pool: ClientPool) -> None:
        self.pool = pool
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._clients: dict[str, Client] = {}  # by address

    def __len__(self) -> int:
        return len(self._timers)

    def start(self, rec: CallRecord, hold: float) -> None:
        """Hang ``rec``'s call up in ``hold`` seconds (needs a running loop)."""
        loop = asyncio.get_running_loop()
        self._timers[rec.call_id] = loop.call_later(hold, self._expire, rec)

    def _expire(self, rec: CallRecord) -> None:
        self._timers.pop(rec.call_id, None)
        client = self._clients.get(rec.host)  # type: ignore[arg-type]
        if client is None or client.address != rec.host:
            self._clients = {c.address: c for c in self.pool}
            client = self._clients.get(rec.host)  # type: ignore[arg-type]
        if client is None or not client.connected:
            return
        rec.hung_up_locally()
        client.api_forget(f"uuid_kill {rec.call_id}")  # no future, no callback

    def cancel(self, call_id: str) -> None:
        """The call ended: forget its timer."""
        handle = self._timers.pop(call_id, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
