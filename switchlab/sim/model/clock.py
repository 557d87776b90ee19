"""The emulator's clock: microseconds since the epoch, advancing in ticks.

FreeSWITCH stamps events from a cached clock that its timer thread advances
once per tick: 20 ms on a stock server, 1 ms with ``1ms-timer``. Every event of
one tick carries the same ``Event-Date-Timestamp``. :class:`SimClock`
reproduces that: the wall clock floored to a multiple of the tick.

>>> c = SimClock(tick_us=20_000)
>>> c.now_us() % 20_000
0
"""
from __future__ import annotations

import time
from typing import Final

#: ticks FreeSWITCH supports here
STOCK_TICK_US: Final = 20_000
FAST_TICK_US: Final = 1_000


class SimClock:
    """Wall-clock microseconds quantized to ``tick_us``; formats FreeSWITCH dates."""

    __slots__ = ("tick_us", "_sec_cache", "_started_us")

    def __init__(self, tick_us: int = FAST_TICK_US) -> None:
        if tick_us < 1:
            raise ValueError(f"tick_us must be >= 1 microsecond, got {tick_us}")
        self.tick_us = int(tick_us)
        self._sec_cache: tuple[int, str, str] = (-1, "", "")
        self._started_us = self.now_us()

    def now_us(self) -> int:
        """Current stamp: wall-clock microseconds floored to the tick."""
        t = time.time_ns() // 1000
        return t - t % self.tick_us

    @property
    def started_us(self) -> int:
        """Stamp at which the clock (the emulated host) started."""
        return self._started_us

    def tick_seconds(self) -> float:
        """The tick in seconds (the smallest delay that moves the stamp)."""
        return self.tick_us / 1e6

    def dates(self, stamp_us: int) -> tuple[str, str]:
        """``(Event-Date-Local, Event-Date-GMT)`` for a stamp (cached per second)."""
        sec = stamp_us // 1_000_000
        cached = self._sec_cache
        if cached[0] == sec:
            return cached[1], cached[2]
        local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec))
        gmt = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(sec))
        self._sec_cache = (sec, local, gmt)
        return local, gmt


_stamp_cache: dict[int, str] = {}


def local_stamp(stamp_us: int) -> str:
    """``YYYY-MM-DD hh:mm:ss`` local time, as in ``start_stamp`` variables (cached)."""
    sec = stamp_us // 1_000_000
    text = _stamp_cache.get(sec)
    if text is None:
        if len(_stamp_cache) > 4096:
            _stamp_cache.clear()
        text = _stamp_cache[sec] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec))
    return text


def log_stamp(stamp_us: int) -> str:
    """``YYYY-MM-DD hh:mm:ss.uuuuuu`` as at the start of a FreeSWITCH log line."""
    sec, usec = divmod(stamp_us, 1_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec)) + f".{usec:06d}"


def uptime_text(us: int) -> str:
    """FreeSWITCH's ``UP ...`` duration text (without the ``UP`` prefix).

    >>> uptime_text(112_518_933)
    '0 years, 0 days, 0 hours, 1 minute, 52 seconds, 518 milliseconds, 933 microseconds'
    """
    usec = us % 1000
    ms = (us // 1000) % 1000
    secs = us // 1_000_000
    sec = secs % 60
    mins = (secs // 60) % 60
    hours = (secs // 3600) % 24
    days = (secs // 86400) % 365
    years = secs // (86400 * 365)

    def unit(n: int, name: str) -> str:
        return f"{n} {name}{'' if n == 1 else 's'}"

    return ", ".join([
        unit(years, "year"), unit(days, "day"), unit(hours, "hour"), unit(mins, "minute"),
        unit(sec, "second"), unit(ms, "millisecond"), unit(usec, "microsecond"),
    ])
