"""Hold timers: each answered call is hung up (``uuid_kill`` on its host)
after its hold time, unless it ended before."""
from __future__ import annotations

import asyncio
import heapq
import itertools

from ..client import Client
from ..measure import CallRecord
from ..pool import ClientPool
from .corks import cork, uncork


class HoldTimers:
    """The hold of every answered call of ``pool``'s hosts, on one timer.

    Each call's deadline goes into a heap; one loop timer is armed for the
    earliest and, when it fires, ends every call that is due, then re-arms for
    the next (no timer object per call; a call that ends first is forgotten
    in a dict, its heap entry skipped)."""

    def __init__(self, pool: ClientPool) -> None:
        self.pool = pool
        self._holds: dict[str, tuple[CallRecord, float]] = {}  # call id -> (record, deadline)
        self._due: list[tuple[float, int, str]] = []  # (deadline, order, call id), a heap
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None  # the timer's loop
        self._clients: dict[str, Client] = {}  # by address

    def __len__(self) -> int:
        return len(self._holds)

    def start(self, rec: CallRecord, hold: float) -> None:
        """Hang ``rec``'s call up in ``hold`` seconds (needs a running loop)."""
        loop = self._loop
        if loop is None or self._timer is None:  # else the armed timer's (no lookup per call)
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + hold
        self._holds[rec.call_id] = (rec, deadline)
        heapq.heappush(self._due, (deadline, next(self._order), rec.call_id))
        timer = self._timer
        if timer is None or deadline < self._timer_at:
            if timer is not None:
                timer.cancel()
            self._timer_at = deadline
            self._timer = loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = self._loop
        assert loop is not None, "fired by the loop start() armed it on"
        now = loop.time() + 1e-6  # the loop may run a timer up to its clock resolution early
        due, holds = self._due, self._holds
        corked = cork(self.pool)  # the uuid_kill of every due call: one send per host
        try:
            while due and due[0][0] <= now:
                _, _, call_id = heapq.heappop(due)
                held = holds.get(call_id)
                if held is not None and held[1] <= now:  # else ended, or held again later
                    self._expire(held[0])
        finally:
            uncork(corked)
        while due and due[0][2] not in holds:  # entries of calls that ended
            heapq.heappop(due)
        if due:
            self._timer_at = due[0][0]
            self._timer = loop.call_at(self._timer_at, self._fire)

    def _expire(self, rec: CallRecord) -> None:
        self._holds.pop(rec.call_id, None)
        client = self._clients.get(rec.host)  # type: ignore[arg-type]
        if client is None or client.address != rec.host:
            self._clients = {c.address: c for c in self.pool}
            client = self._clients.get(rec.host)  # type: ignore[arg-type]
        if client is None or not client.connected:
            return
        rec.hung_up_locally()
        client.api_forget(f"uuid_kill {rec.call_id}")  # no future, no callback

    def cancel(self, call_id: str) -> None:
        """The call ended: forget its hold."""
        self._holds.pop(call_id, None)

    def cancel_all(self) -> None:
        self._holds.clear()
        self._due.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
