"""The client's view of one shard (:class:`ShardHandle`): its actor, hosts,
share of the load, last status, and the rows of its journal.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed

from ..measure.journal import read_calls_journal
from ..measure.rundir import CALLS_JOURNAL
from .split import aggregate_stats

#: seconds a control call (start, retune, stop) may take on a shard
CONTROL_TIMEOUT = 30.0


class ShardHandle:
    """The client's view of one shard: its actor, hosts, share, last status."""

    def __init__(self, index: int, worker: str, future: distributed.Future) -> None:
        # the future keeps the actor alive on its worker: drop it and Dask deletes the actor
        self.index, self.worker, self.future = index, worker, future
        self.actor: Any = future.result(CONTROL_TIMEOUT)
        self.hosts: list[str] = []
        self.share = 0.0
        self.run_dir: Path | None = None
        self.stats: dict[str, Any] = {}
        self.seen: set[str] = set()
        self.lost: str | None = None
        self.closed = False

    def journaled_rows(self) -> Iterator[dict[str, Any]]:
        """Every row in the shard's journal (``run_dir/shards/<k>/calls.jsonl``),
        when this machine can read it; nothing otherwise."""
        if self.run_dir is None or not (self.run_dir / CALLS_JOURNAL).exists():
            return
        header, rows = read_calls_journal(self.run_dir / CALLS_JOURNAL)
        for values in rows:
            yield dict(zip(header["columns"], values))


def summarize(shards: list[ShardHandle], target_rate: float) -> dict[str, Any]:
    """The status of a distributed load test: the shards' counters summed
    (:func:`~switchlab.scale.split.aggregate_stats`), the whole target rate,
    ``shards``, ``shards_lost`` and ``per_shard``."""
    agg = aggregate_stats([s.stats for s in shards if s.stats])
    agg["target_rate"] = target_rate
    agg.update(shards=len(shards), shards_lost=sum(s.lost is not None for s in shards),
               per_shard=[{"shard": s.index, "worker": s.worker, "lost": s.lost, **s.stats}
                          for s in shards])
    return agg
