"""One shard of a distributed load test: the object a Dask worker holds (an
actor). It runs an ordinary :class:`~switchlab.originator.Originator` for its
hosts on an event loop of its own (a daemon thread of the worker process),
journals its rows in its own run directory as they finish, and hands them to
the client in batches (:meth:`Shard.poll`).

Every method is called by the client through the actor and returns plain,
picklable values. The worker's own loop is never blocked: the shard's loop
is a separate thread.
"""
from __future__ import annotations

import asyncio
import collections
import os
import threading
import time
from collections.abc import Coroutine, Mapping
from typing import Any

from ..client import Client
from ..errors import SwitchlabError
from ..loops import describe, new_event_loop
from ..measure import Run
from ..originator import Originator, loopback_destinations
from ..sim import DUTModel, Emulator

#: seconds a control call may take on the shard's loop before it is reported
CALL_TIMEOUT = 30.0
#: the emulated DUT's seed when none is given (shard i of a run seeds its own with this + i)
DEFAULT_SEED = 2026


class ShardRun(Run):
    """A shard's :class:`~switchlab.measure.Run`: every row gets the shard's
    ``shard`` / ``worker`` columns, is journaled, and is queued for the client."""

    def __init__(self, params: Mapping[str, Any], *, shard: str, worker: str,
                 directory: str | None, run_id: str) -> None:
        super().__init__(params, directory=directory, run_id=run_id)
        self.shard, self.worker = shard, worker
        self.outbox: collections.deque[dict[str, Any]] = collections.deque()
        self.sent_events = 0

    def add_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        full = super().add_row({**row, "shard": self.shard, "worker": self.worker})
        self.outbox.append(full)
        return full

    def take_rows(self) -> list[dict[str, Any]]:
        """The rows finished since the last call (thread-safe: deque pops)."""
        out = []
        while self.outbox:
            out.append(self.outbox.popleft())
        return out

    def take_events(self) -> list[dict[str, Any]]:
        """Event-log entries not handed out yet."""
        new = self.events[self.sent_events:]
        self.sent_events += len(new)
        return list(new)


class Shard:
    """A Dask actor: one shard's originator on its own loop (see the module doc)."""

    def __init__(self, index: int, worker: str, loop: str | None = None,
                 poll_ms: float | None = None) -> None:
        self.index, self.worker = index, worker
        # switchlab.loops: "auto", "uvloop" or "asyncio", paced or not
        self.loop = new_event_loop(loop, poll_ms)
        self._thread = threading.Thread(target=self.loop.run_forever,
                                        name=f"switchlab-shard-{index}", daemon=True)
        self._thread.start()
        self.emulator: Emulator | None = None
        self.orig: Originator | None = None
        self.run: ShardRun | None = None

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float = CALL_TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def pid(self) -> int:
        """The worker process id (tests kill it)."""
        return os.getpid()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the whole worker process so far: the
        shard's originator, its emulated hosts if any, and Dask itself."""
        t = os.times()
        return t.user + t.system

    def start_emulator(self, hosts: int, seed: int, password: str = "ClueCon") -> list[str]:
        """Start ``hosts`` emulated FreeSWITCH hosts in this worker; their ESL addresses."""
        dut = DUTModel(seed=seed)
        self.emulator = Emulator(hosts=hosts, port=0, password=password, dut=dut
                                 ).start_background()
        return ["{}:{}".format(*a) for a in self.emulator.esl_addresses]

    def setup(self, hosts: list[str], config: dict[str, Any]) -> dict[str, Any]:
        """Connect this shard's originator to ``hosts``; ``config`` holds the
        originator's keywords plus ``dest`` (None: each host calls itself back),
        ``dest_user``, ``run_dir`` and ``run_id``. Returns the shard's summary."""
        return dict(self._call(self._setup(hosts, dict(config))))

    async def _setup(self, hosts: list[str], config: dict[str, Any]) -> dict[str, Any]:
        password = config.get("password", "ClueCon")
        dest, user = config.pop("dest", None), config.pop("dest_user", "switchlab")
        run_dir, run_id = config.pop("run_dir", None), config.pop("run_id")
        if config.get("proxy") is None and self.emulator is not None:
            config["proxy"] = "{}:{}".format(*self.emulator.dut_address)
        clients = [Client(h, password=password) for h in hosts]
        if dest is None:
            for c in clients:
                await c.connect()
            dest = await loopback_destinations(clients, config.get("profile", "external"),
                                               user=user)
        self.run = ShardRun({"shard": self.index, "worker": self.worker, "hosts": hosts},
                            shard=str(self.index), worker=self.worker, directory=run_dir,
                            run_id=run_id)
        self.orig = Originator(clients, dest, run=self.run, **config)
        await self.orig.connect()
        return {"shard": self.index, "worker": self.worker, "hosts": hosts,
                "proxy": config.get("proxy"), "run_dir": run_dir,
                **describe(self.loop)}  # "loop": "uvloop" or "asyncio", and "poll_ms"

    def _orig(self) -> Originator:
        if self.orig is None:
            raise SwitchlabError(f"shard {self.index} is not set up; call setup() first")
        return self.orig

    def start(self, at: float) -> None:
        """Start launching at wall-clock time ``at`` (``time.time()``), the same
        instant on every shard, so their schedules line up."""
        orig = self._orig()

        async def later() -> None:
            await asyncio.sleep(max(0.0, at - time.time()))
            orig.start()
        self._call(self._spawn(later()))

    async def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.get_running_loop().create_task(coro)

    def retune(self, changes: dict[str, Any]) -> None:
        """Set ``rate``, ``limit``, ``duration``, ``max_offered`` or ``shape`` (this shard's part)."""
        orig = self._orig()

        async def apply() -> None:
            for name, value in changes.items():
                if name == "shape":
                    orig.set_shape(value)
                else:
                    setattr(orig, name, value)
        self._call(apply())

    def stop(self) -> None:
        """Stop launching; calls in progress end on their own."""
        orig = self._orig()

        async def stop() -> None:
            orig.stop()
        self._call(stop())

    def hupall(self) -> None:
        """Stop and hang up every call of this shard."""
        self._call(self._orig().hupall())

    def poll(self) -> dict[str, Any]:
        """``{"stats", "rows", "events"}``: the live counters, the rows finished
        and the event-log entries written since the last poll."""
        orig, run = self._orig(), self.run
        assert run is not None
        return {"stats": orig.stats(), "rows": run.take_rows(), "events": run.take_events()}

    def close(self, timeout: float = 30.0) -> dict[str, Any]:
        """Stop, let calls end (up to ``timeout``), close the originator, write
        the shard's run (``calls.parquet`` when it has a directory), stop its
        emulator; the last :meth:`poll`."""
        orig = self._orig()
        run = self._call(orig.close(timeout), timeout + 30.0)
        if run.directory is not None:
            run.save()
        last = {**self.poll(), "closed": True}
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        return last
