"""Which asyncio event loop switchlab runs on: uvloop where installed, else asyncio's own.

uvloop (``pip install switchlab[fast]``) runs the same code with a cheaper
loop (its transports and timers are written in C): see docs/PERFORMANCE.md
for the measured difference. The choice is ``auto`` (uvloop when it can be
imported, else asyncio), ``uvloop`` (required: an error says how to install
it) or ``asyncio``; it comes from the argument, else the ``SWITCHLAB_LOOP``
environment variable, else ``auto``. Everything works on either loop.

>>> loop_kind("asyncio")
'asyncio'
>>> run(_answer(), loop="asyncio")
42
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = ["LOOP_CHOICES", "LOOP_ENV", "loop_factory", "loop_kind", "new_event_loop", "run"]

T = TypeVar("T")

#: environment variable read when no choice is given
LOOP_ENV = "SWITCHLAB_LOOP"
LOOP_CHOICES = ("auto", "uvloop", "asyncio")


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_kind(choice: str | None = None) -> str:
    """``"uvloop"`` or ``"asyncio"``: what ``choice`` (or ``$SWITCHLAB_LOOP``, or auto) means here."""
    raw = choice if choice is not None else os.environ.get(LOOP_ENV) or "auto"
    want = raw.strip().lower()
    if want not in LOOP_CHOICES:
        source = "" if choice is not None else f" (from ${LOOP_ENV})"
        raise ConfigError(f"event loop {raw!r}{source} is not one of {', '.join(LOOP_CHOICES)}")
    if want == "asyncio":
        return "asyncio"
    if _uvloop_factory() is not None:
        return "uvloop"
    if want == "uvloop":
        raise ConfigError("event loop 'uvloop' asked for but uvloop is not installed: "
                          "pip install 'switchlab[fast]' (or choose 'auto' / 'asyncio')")
    return "asyncio"


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop]:
    """A callable making a new event loop of the chosen kind."""
    if loop_kind(choice) == "uvloop":
        factory = _uvloop_factory()
        assert factory is not None
        return factory
    return asyncio.new_event_loop


def new_event_loop(choice: str | None = None) -> asyncio.AbstractEventLoop:
    """A new (not running, not current) event loop of the chosen kind."""
    return loop_factory(choice)()


def run(main: Coroutine[Any, Any, T], *, loop: str | None = None) -> T:
    """``asyncio.run(main)`` on the chosen kind of loop."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(main)


async def _answer() -> int:
    return 42
