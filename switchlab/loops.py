"""Which asyncio event loop switchlab runs on: uvloop where installed, else asyncio's own.

uvloop (``pip install switchlab[fast]``) runs the same code with a cheaper
loop (its transports and timers are written in C): see docs/PERFORMANCE.md
for the measured difference. The choice is ``auto`` (uvloop when it can be
imported, else asyncio), ``uvloop`` (required: an error says how to install
it) or ``asyncio``; it comes from the argument, else the ``SWITCHLAB_LOOP``
environment variable, else ``auto``. Everything works on either loop.

A *tick* (``tick_ms`` > 0, or ``$SWITCHLAB_TICK_MS``) makes the asyncio loop
wake only on a grid of that many milliseconds, like SIPp's ``-timer_resol``:
sockets are polled and timers run at the grid points, so whatever arrives or
falls due between two of them is handled in one wake-up. Each wake-up from
idle costs the process CPU of its own (cold caches; on this project's VM
about 0.1-0.4 ms, docs/PERFORMANCE.md), so a load test with fewer, fuller
wake-ups uses less CPU per call; the price is up to one tick of latency on
every timer, launch and receive time. uvloop's poll cannot be held to a grid:
a tick runs on asyncio's loop.

>>> loop_kind("asyncio")
'asyncio'
>>> run(_answer(), loop="asyncio")
42
>>> loop_kind("auto", tick_ms=2), run(_answer(), loop="auto", tick_ms=2)
('asyncio', 42)
"""
from __future__ import annotations

import asyncio
import math
import os
import selectors
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = ["LOOP_CHOICES", "LOOP_ENV", "MAX_TICK_MS", "TICK_ENV", "TickSelector", "describe", "loop_factory",
           "loop_kind", "new_event_loop", "run", "tick_ms_value"]

T = TypeVar("T")

#: environment variable read when no choice is given
LOOP_ENV = "SWITCHLAB_LOOP"
LOOP_CHOICES = ("auto", "uvloop", "asyncio")
#: environment variable read when no tick is given (milliseconds; 0 or unset: no tick)
TICK_ENV = "SWITCHLAB_TICK_MS"
#: the largest tick accepted (a longer one would hold every timer and reply that long)
MAX_TICK_MS = 100.0


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def tick_ms_value(tick_ms: float | str | None = None) -> float:
    """The tick in milliseconds: ``tick_ms``, else ``$SWITCHLAB_TICK_MS``, else 0 (none).

    >>> tick_ms_value(2), tick_ms_value(None), tick_ms_value("0.5")
    (2.0, 0.0, 0.5)
    """
    source = ""
    if tick_ms is None:
        tick_ms = os.environ.get(TICK_ENV) or 0.0
        source = f" (from ${TICK_ENV})"
    try:
        value = float(tick_ms)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= MAX_TICK_MS:  # NaN fails too
        raise ConfigError(f"tick {tick_ms!r}{source} is not a number of milliseconds from 0 "
                          f"(no tick) to {MAX_TICK_MS:g}")
    return value


def loop_kind(choice: str | None = None, tick_ms: float | str | None = None) -> str:
    """``"uvloop"`` or ``"asyncio"``: what ``choice`` (or ``$SWITCHLAB_LOOP``, or auto) means
    here; with a tick (``tick_ms`` or ``$SWITCHLAB_TICK_MS``) always asyncio."""
    ticked = tick_ms_value(tick_ms) > 0
    raw = choice if choice is not None else os.environ.get(LOOP_ENV) or "auto"
    want = raw.strip().lower()
    if want not in LOOP_CHOICES:
        source = "" if choice is not None else f" (from ${LOOP_ENV})"
        raise ConfigError(f"event loop {raw!r}{source} is not one of {', '.join(LOOP_CHOICES)}")
    if want == "asyncio" or (ticked and want == "auto"):
        return "asyncio"
    if ticked:
        raise ConfigError("a tick needs the asyncio loop (uvloop's poll cannot be held to a "
                          "grid): choose --loop asyncio or auto, or no tick")
    if _uvloop_factory() is not None:
        return "uvloop"
    if want == "uvloop":
        raise ConfigError("event loop 'uvloop' asked for but uvloop is not installed: "
                          "pip install 'switchlab[fast]' (or choose 'auto' / 'asyncio')")
    return "asyncio"


class TickSelector(selectors.DefaultSelector):
    """The platform's selector, polled only at multiples of ``tick`` seconds of
    ``time.monotonic()``: a wait sleeps to the next grid point, then polls
    without blocking, until something is ready or the wait's own timeout has
    passed. A zero timeout (callbacks are ready) polls at once. ``wakeups``
    counts the polls made after a sleep."""

    def __init__(self, tick: float) -> None:
        super().__init__()
        self.tick = tick
        self.wakeups = 0

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        if timeout is not None and timeout <= 0:
            return super().select(0)
        tick = self.tick
        now = time.monotonic()
        deadline = math.inf if timeout is None else now + timeout
        while True:
            time.sleep(tick - now % tick)
            self.wakeups += 1
            ready: list[tuple[Any, int]] = super().select(0)
            now = time.monotonic()
            if ready or now >= deadline:
                return ready


def _ticked_loop(tick: float) -> Callable[[], asyncio.AbstractEventLoop]:
    def factory() -> asyncio.AbstractEventLoop:
        return asyncio.SelectorEventLoop(TickSelector(tick))
    return factory


def loop_factory(choice: str | None = None,
                 tick_ms: float | str | None = None) -> Callable[[], asyncio.AbstractEventLoop]:
    """A callable making a new event loop of the chosen kind (ticked if asked)."""
    kind = loop_kind(choice, tick_ms)
    tick = tick_ms_value(tick_ms)
    if tick > 0:
        return _ticked_loop(tick / 1000.0)
    if kind == "uvloop":
        factory = _uvloop_factory()
        assert factory is not None
        return factory
    return asyncio.new_event_loop


def new_event_loop(choice: str | None = None,
                   tick_ms: float | str | None = None) -> asyncio.AbstractEventLoop:
    """A new (not running, not current) event loop of the chosen kind."""
    return loop_factory(choice, tick_ms)()


def describe(loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    """What a running loop is, for a run's parameters: ``{"loop": "uvloop" | "asyncio",
    "tick_ms": 0.0 (no tick) or the tick}``.

    >>> describe(new_event_loop("asyncio", tick_ms=2.5))
    {'loop': 'asyncio', 'tick_ms': 2.5}
    """
    selector = getattr(loop, "_selector", None)
    tick = 1000.0 * selector.tick if isinstance(selector, TickSelector) else 0.0
    return {"loop": type(loop).__module__.split(".")[0], "tick_ms": tick}


def run(main: Coroutine[Any, Any, T], *, loop: str | None = None,
        tick_ms: float | str | None = None) -> T:
    """``asyncio.run(main)`` on the chosen kind of loop."""
    with asyncio.Runner(loop_factory=loop_factory(loop, tick_ms)) as runner:
        return runner.run(main)


async def _answer() -> int:
    return 42
