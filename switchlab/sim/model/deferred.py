"""A result that arrives later, with callbacks run synchronously on arrival.

asyncio futures run their callbacks on a later loop iteration; FreeSWITCH fires
``BACKGROUND_JOB`` in the same breath as the originate result, before the
channel's next events, so the emulator needs callbacks that run at once.

>>> d = Deferred()
>>> seen = []
>>> d.add_done_callback(seen.append)
>>> d.resolve("+OK\\n")
>>> seen
['+OK\\n']
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any


class Deferred:
    """A one-shot text result (``+OK ...`` / ``-ERR ...``), awaitable."""

    __slots__ = ("done", "result", "_callbacks", "_future")

    def __init__(self) -> None:
        self.done = False
        self.result = ""
        self._callbacks: list[Callable[[str], Any]] = []
        self._future: asyncio.Future[str] | None = None

    def add_done_callback(self, cb: Callable[[str], Any]) -> None:
        if self.done:
            cb(self.result)
        else:
            self._callbacks.append(cb)

    def resolve(self, value: str) -> None:
        """Set the result (first call wins) and run the callbacks now."""
        if self.done:
            return
        self.done = True
        self.result = value
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(value)
        fut = self._future
        if fut is not None and not fut.done():
            fut.set_result(value)

    def __await__(self) -> Generator[Any, None, str]:
        if self.done:
            return self.result
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        return (yield from self._future.__await__())
