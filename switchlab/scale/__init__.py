"""Scale-out on Dask: one load test over many worker processes and machines,
one run (docs/SCALE_OUT.md).

>>> from switchlab.scale import DistributedOriginator     # doctest: +SKIP
>>> dorig = DistributedOriginator(hosts, workers=2, rate=400, limit=800)  # doctest: +SKIP
"""
from .cluster import Cluster, open_cluster
from .distributed import DistributedOriginator, ShardHandle
from .shard import Shard, ShardRun
from .split import Scaled, aggregate_stats, shares, split_count, split_hosts

__all__ = ["Cluster", "DistributedOriginator", "Scaled", "Shard", "ShardHandle", "ShardRun",
           "aggregate_stats", "open_cluster", "shares", "split_count", "split_hosts"]
