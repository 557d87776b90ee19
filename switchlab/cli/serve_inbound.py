"""``switchlab serve HOST...``: apps loaded on a pool of inbound connections."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..measure.run import Run
from ..outbound.record import CallRows
from ..pool import ClientPool


class InboundServing:
    """The counters of an inbound ``serve`` (calls seen, active, done) and its stop."""

    def __init__(self, pool: ClientPool, rows: list[CallRows], run: Run) -> None:
        self.pool = pool
        self.rows = rows
        self.run = run
        self.failed = 0

    @property
    def completed(self) -> int:
        return len(self.run)

    @property
    def active(self) -> int:
        return self.pool.count_calls()

    def status(self) -> str:
        return (f"inbound {len(self.pool)} host(s): {self.active} active, "
                f"{self.completed} done")

    def stop(self) -> None:
        return None

    async def hupall(self) -> None:
        await self.pool.hupall()


@asynccontextmanager
async def inbound_calls(addresses: list[tuple[str, int]], password: str, classes: list[Any],
                        run: Run) -> AsyncIterator[InboundServing]:
    """Connect to ``addresses``, load ``classes`` as the default apps, record each call."""
    pool = ClientPool([f"{h}:{p}" if ":" not in h else f"[{h}]:{p}" for h, p in addresses],
                      password=password)
    await pool.connect()
    try:
        names = "+".join(c.__name__ for c in classes)
        rows = [CallRows(c.listener, run, "inbound", names) for c in pool.clients
                if c.listener is not None]
        for cls in classes:
            pool.load_app(cls, "default")
        yield InboundServing(pool, rows, run)
    finally:
        await pool.close()
