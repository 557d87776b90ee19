"""The life of a connection: its states, the reconnect policy, the record of an outage."""
from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ConnectionState", "Gap", "Reconnect"]


class ConnectionState(str, enum.Enum):
    """Where a :class:`Connection` is in its life."""

    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class Reconnect:
    """Auto-reconnect policy: exponential backoff between attempts.

    ``max_time`` bounds the whole outage (None: try for ever).

    >>> Reconnect(initial=0.05, maximum=1.0).initial
    0.05
    """

    initial: float = 0.1
    maximum: float = 5.0
    factor: float = 2.0
    max_time: float | None = None
    attempt_timeout: float = 5.0

    def next_delay(self, delay: float) -> float:
        """The pause after one of ``delay``.

        >>> Reconnect(initial=1, maximum=3).next_delay(2)
        3
        """
        return min(delay * self.factor, self.maximum)


@dataclass(frozen=True)
class Gap:
    """An interval during which the connection was down and events were lost.

    ``start``/``end`` are wall-clock (``time.time()``), ``*_monotonic`` are
    ``time.monotonic()`` (the clock of ``ev.received``).
    """

    start: float
    end: float
    start_monotonic: float
    end_monotonic: float
    reason: str
    attempts: int

    @property
    def duration(self) -> float:
        """Seconds without a connection."""
        return self.end_monotonic - self.start_monotonic
