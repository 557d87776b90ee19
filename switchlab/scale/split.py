"""How one load test is cut into shards: hosts per shard, each shard's share
of the rate, the limit and the cap, and a load shape scaled to a share.

>>> split_hosts(["a", "b", "c"], 2)
[['a', 'c'], ['b']]
>>> shares([2, 1])
[0.6666666666666666, 0.3333333333333333]
>>> split_count(10, [2 / 3, 1 / 3])
[7, 3]
>>> Scaled(Constant(90.0), 1 / 3).rate(0.0)
30.0
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import SwitchlabError
from ..originator.loadshapes import Constant, LoadShape

T = TypeVar("T")

__all__ = ["Constant", "Scaled", "aggregate_stats", "shares", "split_count", "split_hosts"]


def split_hosts(hosts: Sequence[T], n: int) -> list[list[T]]:
    """Deal ``hosts`` round robin into ``n`` shards (the first ones get the extra host).
    Refused when there are fewer hosts than shards: a shard needs at least one."""
    if n < 1:
        raise SwitchlabError(f"{n} shards: need at least one (one per Dask worker)")
    if len(hosts) < n:
        raise SwitchlabError(
            f"{len(hosts)} host(s) for {n} shards: every shard needs a host; give more hosts "
            "or use fewer workers")
    return [list(hosts[i::n]) for i in range(n)]


def shares(capacities: Sequence[float]) -> list[float]:
    """Each shard's fraction of the load, proportional to its capacity
    (its number of hosts, or a weight the user gives)."""
    total = float(sum(capacities))
    if total <= 0 or any(c < 0 for c in capacities):
        raise SwitchlabError(f"shard capacities {list(capacities)} must be >= 0 with a "
                             "positive sum")
    return [c / total for c in capacities]


def split_count(total: int, fractions: Sequence[float], *, minimum: int = 0) -> list[int]:
    """``total`` cut by ``fractions`` into integers that add up to ``total``
    (largest remainders), each at least ``minimum``.

    >>> split_count(1, [0.5, 0.5], minimum=1)
    [1, 1]
    """
    raw = [total * f for f in fractions]
    out = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[:total - sum(out)]:
        out[i] += 1
    return [max(minimum, x) for x in out]


@dataclass(frozen=True)
class Scaled:
    """A load shape times ``factor`` (one shard's part of the whole shape)."""

    shape: LoadShape
    factor: float

    @property
    def end(self) -> float | None:
        return self.shape.end

    def rate(self, t: float) -> float:
        return self.shape.rate(t) * self.factor


#: counters that add up over shards
SUMMED = ("active", "offered", "answered", "failed", "erlangs", "achieved_cps", "target_rate",
          "not_offered", "hosts_down", "hosts_given_up")


def aggregate_stats(per_shard: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One status from the shards' ``Originator.stats()``: counters and rates
    summed, ASR recomputed, state ORIGINATING while any shard is.

    >>> s = aggregate_stats([{"state": "ORIGINATING", "offered": 3, "answered": 2, "failed": 1},
    ...                      {"state": "STOPPED", "offered": 1, "answered": 1, "failed": 0}])
    >>> s["state"], s["offered"], s["asr"]
    ('ORIGINATING', 4, 0.75)
    """
    out: dict[str, Any] = {k: 0 for k in SUMMED}
    for s in per_shard:
        for k in SUMMED:
            out[k] += s.get(k) or 0
    states = {s.get("state") for s in per_shard}
    out["state"] = ("ORIGINATING" if "ORIGINATING" in states else
                    "STOPPED" if "STOPPED" in states else "INITIAL")
    finished = out["answered"] + out["failed"]
    out["asr"] = out["answered"] / finished if finished else None
    out["elapsed"] = max((s.get("elapsed") or 0.0 for s in per_shard), default=0.0)
    return out
