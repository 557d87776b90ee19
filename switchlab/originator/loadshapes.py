"""Load shapes: offered call rate (calls/s) as a function of elapsed time.

A shape is any object with ``rate(t) -> float`` (``t`` in seconds since the
originator started) and an ``end`` attribute (seconds, or ``None`` for no end).
A plain callable ``f(t) -> rate`` is accepted wherever a shape is.

>>> Ramp(1, 101, over=10).rate(5)
51.0
>>> Steps([(0, 10), (30, 20), (60, 40)]).rate(45)
20.0
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .settings import check_rate


@runtime_checkable
class LoadShape(Protocol):
    """What the originator needs from a shape."""

    @property
    def end(self) -> float | None: ...

    def rate(self, t: float) -> float: ...


@dataclass(frozen=True)
class Constant:
    """The same rate all along."""

    value: float
    end: float | None = None

    def __post_init__(self) -> None:
        check_rate(self.value)

    def rate(self, t: float) -> float:
        return self.value


@dataclass(frozen=True)
class Steps:
    """Piecewise-constant rate: ``[(t0, r0), (t1, r1), ...]`` (``t0`` must be 0).

    ``end`` defaults to None (the last step lasts); use :meth:`staircase` for
    the common "start, add ``step`` every ``every`` seconds" ramp.
    """

    steps: Sequence[tuple[float, float]]
    end: float | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("Steps needs at least one (time, rate) pair")
        times = [float(t) for t, _ in self.steps]
        if times[0] != 0 or any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError(f"step times must start at 0 and increase strictly, got {times}")
        for _, r in self.steps:
            check_rate(r)
        object.__setattr__(self, "_times", times)

    @classmethod
    def staircase(cls, start: float, step: float, every: float, count: int) -> Steps:
        """``count`` steps: ``start``, ``start+step``, ... each lasting ``every`` s."""
        if every <= 0 or count < 1:
            raise ValueError("every must be > 0 and count >= 1")
        return cls([(i * every, start + i * step) for i in range(count)], end=count * every)

    def rate(self, t: float) -> float:
        i = bisect.bisect_right(self._times, t) - 1  # type: ignore[attr-defined]
        return float(self.steps[max(i, 0)][1])


@dataclass(frozen=True)
class Ramp:
    """Linear ramp from ``start`` to ``stop`` calls/s over ``over`` seconds, then ``stop``."""

    start: float
    stop: float
    over: float
    end: float | None = None

    def __post_init__(self) -> None:
        check_rate(self.start, "start")
        check_rate(self.stop, "stop")
        if not self.over > 0:
            raise ValueError(f"over must be > 0 seconds, got {self.over!r}")

    def rate(self, t: float) -> float:
        if t >= self.over:
            return float(self.stop)
        return self.start + (self.stop - self.start) * max(t, 0.0) / self.over


@dataclass(frozen=True)
class FromCallable:
    """Wrap ``fn(t) -> rate``."""

    fn: Callable[[float], float]
    end: float | None = None

    def rate(self, t: float) -> float:
        return check_rate(self.fn(t), "rate returned by the load shape callable")


def as_shape(shape: LoadShape | Callable[[float], float] | float) -> LoadShape:
    """Turn a number, callable or shape into a :class:`LoadShape`."""
    if isinstance(shape, (int, float)):
        return Constant(float(shape))
    if isinstance(shape, LoadShape):
        return shape
    if callable(shape):
        return FromCallable(shape)
    raise TypeError(f"expected a rate, a callable f(t) -> rate or a load shape, got {shape!r}")


class LaunchSchedule:
    """Absolute launch times for a shape: rounding and loop lag never accumulate.

    While the rate stays the same, launch ``k`` of a segment is due exactly at
    ``anchor + k / rate`` (no summing of ``1/rate``); a rate change starts a new
    segment. Due times never depend on when launches really happened, so a late
    launch does not push the following ones back.

    >>> s = LaunchSchedule(Constant(4), t0=100.0)
    >>> [s.pop() for _ in range(3)]
    [100.0, 100.25, 100.5]
    """

    #: how often a paused (rate 0) schedule looks at the shape again, seconds
    PAUSE_POLL = 0.05
    #: at most this many pause steps per :meth:`peek`: a shape paused for good
    #: (``Constant(0)``, no end) must not loop forever; the caller looks again
    MAX_PAUSE_STEPS = 20

    def __init__(self, shape: LoadShape | Callable[[float], float] | float, t0: float) -> None:
        self.shape = as_shape(shape)
        self.t0 = t0
        self._anchor = t0  # start of the current constant-rate segment
        self._count = 0  # launches popped in this segment
        self._rate = -1.0  # rate of this segment (-1: not yet known)
        self._next = t0
        #: True when :meth:`peek` returned a time to look again (the shape is
        #: paused there), not a launch: :meth:`pop` then returns None
        self.paused = False

    def _ended(self, t: float) -> bool:
        end = self.shape.end
        return end is not None and t - self.t0 >= end

    def _settle(self) -> None:
        """Skip over paused stretches (at most :attr:`MAX_PAUSE_STEPS` steps) so
        ``_next`` is a real launch time, else set :attr:`paused`."""
        for _ in range(self.MAX_PAUSE_STEPS):
            if self._ended(self._next) or self.shape.rate(self._next - self.t0) > 0:
                self.paused = False
                return
            self._next += self.PAUSE_POLL
            self._anchor, self._count, self._rate = self._next, 0, -1.0
        self.paused = not self._ended(self._next) and self.shape.rate(self._next - self.t0) <= 0

    def rebase(self, now: float) -> None:
        """Move the schedule forward to ``now`` (after launches were blocked)."""
        if now > self._next:
            self._next = now
            self._anchor, self._count, self._rate = now, 0, -1.0

    def retune(self, last_due: float, now: float) -> None:
        """Apply a changed shape right away: the next launch is one new period
        after ``last_due`` (never before ``now``)."""
        r = self.shape.rate(max(now, last_due) - self.t0)
        nxt = last_due + (1.0 / r if r > 0 else self.PAUSE_POLL)
        self._next = max(nxt, now)
        self._anchor, self._count, self._rate = self._next, 0, -1.0

    def peek(self) -> float | None:
        """When the next launch is due (monotonic seconds), or None once the shape ended.
        While the shape stays paused this is the time to look again (:attr:`paused`).

        >>> s = LaunchSchedule(Constant(0), t0=0.0)
        >>> s.peek() > 0, s.paused, s.pop()
        (True, True, None)
        """
        self._settle()
        return None if self._ended(self._next) else self._next

    def pop(self) -> float | None:
        """Take the next due time and schedule the one after it (None: the
        shape ended, or is paused at the time :meth:`peek` returned)."""
        due = self.peek()
        if due is None or self.paused:
            return None
        self._next = self._advance(due)
        return due

    def _advance(self, t: float) -> float:
        rate_at = self.shape.rate
        r0 = rate_at(t - self.t0)
        if r0 != self._rate:  # new segment starts at this launch
            self._anchor, self._count, self._rate = t, 0, r0
        self._count += 1
        exact = self._anchor + self._count / r0
        r1 = rate_at(exact - self.t0)
        if r1 == r0:
            return exact
        # the rate changes before the next launch (ramp or step): midpoint rule
        r_mid = rate_at(t + 0.5 / r0 - self.t0)
        nxt = t + 1.0 / (r_mid if r_mid > 0 else r0)
        self._anchor, self._count, self._rate = nxt, 0, -1.0
        return nxt
