"""Which asyncio event loop switchlab runs on: uvloop where installed, else asyncio's own.

uvloop (``pip install switchlab[fast]``) runs the same code with a cheaper
loop (its transports and timers are written in C): see docs/PERFORMANCE.md
for the measured difference. The choice is ``auto`` (uvloop when it can be
imported, else asyncio), ``uvloop`` (required: an error says how to install
it) or ``asyncio``; it comes from the argument, else the ``SWITCHLAB_LOOP``
environment variable, else ``auto``. Everything works on either loop.

A *poll interval* (``poll_ms`` > 0, or ``$SWITCHLAB_POLL_MS``) makes the
asyncio loop wake at most once every that many milliseconds, like SIPp's
``-timer_resol``: whatever arrives or falls due in between is handled in one
wake-up (an idle loop still just blocks). Each wake-up from idle costs the
process CPU of its own (cold caches; on this project's VM about 0.1-0.4 ms,
docs/PERFORMANCE.md), so a busy load test with fewer, fuller wake-ups uses
less CPU per call; the price is up to one interval of latency on a timer, a
launch or a receive time. uvloop's poll cannot be paced: a poll interval
runs on asyncio's loop.

>>> loop_kind("asyncio")
'asyncio'
>>> run(_answer(), loop="asyncio")
42
>>> loop_kind("auto", poll_ms=2), run(_answer(), loop="auto", poll_ms=2)
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

__all__ = ["LOOP_CHOICES", "LOOP_ENV", "MAX_POLL_MS", "POLL_ENV", "PacedSelector", "describe",
           "loop_factory", "loop_kind", "new_event_loop", "poll_ms_value", "run"]

T = TypeVar("T")

#: environment variable read when no choice is given
LOOP_ENV = "SWITCHLAB_LOOP"
LOOP_CHOICES = ("auto", "uvloop", "asyncio")
#: environment variable read when no poll interval is given (ms; 0 or unset: not paced)
POLL_ENV = "SWITCHLAB_POLL_MS"
#: the largest poll interval accepted (a longer one would hold every timer and reply that long)
MAX_POLL_MS = 100.0


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def poll_ms_value(poll_ms: float | str | None = None) -> float:
    """The poll interval in ms: ``poll_ms``, else ``$SWITCHLAB_POLL_MS``, else 0 (not paced).

    >>> poll_ms_value(2), poll_ms_value(None), poll_ms_value("0.5")
    (2.0, 0.0, 0.5)
    """
    source = ""
    if poll_ms is None:
        poll_ms = os.environ.get(POLL_ENV) or 0.0
        source = f" (from ${POLL_ENV})"
    try:
        value = float(poll_ms)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= MAX_POLL_MS:  # NaN fails too
        raise ConfigError(f"poll interval {poll_ms!r}{source} is not a number of milliseconds "
                          f"from 0 (not paced) to {MAX_POLL_MS:g}")
    return value


def loop_kind(choice: str | None = None, poll_ms: float | str | None = None) -> str:
    """``"uvloop"`` or ``"asyncio"``: what ``choice`` (or ``$SWITCHLAB_LOOP``, or auto) means
    here; with a poll interval (``poll_ms`` or ``$SWITCHLAB_POLL_MS``) always asyncio."""
    paced = poll_ms_value(poll_ms) > 0
    raw = choice if choice is not None else os.environ.get(LOOP_ENV) or "auto"
    want = raw.strip().lower()
    if want not in LOOP_CHOICES:
        source = "" if choice is not None else f" (from ${LOOP_ENV})"
        raise ConfigError(f"event loop {raw!r}{source} is not one of {', '.join(LOOP_CHOICES)}")
    if want == "asyncio" or (paced and want == "auto"):
        return "asyncio"
    if paced:
        raise ConfigError("a poll interval needs the asyncio loop (uvloop's poll cannot be "
                          "paced): choose --loop asyncio or auto, or no --poll-ms")
    if _uvloop_factory() is not None:
        return "uvloop"
    if want == "uvloop":
        raise ConfigError("event loop 'uvloop' asked for but uvloop is not installed: "
                          "pip install 'switchlab[fast]' (or choose 'auto' / 'asyncio')")
    return "asyncio"


class PacedSelector(selectors.DefaultSelector):
    """The platform's selector, waking the loop at most once every ``interval``
    seconds: a wait that starts sooner than ``interval`` after the last
    wake-up first sleeps until then and polls without blocking; if nothing is
    ready it blocks as usual, until something is or its timeout has passed. A
    zero timeout (callbacks are ready) polls at once. An idle loop blocks: it
    does not wake to poll. ``wakeups`` counts the waits that ended."""

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self.wakeups = 0
        self._next = 0.0  # no wake-up before this (monotonic seconds)

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        if timeout is not None and timeout <= 0:
            return super().select(0)
        now = time.monotonic()
        ready: list[tuple[Any, int]] = []
        if now < self._next:  # too soon after the last wake-up: sleep, then look
            time.sleep(self._next - now)
            ready = super().select(0)
            if timeout is not None:
                timeout -= time.monotonic() - now
        if not ready and (timeout is None or timeout > 0):
            ready = super().select(timeout)
        self.wakeups += 1
        self._next = time.monotonic() + self.interval
        return ready


def _paced_loop(interval: float) -> Callable[[], asyncio.AbstractEventLoop]:
    def factory() -> asyncio.AbstractEventLoop:
        return asyncio.SelectorEventLoop(PacedSelector(interval))
    return factory


def loop_factory(choice: str | None = None,
                 poll_ms: float | str | None = None) -> Callable[[], asyncio.AbstractEventLoop]:
    """A callable making a new event loop of the chosen kind (paced if asked)."""
    interval = poll_ms_value(poll_ms)  # $SWITCHLAB_POLL_MS read once
    kind = loop_kind(choice, interval)
    if interval > 0:
        return _paced_loop(interval / 1000.0)
    if kind == "uvloop":
        factory = _uvloop_factory()
        assert factory is not None
        return factory
    return asyncio.new_event_loop


def new_event_loop(choice: str | None = None,
                   poll_ms: float | str | None = None) -> asyncio.AbstractEventLoop:
    """A new (not running, not current) event loop of the chosen kind."""
    return loop_factory(choice, poll_ms)()


def describe(loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    """What a running loop is, for a run's parameters: ``{"loop": "uvloop" | "asyncio",
    "poll_ms": 0.0 (not paced) or the poll interval}``.

    >>> describe(new_event_loop("asyncio", poll_ms=2.5))
    {'loop': 'asyncio', 'poll_ms': 2.5}
    """
    selector = getattr(loop, "_selector", None)
    ms = 1000.0 * selector.interval if isinstance(selector, PacedSelector) else 0.0
    return {"loop": type(loop).__module__.split(".")[0], "poll_ms": ms}


def run(main: Coroutine[Any, Any, T], *, loop: str | None = None,
        poll_ms: float | str | None = None) -> T:
    """``asyncio.run(main)`` on the chosen kind of loop."""
    with asyncio.Runner(loop_factory=loop_factory(loop, poll_ms)) as runner:
        return runner.run(main)


async def _answer() -> int:
    return 42
