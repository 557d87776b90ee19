"""The load generator: offers calls at a rate, under a concurrency limit,
from one or many FreeSWITCH hosts, and records every attempt.

>>> orig = Originator(["127.0.0.1:8021"], dest="answer@127.0.0.1:5080", rate=1, limit=1,
...                   max_offered=1, duration=5)
>>> orig
<Originator: active-calls=0 state=INITIAL total-originated-sessions=0 rate=1 limit=1 max-offered=1 duration=5>
"""
from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..client import Client
from ..errors import CommandError, SwitchlabError
from ..loadshapes import Constant, LaunchSchedule, LoadShape, as_shape
from ..measure import CallRecord, Run
from ..pool import ClientPool
from .recorder import LOAD_TEST_EVENTS, Recorder
from .weights import SmoothWeighted

log = logging.getLogger(__name__)


#: app id of calls made without any app loaded
DEFAULT_APP_ID = "originator"


class State(enum.Enum):
    INITIAL = "INITIAL"
    ORIGINATING = "ORIGINATING"
    STOPPED = "STOPPED"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class Originator:
    """Offer calls to a device under test and measure each one.

    ``hosts``: a :class:`~switchlab.pool.ClientPool`, clients, or ESL
    addresses (``"host[:port]"``). ``dest``: the SIP destination
    (``user@host:port``) or a callable ``f(client) -> dest`` (e.g. to call each
    host's own SIP address back through ``proxy``). ``rate`` (calls/s) may be
    replaced by a load ``shape`` (:mod:`switchlab.loadshapes`). ``limit``:
    concurrent calls; ``duration``: seconds each answered call is held
    (default: Erlang's ``limit / rate``); ``max_offered``: stop after that many
    attempts (default: no cap). ``apps``: ``{app_id: (AppClass, weight)}`` or
    ``{app_id: AppClass}`` (weight 1).

    ``start()`` returns at once; launching runs on the event loop (a Jupyter
    kernel's, or ``await orig.wait()``). ``stop()`` stops launching and lets
    calls end on their own; ``hupall()`` hangs everything up.
    """

    def __init__(self, hosts: ClientPool | Iterable[str | Client] | str, dest: str | Callable[[Client], str],
                 *, profile: str = "external", proxy: str | None = None, rate: float = 1.0,
                 limit: int = 1, duration: float | None = None, max_offered: int | None = None,
                 shape: LoadShape | Callable[[float], float] | None = None,
                 apps: Mapping[str, Any] | None = None, vars: Mapping[str, object] | None = None,
                 timeout: float = 60, password: str = "ClueCon", run: Run | None = None,
                 run_dir: str | None = None, hangup_grace: float = 10.0) -> None:
        if isinstance(hosts, str):
            hosts = [hosts]
        # clients made here subscribe only to what a load test needs: every event
        # costs FreeSWITCH and us serialising/parsing ~3 KB
        self.pool = hosts if isinstance(hosts, ClientPool) else ClientPool(
            list(hosts), password=password, events=LOAD_TEST_EVENTS)
        self.dest = dest
        self.profile = profile
        self.proxy = proxy
        self.vars = dict(vars or {})
        self.timeout = timeout
        self._check_limit(limit)
        self._limit = int(limit)
        self._rate = float(rate)
        self._shape: LoadShape = as_shape(shape) if shape is not None else Constant(self._rate)
        self._duration = self._check_duration(duration)
        self._max_offered = self._check_max(max_offered)
        self._t0: float | None = None
        self._apps_spec = dict(apps or {})
        self._app_ids: list[str] = []
        self._picker: SmoothWeighted | None = None
        self.state = State.INITIAL
        params = {"hosts": [c.address for c in self.pool], "dest": dest if isinstance(dest, str) else repr(dest),
                  "profile": profile, "proxy": proxy, "rate": self._rate, "limit": self._limit,
                  "duration": self.duration, "max_offered": self._max_offered,
                  "shape": repr(self._shape), "apps": {k: self._weight(v) for k, v in self._apps_spec.items()},
                  "vars": {k: str(v) for k, v in self.vars.items()}, "timeout": timeout}
        self.run = run if run is not None else Run(params, directory=run_dir)
        self.recorder = Recorder(self.run, grace=hangup_grace, on_answer=self._on_answer,
                                 on_done=self._on_done)
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._hangups: dict[str, asyncio.TimerHandle] = {}
        self._schedule: LaunchSchedule | None = None
        self._last_due: float | None = None
        self._rr = 0
        self._bad_hosts: set[str] = set()
        self._dests: dict[str, str] = {}
        self.launch_lags: list[float] = []  # seconds late per launch (bounded, newest kept)
        self.total_originated = 0
        self._closing = False
        self.started_at: float | None = None
        self.stopped_at: float | None = None

    # -- parameters ----------------------------------------------------------
    @staticmethod
    def _check_limit(limit: Any) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"limit must be a whole number of concurrent calls >= 1, got {limit!r}")

    @staticmethod
    def _check_duration(duration: Any) -> float | None:
        if duration is None:
            return None
        if not isinstance(duration, (int, float)) or not duration >= 0:
            raise ValueError(f"duration must be seconds >= 0 (or None for limit/rate), got {duration!r}")
        return float(duration)

    @staticmethod
    def _check_max(max_offered: Any) -> int | None:
        if max_offered is None:
            return None
        if not isinstance(max_offered, int) or isinstance(max_offered, bool) or max_offered < 0:
            raise ValueError(f"max_offered must be a whole number >= 0 (or None), got {max_offered!r}")
        return max_offered

    @staticmethod
    def _weight(spec: Any) -> float:
        return float(spec[1]) if isinstance(spec, tuple) else 1.0

    @property
    def rate(self) -> float:
        """Target calls/s now (from the load shape when one is set)."""
        if self._t0 is None:
            return self._shape.rate(0.0)
        return self._shape.rate(time.monotonic() - self._t0)

    @rate.setter
    def rate(self, value: float) -> None:
        self.set_shape(Constant(float(value)))
        self._rate = float(value)

    def set_shape(self, shape: LoadShape | Callable[[float], float] | float) -> None:
        """Replace the load shape (live: applies from the next launch).

        A shape's time axis starts when the originator started."""
        new = as_shape(shape)
        self._shape = new
        self.run.retune(shape=repr(new))
        if self._schedule is not None:
            self._schedule.shape = new
            now = time.monotonic()
            self._schedule.retune(self._last_due if self._last_due is not None else now, now)
            self._poke()

    @property
    def shape(self) -> LoadShape:
        return self._shape

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._check_limit(value)
        self._limit = int(value)
        self.run.retune(limit=self._limit)
        self._poke()

    @property
    def duration(self) -> float:
        """Seconds each answered call is held: explicit, or Erlang's ``limit / rate``."""
        if self._duration is not None:
            return self._duration
        rate = self.rate
        return self._limit / rate if rate > 0 else 0.0

    @duration.setter
    def duration(self, value: float | None) -> None:
        self._duration = self._check_duration(value)
        self.run.retune(duration=self._duration)

    @property
    def explicit_duration(self) -> float | None:
        """The duration set by the user, or None when it follows ``limit / rate``."""
        return self._duration

    @property
    def elapsed(self) -> float | None:
        """Seconds since the load shape's clock started (None before the first start)."""
        return None if self._t0 is None else time.monotonic() - self._t0

    @property
    def max_offered(self) -> int | None:
        return self._max_offered

    @max_offered.setter
    def max_offered(self, value: int | None) -> None:
        self._max_offered = self._check_max(value)
        self.run.retune(max_offered=self._max_offered)
        self._poke()

    # -- counters -------------------------------------------------------------
    @property
    def count_active(self) -> int:
        """Calls in progress (launched, not finished)."""
        return self.recorder.active

    @property
    def count_answered_now(self) -> int:
        """Calls answered and still up (carried traffic in Erlangs)."""
        return self.recorder.answered_open

    def stats(self) -> dict[str, Any]:
        """Live counters: state, active, offered, answered, failed, achieved cps, ASR."""
        rec = self.recorder
        elapsed = ((self.stopped_at or time.monotonic()) - self.started_at) if self.started_at else 0.0
        finished = rec.answered + rec.failed
        return {"state": self.state.value, "active": rec.active, "offered": rec.offered,
                "answered": rec.answered, "failed": rec.failed, "erlangs": rec.answered_open,
                "achieved_cps": rec.offered / elapsed if elapsed > 0 else 0.0,
                "target_rate": self.rate, "asr": rec.answered / finished if finished else None,
                "elapsed": elapsed}

    def __repr__(self) -> str:
        mo = "inf" if self._max_offered is None else str(self._max_offered)
        return (f"<Originator: active-calls={self.count_active} state={self.state.value} "
                f"total-originated-sessions={self.total_originated} rate={_num(self.rate)} "
                f"limit={self._limit} max-offered={mo} duration={_num(round(self.duration, 3))}>")

    # -- lifecycle -------------------------------------------------------------
    async def connect(self) -> Originator:
        """Connect every host, load the apps and the recorder. A host that
        fails is reported in the run's event log and skipped; if none is left,
        the error of the first one is raised."""
        errors: list[tuple[str, BaseException]] = []
        for client in self.pool:
            if client.connected:
                continue
            try:
                await client.connect()
            except SwitchlabError as exc:
                errors.append((client.address, exc))
                self._host_error(client.address, exc)
        live = [c for c in self.pool if c.connected]
        for client in live:
            await client.subscribe(LOAD_TEST_EVENTS)
        if not live:
            raise errors[0][1] if errors else SwitchlabError("no hosts to originate from")
        if not self._app_ids:
            weights: dict[str, float] = {}
            for app_id, spec in (self._apps_spec or {}).items():
                app = spec[0] if isinstance(spec, tuple) else spec
                for client in live:
                    client.load_app(app, app_id)
                weights[app_id] = self._weight(spec)
            self._app_ids = list(weights) or [DEFAULT_APP_ID]
            self._picker = SmoothWeighted(weights or {DEFAULT_APP_ID: 1.0})
        for client in live:
            if client.listener is not None and not self.recorder.is_attached(client.listener):
                self.recorder.attach(client.listener)
                client.listener.conn.add_handler("disconnect", self._disconnect_handler(client))
            if callable(self.dest):
                self._dests[client.address] = self.dest(client)
        return self

    def _disconnect_handler(self, client: Client) -> Callable[..., None]:
        def on_disconnect(reason: str, reconnecting: bool) -> None:
            if self._closing:
                return
            self._host_error(client.address, f"disconnected: {reason}")
            n = self.recorder.fail_host(client.address)
            if n:
                self.run.log("host_error", f"{n} calls in progress lost", host=client.address)
        return on_disconnect

    def _host_error(self, host: str, exc: BaseException | str) -> None:
        self._bad_hosts.add(host)
        log.warning("host %s: %s", host, exc)
        self.run.log("host_error", str(exc), host=host)

    def start(self) -> Originator:
        """Start launching (needs a running event loop; connects first if needed)."""
        if self.state is State.ORIGINATING:
            return self
        loop = asyncio.get_running_loop()
        self.state = State.ORIGINATING
        self.started_at = self.started_at or time.monotonic()
        self.stopped_at = None
        self.run.log("state", State.ORIGINATING.value)
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._launch_loop())
        self._task.add_done_callback(self._loop_done)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = loop.create_task(self._sweep_loop())
        return self

    def _loop_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("originator stopped by an error: %r", exc)
            self.run.log("error", repr(exc))
            self._set_stopped()

    def _set_stopped(self) -> None:
        if self.state is not State.STOPPED:
            self.state = State.STOPPED
            self.stopped_at = time.monotonic()
            self.run.log("state", State.STOPPED.value)
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        """Stop launching; calls in progress end on their own."""
        self._set_stopped()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def hupall(self, cause: str = "NORMAL_CLEARING") -> None:
        """Stop and hang up every call this originator made."""
        self.stop()
        for handle in self._hangups.values():
            handle.cancel()
        self._hangups.clear()
        for call_id in list(self.recorder.open):
            self.recorder.hung_up_locally(call_id)
        for client in self.pool:
            if client.connected:
                for app_id in self._app_ids:
                    try:
                        await client.hupall(app_id, cause)
                    except SwitchlabError as exc:
                        self._host_error(client.address, exc)

    async def wait(self, timeout: float | None = None, *, calls: bool = True) -> bool:
        """Wait until launching stopped (and, with ``calls``, every call is
        over and written). Returns False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.state is State.STOPPED and (not calls or self.recorder.active == 0):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)

    async def close(self, timeout: float = 30.0) -> Run:
        """Stop, wait for calls (up to ``timeout``), write what is left, close
        the clients and the run's journals. Returns the run."""
        self._closing = True
        self.stop()
        if not await self.wait(timeout):
            await self.hupall()
            await self.wait(5.0)
        self.recorder.flush()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for handle in self._hangups.values():
            handle.cancel()
        self._hangups.clear()
        self.recorder.detach()
        await self.pool.close()
        self.run.close()
        return self.run

    def panel(self, **kwargs: Any) -> Any:
        """The live ipywidgets panel for this originator (see :mod:`switchlab.ui`)."""
        from ..ui import panel

        return panel(self, **kwargs)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- launching -------------------------------------------------------------
    async def _sleep_until(self, when: float) -> None:
        assert self._wake is not None
        delay = when - time.monotonic()
        if delay <= 0:
            return
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except asyncio.TimeoutError:
            pass

    async def _launch_loop(self) -> None:
        if not any(c.connected for c in self.pool) or not self._app_ids:
            await self.connect()
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        sched = self._schedule = LaunchSchedule(self._shape, t0=self._t0)
        sched.rebase(now)
        while self.state is State.ORIGINATING:
            if self._max_offered is not None and self.recorder.offered >= self._max_offered:
                break
            due = sched.peek()
            if due is None:
                break  # the load shape ended
            now = time.monotonic()
            if due > now:
                await self._sleep_until(due)
                continue  # re-check: a retune or stop may have happened
            if self.recorder.active >= self._limit:
                await self._sleep_until(now + 0.005)
                sched.rebase(time.monotonic())
                continue
            sched.pop()
            self._last_due = due
            self._launch(due)
        self._set_stopped()

    def _pick_client(self) -> Client | None:
        clients = self.pool.clients
        n = len(clients)
        for _ in range(n):
            client = clients[self._rr % n]
            self._rr += 1
            if client.connected:
                return client
        return None

    def _launch(self, due: float) -> None:
        client = self._pick_client()
        if client is None:
            self.run.log("error", "no connected host left; stopping")
            self._set_stopped()
            return
        app_id = self._picker.next() if self._picker is not None else None
        dest = self._dests.get(client.address) or (self.dest if isinstance(self.dest, str) else
                                                   self.dest(client))
        now_wall, now_mono = time.time(), time.monotonic()
        lag = now_mono - due
        if len(self.launch_lags) < 1_000_000:
            self.launch_lags.append(lag)
        try:
            job = client.originate(dest, profile=self.profile, proxy=self.proxy, app_id=app_id,
                                   vars=self.vars, timeout=self.timeout)
        except CommandError as exc:
            self.run.log("error", f"bad originate parameters: {exc}")
            self._set_stopped()
            raise
        record = CallRecord(job.call_id or job.uuid, launch=now_wall, launch_monotonic=now_mono,
                            run_id=self.run.run_id, host=client.address, app=app_id, dest=dest,
                            active_calls=float(self.recorder.active),
                            erlangs=float(self.recorder.answered_open), target_rate=self.rate)
        self.recorder.launched(record, job)
        self.total_originated += 1

    # -- per-call -------------------------------------------------------------
    def _on_answer(self, rec: CallRecord) -> None:
        duration = self.duration
        loop = asyncio.get_running_loop()
        self._hangups[rec.call_id] = loop.call_later(duration, self._hangup, rec)

    def _hangup(self, rec: CallRecord) -> None:
        self._hangups.pop(rec.call_id, None)
        client = next((c for c in self.pool if c.address == rec.host), None)
        if client is None or not client.connected:
            return
        rec.hung_up_locally()
        fut = client.api(f"uuid_kill {rec.call_id}", check=False)
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    def _on_done(self, rec: CallRecord, row: dict[str, Any]) -> None:
        handle = self._hangups.pop(rec.call_id, None)
        if handle is not None:
            handle.cancel()
        self._poke()

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.recorder.sweep()


async def get_originator(hosts: ClientPool | Iterable[str | Client] | str,
                         dest: str | Callable[[Client], str], **kwargs: Any) -> Originator:
    """A connected :class:`Originator` (switchio's ``get_originator``), ready to ``start()``."""
    return await Originator(hosts, dest, **kwargs).connect()
