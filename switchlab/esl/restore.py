"""What to re-apply on a new connection: subscriptions, filters, myevents, linger, log level."""
from __future__ import annotations

from collections.abc import Iterable

from ..wire import commands

__all__ = ["Restore"]


class Restore:
    """The event-socket settings a client asked for, kept to replay after a reconnect.

    >>> r = Restore()
    >>> r.subscribed(["CHANNEL_ANSWER"], "plain"); r.filter_added("Unique-ID", "u1")
    >>> [what for _data, what in r.commands()]
    ['event plain CHANNEL_ANSWER', 'filter Unique-ID u1']
    """

    __slots__ = ("event_fmt", "event_names", "filters", "myevents", "linger", "log_level")

    def __init__(self) -> None:
        self.event_fmt = "plain"
        self.event_names: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.myevents: tuple[str, str] | None = None
        #: ``(True, seconds)`` after ``linger [seconds]``, None after ``nolinger``
        self.linger: tuple[bool, int | None] | None = None
        self.log_level: int | str | None = None

    def has_event(self, name: str) -> bool:
        """True when ``name`` (or ``ALL``) is subscribed."""
        names = self.event_names
        return "ALL" in names or name in names

    def subscribed(self, names: Iterable[str], fmt: str) -> None:
        self.event_fmt = fmt
        self.event_names.update(names)

    def unsubscribed(self, names: Iterable[str]) -> None:
        self.event_names.difference_update(names)

    def filter_added(self, header: str, value: str) -> None:
        self.filters.append((header, value))

    def filter_deleted(self, header: str, value: str | None) -> None:
        if header.lower() == "all":
            self.filters.clear()
        else:
            self.filters = [(h, v) for h, v in self.filters
                            if not (h == header and (value is None or v == value))]

    def commands(self) -> list[tuple[bytes, str]]:
        """``(bytes, what)`` of the subscription and filters, sent together first."""
        out = []
        names = sorted(self.event_names)
        if names:
            out.append((commands.event(names, self.event_fmt),
                        f"event {self.event_fmt} {' '.join(names)}"))
        for header, value in self.filters:
            out.append((commands.filter_add(header, value), f"filter {header} {value}"))
        return out
