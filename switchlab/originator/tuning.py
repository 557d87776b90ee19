"""The live-tunable parameters of a load test: rate or load shape, limit,
hold duration and cap on offered calls. Each is checked by
:mod:`~switchlab.originator.settings`, logged in the run as a ``retune``,
and applies from the next launch.

>>> c = LoadControls(rate=10, limit=20, duration=None, max_offered=None, shape=None)
>>> c.duration      # Erlang's limit / rate
2.0
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .loadshapes import Constant, LoadShape, as_shape
from .settings import check_duration, check_limit, check_max_offered


class LoadControls:
    """Base of :class:`~switchlab.originator.Originator`: its tunable parameters.

    Subclasses see every change through :meth:`_retuned` (log it) and
    :meth:`_reshaped` (apply a new shape to the launch schedule)."""

    def __init__(self, *, rate: float, limit: int, duration: float | None,
                 max_offered: int | None, shape: LoadShape | Callable[[float], float] | None) -> None:
        self._limit = check_limit(limit)
        self._rate = float(rate)
        self._shape: LoadShape = as_shape(shape) if shape is not None else Constant(self._rate)
        self._duration = check_duration(duration)
        self._max_offered = check_max_offered(max_offered)
        self._t0: float | None = None

    # -- hooks ---------------------------------------------------------------
    def _retuned(self, **changes: Any) -> None:
        """A parameter changed (``name=value``)."""

    def _reshaped(self, shape: LoadShape) -> None:
        """The load shape changed."""

    def _poke(self) -> None:
        """Something the launcher waits on changed."""

    # -- the shape's clock ----------------------------------------------------
    def start_clock(self, now: float) -> float:
        """Start the load shape's clock at ``now`` unless it already runs; returns its start."""
        if self._t0 is None:
            self._t0 = now
        return self._t0

    @property
    def elapsed(self) -> float | None:
        """Seconds since the load shape's clock started (None before the first start)."""
        return None if self._t0 is None else time.monotonic() - self._t0

    # -- parameters -------------------------------------------------------------
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
        self._retuned(shape=repr(new))
        self._reshaped(new)

    @property
    def shape(self) -> LoadShape:
        return self._shape

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = check_limit(value)
        self._retuned(limit=self._limit)
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
        self._duration = check_duration(value)
        self._retuned(duration=self._duration)

    @property
    def explicit_duration(self) -> float | None:
        """The duration set by the user, or None when it follows ``limit / rate``."""
        return self._duration

    @property
    def max_offered(self) -> int | None:
        return self._max_offered

    @max_offered.setter
    def max_offered(self, value: int | None) -> None:
        self._max_offered = check_max_offered(value)
        self._retuned(max_offered=self._max_offered)
        self._poke()
