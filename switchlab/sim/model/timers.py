"""The emulator's call steps: callbacks due in the same millisecond, run by one loop timer.

>>> import asyncio
>>> loop = asyncio.new_event_loop()
>>> wheel, done = TimerWheel(), []
>>> for n in (1, 2, 3):
...     _ = wheel.add(loop, 0.001, done.append, (n,))
>>> len(wheel)
3
>>> loop.run_until_complete(asyncio.sleep(0.01)); done
[1, 2, 3]
>>> loop.close()
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class Timer:
    """A callback waiting in a :class:`TimerWheel`; cancelled like an asyncio handle."""

    __slots__ = ("fn", "args")

    def __init__(self, fn: Callable[..., Any] | None, args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args

    def cancel(self) -> None:
        """Do not run (and let go of the callback and its arguments now)."""
        self.fn = None
        self.args = ()

    def cancelled(self) -> bool:
        return self.fn is None


class TimerWheel:
    """Call steps due in the same millisecond of the loop's clock, run by one loop timer.

    A call costs about ten timers, most of them one tick (1 ms) apart; at hundreds of
    calls a second many fall in the same millisecond. Instead of a loop timer each,
    they wait in that millisecond's list and run in the order they were scheduled,
    as uvloop runs timers due in the same millisecond. A step scheduled for the
    millisecond being run goes to a new list, run on the loop's next iteration (as a
    new loop timer would be).
    """

    __slots__ = ("_slots",)

    def __init__(self) -> None:
        self._slots: dict[int, list[Timer]] = {}

    def add(self, loop: asyncio.AbstractEventLoop, delay: float, fn: Callable[..., Any],
            args: tuple[Any, ...]) -> Timer:
        """Schedule ``fn(*args)`` in ``delay`` seconds (rounded to the millisecond)."""
        key = int((loop.time() + delay) * 1000 + 0.5)
        timer = Timer(fn, args)
        slots = self._slots
        if key in slots:
            slots[key].append(timer)
        else:
            slots[key] = [timer]
            loop.call_at(key / 1000, self._run, loop, key)
        return timer

    def _run(self, loop: asyncio.AbstractEventLoop, key: int) -> None:
        for timer in self._slots.pop(key):
            fn = timer.fn
            if fn is None:
                continue
            try:
                fn(*timer.args)
            except Exception as exc:  # as the loop does for a failing callback
                loop.call_exception_handler({
                    "message": f"Exception in callback {fn!r}", "exception": exc})

    def __len__(self) -> int:
        """Callbacks waiting (cancelled ones included until their millisecond)."""
        return sum(len(slot) for slot in self._slots.values())
