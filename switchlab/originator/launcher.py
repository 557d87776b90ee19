"""The launch loop of an originator: calls leave on the load shape's
absolute schedule (:class:`~switchlab.originator.loadshapes.LaunchSchedule`),
under the concurrency limit and the cap on offered calls, round-robin over
the connected hosts (a host that is down is skipped), each one handed to the
recorder. A launch due while no host is up is counted as not offered.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..client import Client
from ..errors import CommandError, Disconnected
from ..measure import CallRecord, Run
from ..pool import ClientPool
from .corks import cork, uncork
from .hostwatch import HostWatch
from .loadshapes import LaunchSchedule, LoadShape
from .recorder import Recorder
from .status import OriginatorState
from .weights import SmoothWeighted


class LaunchTarget(Protocol):
    """What the launcher reads from its originator."""

    pool: ClientPool
    hosts: HostWatch
    recorder: Recorder
    run: Run
    state: OriginatorState
    dest: str | Callable[[Client], str]
    profile: str
    proxy: str | None
    vars: dict[str, object]
    timeout: float

    @property
    def limit(self) -> int: ...
    @property
    def max_offered(self) -> int | None: ...
    @property
    def shape(self) -> LoadShape: ...
    @property
    def rate(self) -> float: ...
    def start_clock(self, now: float) -> float: ...
    async def connect(self) -> Any: ...


class Launcher:
    """Launches ``target``'s calls; ``on_stop()`` is called when it stops
    launching by itself (shape over, cap reached, no host left, bad parameters).

    ``picker`` chooses each call's app id; ``dests`` holds each host's
    destination (``{address: dest}``, else ``target.dest``); ``lags`` the
    seconds each launch was late (bounded); ``launched`` the count."""

    #: at most this many launch lags are kept
    MAX_LAGS = 1_000_000
    #: how often a launcher blocked by the concurrency limit looks again, seconds
    LIMIT_POLL = 0.005

    def __init__(self, target: LaunchTarget, on_stop: Callable[[], None]) -> None:
        self.target = target
        self.on_stop = on_stop
        self.picker: SmoothWeighted | None = None
        self.dests: dict[str, str] = {}
        self.schedule: LaunchSchedule | None = None
        self.last_due: float | None = None
        self.lags: list[float] = []
        self.launched = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None  # resolved when launching stops
        self._wakeup: asyncio.Handle | None = None  # the timer (or soon-call) of the next step
        self._soon = False  # the next step is due at once (poked)
        self._limited = False  # sleeping because the concurrency limit is reached
        self._rr = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[None]:
        """Run the launch loop on ``loop``: a task that ends when launching stops."""
        self._loop = loop
        return loop.create_task(self._run())

    def poke(self) -> None:
        """Wake the loop: a parameter changed or launching stopped."""
        wakeup = self._wakeup
        if wakeup is not None and not self._soon:  # asleep: look again at once
            wakeup.cancel()
            self._soon = True
            self._wakeup = self._loop.call_soon(self._step)  # type: ignore[union-attr]

    def slot_freed(self) -> None:
        """A call ended: wake the loop only if it waits for a free slot."""
        if self._limited:
            self.poke()

    def reshape(self, shape: LoadShape) -> None:
        """Apply a new load shape from the next launch."""
        if self.schedule is None:
            return
        self.schedule.shape = shape
        now = time.monotonic()
        self.schedule.retune(self.last_due if self.last_due is not None else now, now)
        self.poke()

    async def _run(self) -> None:
        target = self.target
        # connect when never connected, or when every watched host was given up; a host
        # that went down after connect() (even before start()) is the host watch's:
        # launches are not offered until it is back or given up
        if self.picker is None or target.hosts.hosts_left <= 0:
            await target.connect()
        now = time.monotonic()
        sched = self.schedule = LaunchSchedule(target.shape, t0=target.start_clock(now))
        sched.rebase(now)
        assert self._loop is not None
        done = self._done = self._loop.create_future()
        # Launches run in timer callbacks (one timer per sleep, no task wake-up per launch);
        # this task only waits for the end.
        self._step()
        try:
            await done
        finally:
            self._done = None
            if self._wakeup is not None:
                self._wakeup.cancel()
                self._wakeup = None
            self._limited = False
        self.on_stop()

    def _step(self) -> None:
        """Launch every call that is due, then sleep until the next one (a timer)."""
        self._wakeup = None
        self._soon = False
        corked = cork(self.target.pool.clients)  # this step's launches: one send per host
        try:
            self._launch_due()
        except Exception as exc:
            if self._done is not None and not self._done.done():
                self._done.set_exception(exc)
        finally:
            uncork(corked)

    def _launch_due(self) -> None:
        target = self.target
        sched = self.schedule
        assert sched is not None
        recorder = target.recorder
        if self._limited:  # woke from a wait for a free slot (or a poke)
            self._limited = False
            sched.rebase(time.monotonic())
        while target.state is OriginatorState.ORIGINATING:
            cap = target.max_offered
            if cap is not None and recorder.offered >= cap:
                break
            due = sched.peek()
            if due is None:
                break  # the load shape ended
            now = time.monotonic()
            if due > now:
                self._sleep(due - now)  # a retune or stop re-checks at the wake-up
                return
            if sched.paused:  # rate 0 up to ``due``: look again from now, never spin
                sched.rebase(now)
                self._sleep(sched.PAUSE_POLL)
                return
            if recorder.active >= target.limit:
                self._limited = True
                self._sleep(self.LIMIT_POLL)
                return
            sched.pop()
            self.last_due = due
            self._launch(due)
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _sleep(self, delay: float) -> None:
        self._wakeup = self._loop.call_later(delay, self._step)  # type: ignore[union-attr]

    def _pick_client(self) -> Client | None:
        clients = self.target.pool.clients
        n = len(clients)
        for _ in range(n):
            client = clients[self._rr % n]
            self._rr += 1
            if client.connected:
                return client
        return None

    def _launch(self, due: float) -> None:
        target = self.target
        app_id = self.picker.next() if self.picker is not None else None
        for _ in range(len(target.pool.clients)):
            client = self._pick_client()
            if client is None:
                break
            address = client.address
            dest = self.dests.get(address) or (
                target.dest if isinstance(target.dest, str) else target.dest(client))
            now_wall, now_mono = time.time(), time.monotonic()
            try:
                job = client.originate(dest, profile=target.profile, proxy=target.proxy,
                                       app_id=app_id, vars=target.vars, timeout=target.timeout)
            except CommandError as exc:
                target.run.log("error", f"bad originate parameters: {exc}")
                self.on_stop()
                raise
            except Disconnected:
                continue  # the socket is closing under us: that host is down, try the next
            break
        else:
            client = None
        if client is None:
            if target.hosts.missed_launch():
                return  # every host is down, some may come back: counted as not offered
            target.run.log("error", "no connected host left; stopping")
            self.on_stop()
            return
        if len(self.lags) < self.MAX_LAGS:
            self.lags.append(now_mono - due)
        recorder = target.recorder
        record = CallRecord(job.call_id or job.uuid, launch=now_wall, launch_monotonic=now_mono,
                            run_id=target.run.run_id, host=address, app=app_id, dest=dest,
                            active_calls=float(recorder.active),
                            erlangs=float(recorder.answered_open), target_rate=target.rate)
        recorder.launched(record, job)
        self.launched += 1

