"""The load generator: offers calls at a rate, under a concurrency limit,
from one or many FreeSWITCH hosts, and records every attempt.

>>> orig = Originator(["127.0.0.1:8021"], dest="answer@127.0.0.1:5080", rate=1, limit=1,
...                   max_offered=1, duration=5)
>>> orig
<Originator: active-calls=0 state=INITIAL total-originated-sessions=0 rate=1 limit=1 max-offered=1 duration=5>
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..client import Client
from ..errors import SwitchlabError
from ..esl import Reconnect
from ..measure import CallRecord, Run, register_app_columns
from ..pool import ClientPool
from ..wire.validate import check_dest, check_profile, check_proxy
from .frontend import get_panel_backend
from .gcpolicy import LoadTestGC
from .holds import HoldTimers
from .hostwatch import HostWatch
from .launcher import Launcher
from .loadshapes import LoadShape
from .recorder import LOAD_TEST_EVENTS, Recorder
from .settings import app_class, app_weight
from .status import OriginatorState, describe, live_stats, mark_stopped, wait_stopped
from .tuning import LoadControls
from .weights import SmoothWeighted

log = logging.getLogger(__name__)


#: app id of calls made without any app loaded
DEFAULT_APP_ID = "originator"
#: how a host whose event socket drops is reconnected unless told otherwise
DEFAULT_RECONNECT = Reconnect(initial=0.1, maximum=2.0, attempt_timeout=2.0)


class Originator(LoadControls):
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

    Hosts whose event socket drops are reconnected (``reconnect``: True for
    :data:`DEFAULT_RECONNECT`, a :class:`~switchlab.esl.Reconnect`, or False)
    and their share of the load resumes when they are back; one still down
    after ``host_down_deadline`` seconds (None: never) is given up. Outages
    land in the run (``run.outages``); launches due while no host is up are
    counted as not offered (``stats()["not_offered"]``, ``run.not_offered``).

    The channels of calls without an app are handed to the recorder: their
    hosts' listeners keep no session or call for them (set
    ``orig.recorder.hand_over = False`` before ``start()`` to keep them).

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
                 run_dir: str | None = None, hangup_grace: float = 10.0,
                 reconnect: bool | Reconnect = True,
                 host_down_deadline: float | None = HostWatch.DEFAULT_DEADLINE) -> None:
        if isinstance(hosts, str):
            hosts = [hosts]
        # what goes into every dial string is checked once, before any call
        # (the same rules the dial-string builder applies: switchlab.wire.validate)
        if isinstance(dest, str):
            check_dest(dest)
        check_profile(profile)
        if proxy is not None:
            check_proxy(proxy)
        # clients made here subscribe only to what a load test needs: every event
        # costs FreeSWITCH and us serialising/parsing ~3 KB
        self.reconnect_policy: Reconnect | None = (
            DEFAULT_RECONNECT if reconnect is True else (reconnect or None))
        self.pool = hosts if isinstance(hosts, ClientPool) else ClientPool(
            list(hosts), password=password, events=LOAD_TEST_EVENTS,
            reconnect=self.reconnect_policy or False)
        self.dest = dest
        self.profile = profile
        self.proxy = proxy
        self.vars: dict[str, object] = dict(vars or {})
        self.timeout = timeout
        super().__init__(rate=rate, limit=limit, duration=duration, max_offered=max_offered,
                         shape=shape)
        self._apps_spec = dict(apps or {})
        for spec in self._apps_spec.values():
            register_app_columns(app_class(spec))  # before the run's store is built
        self._app_ids: list[str] = []
        self.state = OriginatorState.INITIAL
        params = {"hosts": [c.address for c in self.pool], "dest": dest if isinstance(dest, str) else repr(dest),
                  "profile": profile, "proxy": proxy, "rate": self._rate, "limit": self._limit,
                  "duration": self.duration, "max_offered": self._max_offered,
                  "shape": repr(self._shape), "apps": {k: app_weight(v) for k, v in self._apps_spec.items()},
                  "vars": {k: str(v) for k, v in self.vars.items()}, "timeout": timeout,
                  "reconnect": self.reconnect_policy is not None,
                  "host_down_deadline": host_down_deadline}
        self.run = run if run is not None else Run(params, directory=run_dir)
        self._gc = LoadTestGC()
        self.recorder = Recorder(self.run, grace=hangup_grace, on_answer=self._on_answer,
                                 on_done=self._on_done, hand_over=True)
        self._launcher = Launcher(self, on_stop=self._set_stopped)
        self.hosts = HostWatch(self.run, self.recorder, deadline=host_down_deadline,
                               on_all_given_up=self._set_stopped, on_back=self._launcher.poke)
        self._holds = HoldTimers(self.pool)
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False
        self.started_at: float | None = None
        self.stopped_at: float | None = None

    # -- LoadControls hooks ---------------------------------------------------
    def _retuned(self, **changes: Any) -> None:
        self.run.retune(**changes)

    def _reshaped(self, shape: LoadShape) -> None:
        self._launcher.reshape(shape)

    def _poke(self) -> None:
        self._launcher.poke()

    # -- counters -------------------------------------------------------------
    @property
    def launch_lags(self) -> list[float]:
        """Seconds late per launch (bounded, oldest kept)."""
        return self._launcher.lags

    @property
    def total_originated(self) -> int:
        """Calls launched so far."""
        return self._launcher.launched

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
        elapsed = ((self.stopped_at or time.monotonic()) - self.started_at) if self.started_at else 0.0
        out = live_stats(self.state, self.recorder, elapsed, self.rate)
        out.update(not_offered=self.hosts.not_offered, hosts_down=len(self.hosts.down),
                   hosts_given_up=len(self.hosts.given_up))
        return out

    def __repr__(self) -> str:
        return describe(active=self.count_active, state=self.state,
                        originated=self.total_originated, rate=self.rate, limit=self._limit,
                        max_offered=self._max_offered, duration=self.duration)

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
            for app_id, spec in self._apps_spec.items():
                for client in live:
                    client.load_app(app_class(spec), app_id)
                weights[app_id] = app_weight(spec)
            self._app_ids = list(weights) or [DEFAULT_APP_ID]
            self._launcher.picker = SmoothWeighted(weights or {DEFAULT_APP_ID: 1.0})
        for client in live:
            if self.reconnect_policy is not None:
                client.enable_reconnect(self.reconnect_policy)
            await self.hosts.watch(client)
            if client.listener is not None and not self.recorder.is_attached(client.listener):
                self.recorder.attach(client.listener)
            if callable(self.dest):
                self._launcher.dests[client.address] = self.dest(client)
        return self

    def _host_error(self, host: str, exc: BaseException | str) -> None:
        log.warning("host %s: %s", host, exc)
        self.run.log("host_error", str(exc), host=host)

    def start(self) -> Originator:
        """Start launching (needs a running event loop; connects first if needed)."""
        if self.state is OriginatorState.ORIGINATING:
            return self
        loop = asyncio.get_running_loop()
        self.state = OriginatorState.ORIGINATING
        self.started_at = self.started_at or time.monotonic()
        self.stopped_at = None
        self.run.log("state", OriginatorState.ORIGINATING.value)
        self._gc.start()
        self._task = self._launcher.start(loop)
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
        mark_stopped(self)
        self._gc.stop()
        self._launcher.poke()

    def stop(self) -> None:
        """Stop launching; calls in progress end on their own."""
        self._set_stopped()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def hupall(self, cause: str = "NORMAL_CLEARING") -> None:
        """Stop and hang up every call this originator made."""
        self.stop()
        self._holds.cancel_all()
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
        return await wait_stopped(self, timeout, calls=calls)

    async def close(self, timeout: float = 30.0) -> Run:
        """Stop, wait for calls (up to ``timeout``), write what is left, close
        the clients and the run's journals. Returns the run."""
        self._closing = True
        self.stop()
        self.hosts.close()
        if not await self.wait(timeout):
            await self.hupall()
            await self.wait(5.0)
        self.recorder.flush()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._holds.cancel_all()
        self.recorder.detach()
        await self.pool.close()
        self.run.close()
        return self.run

    def panel(self, **kwargs: Any) -> Any:
        """The live ipywidgets panel for this originator (see :mod:`switchlab.ui`;
        another front through :mod:`switchlab.originator.frontend`)."""
        return get_panel_backend().panel(self, **kwargs)

    # -- per-call -------------------------------------------------------------
    def _on_answer(self, rec: CallRecord) -> None:
        self._holds.start(rec, self.duration)

    def _on_done(self, rec: CallRecord, row: dict[str, Any]) -> None:
        self._holds.cancel(rec.call_id)
        self._launcher.slot_freed()

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.recorder.sweep()


async def get_originator(hosts: ClientPool | Iterable[str | Client] | str,
                         dest: str | Callable[[Client], str], **kwargs: Any) -> Originator:
    """A connected :class:`Originator` (switchio's ``get_originator``), ready to ``start()``."""
    return await Originator(hosts, dest, **kwargs).connect()
