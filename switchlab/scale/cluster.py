"""Which Dask cluster a distributed load test runs on: a ``distributed.Client``
the user gives, a scheduler address, or a :class:`distributed.LocalCluster`
of worker processes started here (bound to 127.0.0.1, dashboard off unless
asked for). Also: the workers' addresses, one shard each.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import distributed

from ..errors import SwitchlabError


@dataclass
class Cluster:
    """A Dask client, and the LocalCluster started for it (closed with it)."""

    client: distributed.Client
    local: distributed.LocalCluster | None = None

    def workers(self) -> list[str]:
        """The workers' addresses, sorted (shard ``k`` runs on the ``k``-th)."""
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    def alive(self, address: str) -> bool:
        return address in self.client.scheduler_info(n_workers=-1)["workers"]

    def close(self) -> None:
        """Close the client and the LocalCluster when this started them."""
        if self.local is not None:
            self.client.close()
            self.local.close()
            self.local = None


def check_workers(workers: int) -> int:
    """A LocalCluster's worker count: a whole number >= 1.

    >>> check_workers(2)
    2
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SwitchlabError(f"workers={workers!r}: give a whole number of worker "
                             "processes, at least 1")
    return workers


def open_cluster(client: distributed.Client | None = None, *, workers: int | None = None,
                 scheduler: str | None = None, dashboard: bool = False,
                 timeout: float = 60.0, **local: Any) -> Cluster:
    """The cluster to run on: ``client`` as given, else a new client of the
    scheduler at ``scheduler`` (``tcp://host:port``), else a LocalCluster of
    ``workers`` processes (one thread each) on 127.0.0.1. Waits until at
    least one worker (``workers`` for a LocalCluster) has joined."""
    if sum(x is not None for x in (client, workers, scheduler)) > 1:
        raise SwitchlabError("give one of client=, workers= or scheduler=, not several")
    if client is not None:
        return Cluster(client)
    if scheduler is not None:
        try:
            dc = distributed.Client(scheduler, timeout=min(timeout, 10.0))
        except (OSError, TimeoutError) as exc:
            raise SwitchlabError(f"no Dask scheduler answered at {scheduler} ({exc}); "
                                 "check the address (tcp://host:8786)") from None
        dc.wait_for_workers(1, timeout=timeout)
        return Cluster(dc)
    n = check_workers(1 if workers is None else workers)
    lc = distributed.LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": dashboard}, **local)
    dc = distributed.Client(lc)
    dc.wait_for_workers(n, timeout=timeout)
    return Cluster(dc, lc)
