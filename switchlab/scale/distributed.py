"""`DistributedOriginator`: one load test over many Dask workers, one run.

::

    dorig = DistributedOriginator(hosts, workers=2, rate=400, limit=800, run_dir="runs/r1")
    await dorig.connect()            # a Shard actor per worker, each with its hosts
    dorig.start()                    # every shard starts at the same wall-clock instant
    dorig.rate = 600                 # split by shard capacity, sent to every shard
    await dorig.wait(60)
    run = await dorig.close()        # one run: every shard's rows, `shard`/`worker` columns

The design (actors, journals, what happens when a worker dies) is in
docs/SCALE_OUT.md.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import distributed

from ..errors import SwitchlabError
from ..measure import Run
from ..originator.frontend import get_panel_backend
from ..originator.hostwatch import HostWatch
from ..originator.loadshapes import LoadShape
from ..originator.settings import app_weight
from ..originator.setup import DEFAULT_USER
from ..originator.status import OriginatorState, mark_stopped, wait_stopped
from ..originator.tuning import LoadControls
from .cluster import Cluster, open_cluster
from .handle import CONTROL_TIMEOUT, ShardHandle, summarize
from .shard import DEFAULT_SEED, Shard
from .split import Scaled, aggregate_stats, shares, split_count, split_hosts

log = logging.getLogger(__name__)


class DistributedOriginator(LoadControls):
    """An :class:`~switchlab.originator.Originator` per Dask worker (a shard),
    driven as one: the same parameters (rate, limit and ``max_offered`` split
    by shard capacity), controls (retune, ``stop``, ``hupall``), ``stats()``
    and one :class:`~switchlab.measure.Run`.

    ``hosts``: ESL addresses, dealt round robin to the shards; or
    ``emulated_hosts=k``: every worker starts ``k`` emulated FreeSWITCH hosts
    of its own. ``client`` (a ``distributed.Client``), ``scheduler`` (an
    address) or ``workers`` (a LocalCluster of that many processes started
    here): where the shards run. ``capacities``: a weight per shard (default:
    its number of hosts). ``run_dir``: the run directory; each shard journals
    into ``run_dir/shards/<k>`` (a path every worker can write: the same
    machine or a shared file system). ``loop``: each shard's event loop
    (:mod:`switchlab.loops`; None: ``$SWITCHLAB_LOOP``, else auto, on that
    worker) and ``poll_ms`` its poll interval (None: ``$SWITCHLAB_POLL_MS``
    there). The other keywords are the :class:`~switchlab.originator.Originator`'s.
    """

    def __init__(self, hosts: Sequence[str] | None = None, dest: str | None = None, *,
                 client: distributed.Client | None = None, workers: int | None = None,
                 scheduler: str | None = None, emulated_hosts: int = 0, seed: int | None = None,
                 capacities: Sequence[float] | None = None, profile: str = "external",
                 proxy: str | None = None, dest_user: str = DEFAULT_USER, rate: float = 1.0,
                 limit: int = 1, duration: float | None = None, max_offered: int | None = None,
                 shape: LoadShape | Callable[[float], float] | None = None,
                 apps: Mapping[str, Any] | None = None, vars: Mapping[str, object] | None = None,
                 timeout: float = 60, password: str = "ClueCon", run_dir: str | None = None,
                 hangup_grace: float = 10.0,
                 host_down_deadline: float | None = HostWatch.DEFAULT_DEADLINE,
                 start_delay: float = 1.0, poll_interval: float = 0.5, dashboard: bool = False,
                 loop: str | None = None, poll_ms: float | None = None) -> None:
        super().__init__(rate=rate, limit=limit, duration=duration, max_offered=max_offered,
                         shape=shape)
        if not hosts and emulated_hosts < 1:
            raise SwitchlabError("no hosts: give ESL addresses, or emulated_hosts=N for N "
                                 "emulated hosts per worker")
        if hosts and emulated_hosts:
            raise SwitchlabError("give hosts or emulated_hosts, not both")
        if poll_interval <= 0 or poll_interval > 1.0:
            raise SwitchlabError(f"poll_interval={poll_interval}: status must come at least "
                                 "once a second; give 0 < poll_interval <= 1")
        self._where, self._loop = (client, workers, scheduler, dashboard), (loop, poll_ms)
        self.host_list, self.emulated_hosts = list(hosts or []), int(emulated_hosts)
        self.seed = DEFAULT_SEED if seed is None else seed  # shard i's DUT: seed + i
        self.capacities = None if capacities is None else list(capacities)
        self.start_delay, self.poll_interval = float(start_delay), float(poll_interval)
        self._apps = dict(apps or {})
        self.config: dict[str, Any] = {
            "dest": dest, "dest_user": dest_user, "profile": profile, "proxy": proxy,
            "duration": duration, "apps": self._apps, "vars": dict(vars or {}),
            "timeout": timeout, "password": password, "hangup_grace": hangup_grace,
            "host_down_deadline": host_down_deadline}
        self.run = Run({"scale_out": True, "hosts": self.host_list,
                        "emulated_hosts_per_shard": self.emulated_hosts, "dest": dest,
                        "profile": profile, "proxy": proxy, "rate": rate, "limit": limit,
                        "duration": duration, "max_offered": max_offered,
                        "shape": repr(self._shape),
                        "apps": {k: app_weight(v) for k, v in self._apps.items()},
                        "timeout": timeout}, directory=run_dir)
        self.cluster: Cluster | None = None
        self.shards: list[ShardHandle] = []
        self.state = OriginatorState.INITIAL
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self._lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._polling = threading.Event()
        self._stats: dict[str, Any] = aggregate_stats([])
        self._armed_at = 0.0   # shards' own STOPPED counts only after the start instant

    # -- set-up -------------------------------------------------------------------
    async def connect(self) -> DistributedOriginator:
        """Open the cluster, place a shard actor on every worker, give each its
        hosts (or start its emulated ones) and connect its originator."""
        await asyncio.to_thread(self._connect)
        return self

    def _connect(self) -> None:
        if self.shards:
            return
        client, workers_n, scheduler, dashboard = self._where
        self.cluster = open_cluster(client, workers=workers_n, scheduler=scheduler,
                                    dashboard=dashboard)
        try:
            self._place_shards()
        except BaseException:
            for s in self.shards:  # a failed set-up leaves no actor and no LocalCluster
                s.future.release()
            self.shards = []
            self.cluster.close()
            raise

    def _place_shards(self) -> None:
        assert self.cluster is not None
        dc, workers = self.cluster.client, self.cluster.workers()
        if self.host_list:
            workers = workers[:len(self.host_list)]
        futs = [dc.submit(Shard, i, w, *self._loop, workers=[w], actor=True, pure=False,
                          allow_other_workers=False) for i, w in enumerate(workers)]
        self.shards = [ShardHandle(i, w, f) for i, (w, f) in enumerate(zip(workers, futs))]
        if self.emulated_hosts:
            started = [s.actor.start_emulator(self.emulated_hosts, self.seed + s.index,
                                              self.config["password"]) for s in self.shards]
            for s, fut in zip(self.shards, started):
                s.hosts = list(fut.result(CONTROL_TIMEOUT))
        else:
            for s, part in zip(self.shards, split_hosts(self.host_list, len(self.shards))):
                s.hosts = part
        caps = self.capacities or [float(len(s.hosts)) for s in self.shards]
        if len(caps) != len(self.shards):
            raise SwitchlabError(f"{len(caps)} capacities for {len(self.shards)} shards "
                                 "(one per worker): give one each")
        for s, share in zip(self.shards, shares(caps)):
            s.share = share
        limits = split_count(self._limit, [s.share for s in self.shards], minimum=1)
        caps_offered = (None if self._max_offered is None else
                        split_count(self._max_offered, [s.share for s in self.shards]))
        pending = []
        for s, lim in zip(self.shards, limits):
            cfg = {**self.config, "limit": lim, "shape": Scaled(self._shape, s.share),
                   "max_offered": None if caps_offered is None else caps_offered[s.index],
                   "run_id": self.run.run_id, "run_dir": None}
            if self.run.directory is not None:
                s.run_dir = self.run.directory / "shards" / str(s.index)
                cfg["run_dir"] = str(s.run_dir)
            pending.append(s.actor.setup(s.hosts, cfg))
        done = [fut.result(CONTROL_TIMEOUT + self.config["timeout"]) for fut in pending]
        self.run.params["shards"] = [{"shard": s.index, "worker": s.worker, "hosts": s.hosts,
                                      "share": s.share, "run_dir": str(s.run_dir or ""),
                                      "loop": summary["loop"], "poll_ms": summary["poll_ms"]}
                                     for s, summary in zip(self.shards, done)]
        self.run.log("shards", f"{len(self.shards)} shards", shards=self.run.params["shards"])
        self._aggregate()

    # -- controls -----------------------------------------------------------------
    def _each(self, method: str, *args: Any, per_shard: Callable[[ShardHandle], tuple[Any, ...]]
              | None = None) -> None:
        """Call ``method`` on every live shard at once, then wait for all."""
        calls = []
        for s in self.live_shards:
            a = per_shard(s) if per_shard is not None else args
            fut = self._send(s, method, *a)
            if fut is not None:
                calls.append((s, fut))
        for s, fut in calls:
            try:
                fut.result(CONTROL_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - a dead worker raises anything
                self._maybe_lost(s, exc)

    def _send(self, s: ShardHandle, method: str, *args: Any) -> Any:
        """Call ``method`` on shard ``s``'s actor: its future, or None when the
        call could not even be sent (the actor's worker is gone)."""
        try:
            return getattr(s.actor, method)(*args)
        except Exception as exc:  # noqa: BLE001 - Dask raises RuntimeError, OSError...
            self._maybe_lost(s, exc)
            return None

    @property
    def live_shards(self) -> list[ShardHandle]:
        return [s for s in self.shards if s.lost is None]

    def start(self) -> DistributedOriginator:
        """Start every shard at one wall-clock instant, ``start_delay`` s from now."""
        if not self.shards:
            raise SwitchlabError("not connected: await dorig.connect() first")
        if self.state is OriginatorState.ORIGINATING:
            return self
        at = time.time() + self.start_delay
        self._each("start", at)
        self.start_clock(time.monotonic() + self.start_delay)
        self.started_at = self.started_at or time.monotonic() + self.start_delay
        self.stopped_at = None
        self._armed_at = time.monotonic() + self.start_delay + 2 * self.poll_interval
        self.state = OriginatorState.ORIGINATING
        self.run.log("state", OriginatorState.ORIGINATING.value, at=at)
        self._start_polling()
        return self

    def _retuned(self, **changes: Any) -> None:
        self.run.retune(**changes)
        if not self.shards:
            return
        shares_ = [s.share for s in self.shards]
        if "limit" in changes:
            limits = split_count(changes["limit"], shares_, minimum=1)
            self._each("retune", per_shard=lambda s: ({"limit": limits[s.index]},))
        if "max_offered" in changes:
            mo = changes["max_offered"]
            parts = None if mo is None else split_count(mo, shares_)
            self._each("retune", per_shard=lambda s: (
                {"max_offered": None if parts is None else parts[s.index]},))
        if "duration" in changes:
            self._each("retune", {"duration": changes["duration"]})

    def _reshaped(self, shape: LoadShape) -> None:
        if self.shards:
            self._each("retune", per_shard=lambda s: ({"shape": Scaled(shape, s.share)},))

    def stop(self) -> None:
        """Stop launching on every shard; calls in progress end on their own."""
        self._each("stop")
        self._set_stopped()

    def _set_stopped(self) -> None:
        mark_stopped(self)

    async def hupall(self, cause: str = "NORMAL_CLEARING") -> None:
        """Stop, and hang up every call of every shard."""
        await asyncio.to_thread(self._each, "hupall")
        self._set_stopped()

    def panel(self, **kwargs: Any) -> Any:
        """The live notebook panel (the same as an Originator's)."""
        return get_panel_backend().panel(self, **kwargs)

    # -- status -------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """The shards' counters summed (refreshed every ``poll_interval``), with
        ``shards``, ``shards_lost`` and ``per_shard``."""
        with self._lock:
            return dict(self._stats)

    @property
    def count_active(self) -> int:
        return int(self.stats()["active"])

    @property
    def total_originated(self) -> int:
        return int(self.stats()["offered"])

    def __repr__(self) -> str:
        s = self.stats()
        return (f"<DistributedOriginator: shards={len(self.shards)} "
                f"lost={s.get('shards_lost', 0)} state={self.state.value} "
                f"offered={s['offered']} active={s['active']} rate={self.rate:g} "
                f"limit={self._limit}>")

    def _start_polling(self) -> None:
        if self._poller is not None and self._poller.is_alive():
            return
        self._polling.set()
        self._poller = threading.Thread(target=self._poll_loop, name="switchlab-scale-poll",
                                        daemon=True)
        self._poller.start()

    def _poll_loop(self) -> None:
        while self._polling.is_set():
            t0 = time.monotonic()
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling; say what went wrong
                log.exception("polling the shards failed")
                self.run.log("error", f"polling the shards failed: {exc!r}")
            time.sleep(max(0.0, self.poll_interval - (time.monotonic() - t0)))

    def poll_once(self, method: str = "poll", *args: Any, timeout: float = 10.0) -> None:
        """Ask every live shard for its status, rows and events (``method``:
        ``poll``, or ``close`` at the end) and fold them in."""
        sent = [(s, self._send(s, method, *args)) for s in self.live_shards]
        calls = [(s, fut) for s, fut in sent if fut is not None]
        for s, fut in calls:
            try:
                self._ingest(s, fut.result(timeout))
            except Exception as exc:  # noqa: BLE001 - a dead worker raises anything
                self._maybe_lost(s, exc)
        self._aggregate()

    def _ingest(self, s: ShardHandle, got: dict[str, Any]) -> None:
        s.stats = got["stats"]
        s.closed = bool(got.get("closed"))
        for row in got["rows"]:
            self._add_row(s, row)
        for entry in got["events"]:
            if entry.get("kind") != "state":
                self.run.log(entry.get("kind", "event"), entry.get("message", ""),
                             shard=s.index, worker=s.worker, **(entry.get("data") or {}))

    def _add_row(self, s: ShardHandle, row: dict[str, Any]) -> None:
        call_id = row.get("call_id")
        if call_id in s.seen:
            return
        s.seen.add(str(call_id))
        self.run.add_row(row)

    def _aggregate(self) -> None:
        agg = summarize(self.shards, self.rate)
        with self._lock:
            self._stats = agg
        per = [s.stats for s in self.shards if s.stats]
        armed = time.monotonic() >= self._armed_at
        if self.state is OriginatorState.ORIGINATING and (not self.live_shards or (
                armed and per and all(st.get("state") == "STOPPED" for st in per))):
            self._set_stopped()

    # -- a lost shard -------------------------------------------------------------
    def _maybe_lost(self, s: ShardHandle, exc: BaseException) -> None:
        """A call failed: if the worker left the cluster, the shard is lost (its
        journaled rows are recovered); else the error is logged and retried."""
        assert self.cluster is not None
        try:
            alive = s.future.status in ("pending", "finished") and self.cluster.alive(s.worker)
        except Exception:  # noqa: BLE001 - scheduler unreachable: treat as alive
            alive = True
        if alive:
            log.warning("shard %d on %s: %r", s.index, s.worker, exc)
            return
        s.lost = f"worker {s.worker} left the cluster ({type(exc).__name__})"
        s.stats = {**s.stats, "state": "STOPPED", "active": 0, "erlangs": 0,
                   "achieved_cps": 0.0}
        before = len(self.run)
        for row in s.journaled_rows():
            self._add_row(s, row)
        recovered = len(self.run) - before
        self.run.log("shard_lost", f"shard {s.index} was lost: {s.lost}; {recovered} "
                     "finished rows recovered from its journal", shard=s.index,
                     worker=s.worker, recovered=recovered)

    # -- the end ------------------------------------------------------------------
    async def wait(self, timeout: float | None = None, *, calls: bool = True) -> bool:
        """Wait until every shard stopped launching (and, with ``calls``, has no
        call left). Returns False on timeout."""
        return await wait_stopped(self, timeout, calls=calls)

    async def close(self, timeout: float = 30.0) -> Run:
        """Stop every shard, let calls end (up to ``timeout``), gather the last
        rows, write the run (``run.save()`` with a run directory), and close the
        LocalCluster this started. Returns the one run."""
        await asyncio.to_thread(self._close, timeout)
        return self.run

    def _close(self, timeout: float) -> None:
        if self.shards and self.state is not OriginatorState.STOPPED:
            self.stop()
        self._polling.clear()
        if self._poller is not None:
            self._poller.join()
        if self.shards:
            self.poll_once("close", timeout, timeout=timeout + 60.0)
        for s in self.shards:  # not closed cleanly: what its journal holds, nothing lost
            if s.lost is None and not s.closed:
                self.run.log("shard_error", f"shard {s.index} did not close cleanly; its "
                             "journaled rows are gathered", shard=s.index, worker=s.worker)
                for row in s.journaled_rows():
                    self._add_row(s, row)
        lost = [s for s in self.shards if s.lost is not None]
        self.run.params["shards_lost"] = [{"shard": s.index, "worker": s.worker,
                                           "why": s.lost} for s in lost]
        self.run.close()
        if self.run.directory is not None:
            self.run.save()
        for s in self.shards:
            s.future.release()
        if self.cluster is not None:
            self.cluster.close()
