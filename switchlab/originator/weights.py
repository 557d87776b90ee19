"""Weighted choice without randomness: smooth weighted round robin.

Over any window of ``sum(weights)`` picks each key is chosen exactly
``weight`` times, evenly spread (nginx's algorithm), so app mixes are exact
and reproducible.

>>> w = SmoothWeighted({"a": 2, "b": 1})
>>> [w.next() for _ in range(6)]
['a', 'b', 'a', 'a', 'b', 'a']
"""
from __future__ import annotations

from collections.abc import Mapping


class SmoothWeighted:
    """Pick keys in proportion to their weights, evenly interleaved."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        if not weights:
            raise ValueError("at least one weighted item is needed")
        for key, w in weights.items():
            if not (isinstance(w, (int, float)) and w > 0):
                raise ValueError(f"weight of {key!r} must be a number > 0, got {w!r}")
        self.weights = dict(weights)
        self._total = float(sum(self.weights.values()))
        self._current = {k: 0.0 for k in self.weights}

    def next(self) -> str:
        best = None
        for key, w in self.weights.items():
            self._current[key] += w
            if best is None or self._current[key] > self._current[best]:
                best = key
        assert best is not None
        self._current[best] -= self._total
        return best
