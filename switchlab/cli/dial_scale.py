"""``switchlab dial --workers N`` / ``--scheduler ADDRESS``: the same load test
spread over Dask workers (:mod:`switchlab.scale`), one shard per worker, one run.

>>> check_scale_options(2, None, ["127.0.0.1:8021", "127.0.0.1:8022"], sim=False)
>>> check_scheduler("tcp://10.0.0.9:8786")
'tcp://10.0.0.9:8786'
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import click

from ..errors import SwitchlabError
from ..scale import DistributedOriginator
from .common import fail, run_to_end
from .outcome import Asked
from .stopping import Stopper

_SCHEDULER = re.compile(r"^(?:(?:tcp|tls|ws|wss)://)?[\w.\-\[\]:]+:\d{1,5}$")


def check_scheduler(address: str) -> str:
    """A Dask scheduler address: ``[tcp://]host:port``."""
    if not _SCHEDULER.match(address):
        raise click.BadParameter(f"--scheduler {address!r}: give the Dask scheduler's "
                                 "address as tcp://host:port (e.g. tcp://10.0.0.9:8786)")
    return address if "://" in address else f"tcp://{address}"


def check_scale_options(workers: int | None, scheduler: str | None, hosts: list[str], *,
                        sim: bool) -> None:
    """``--workers`` / ``--scheduler`` against the rest; exits 2 with one line."""
    if workers is not None and scheduler is not None:
        fail("--workers starts a local Dask cluster, --scheduler uses an existing one: "
             "give one of them")
    if workers is not None and workers < 1:
        fail(f"--workers {workers}: give a whole number of worker processes >= 1")
    if scheduler is not None:
        try:
            check_scheduler(scheduler)
        except click.BadParameter as exc:
            fail(str(exc.message))
    if not sim and workers is not None and len(hosts) < workers:
        fail(f"--workers {workers} with {len(hosts)} host(s): every worker needs at least one "
             "host; give more hosts or fewer workers (or --sim: each worker emulates its own)")


async def dial_scaled(addresses: list[tuple[str, int]], *, workers: int | None,
                      scheduler: str | None, sim_hosts: int | None, proxy: str | None,
                      dest_user: str, dest_url: str | None, profile: str, rate: float,
                      limit: int, max_offered: int, duration: float | None,
                      app_specs: list[tuple[str, Any, float]], password: str,
                      metrics_file: Path | None, write_csv: bool, live: bool,
                      interval: float, host_down_deadline: float,
                      loop_choice: str | None = None, poll_ms: float | None = None,
                      sim_seed: int | None = None) -> tuple[Any, bool]:
    """Run the load test on the Dask cluster; ``(run, stopped_by_user)``."""
    loop = asyncio.get_running_loop()
    stopper = Stopper()
    stopper.install(loop)
    stop = stopper.stop
    try:
        dorig = DistributedOriginator(
            [f"{h}:{p}" for h, p in addresses] or None, dest_url, workers=workers,
            scheduler=None if scheduler is None else check_scheduler(scheduler),
            emulated_hosts=sim_hosts or 0, proxy=proxy, dest_user=dest_user, profile=profile,
            rate=rate, limit=limit, duration=duration, max_offered=max_offered,
            apps={app_id: (cls, w) for app_id, cls, w in app_specs}, password=password,
            run_dir=None if metrics_file is None else str(metrics_file),
            host_down_deadline=host_down_deadline, poll_interval=min(interval, 1.0) / 2,
            loop=loop_choice, poll_ms=poll_ms, seed=sim_seed)
        await dorig.connect()
    except (SwitchlabError, ValueError, OSError) as exc:
        fail(" ".join(str(exc).split()))
    except asyncio.CancelledError as exc:
        stopper.check(exc)
        raise
    stopper.attach(dorig)
    for s in dorig.shards:
        click.echo(f"Shard {s.index} on Dask worker {s.worker}: {len(s.hosts)} host(s) "
                   f"{' '.join(s.hosts)}, {s.share:.0%} of the load")
    server = proxy or ("each worker's emulated DUT" if sim_hosts else "none")
    click.echo(f"Starting load test for server {server} at {dorig.rate:g}cps "
               f"using {len(dorig.shards)} shards")
    if not stop.is_set():
        dorig.start()
    await run_to_end(dorig, stop, live=live, interval=interval)
    run = await dorig.close()
    click.echo(repr(dorig))
    for s in dorig.shards:
        if s.lost is not None:
            click.echo(f"Shard {s.index} was lost: {s.lost}; its journaled rows are kept")
    if metrics_file is not None:
        if write_csv:
            run.to_csv(metrics_file / "calls.csv")
        click.echo(f"Stored the run ({len(run)} calls, {len(dorig.shards)} shards) in "
                   f"{metrics_file}")
    return run, stop.is_set()
