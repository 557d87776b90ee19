"""``Handlers``: who hears about a connection's events and life.

Events go to ``on_event`` (one callable, the cheapest path) and any
``add_event_handler`` sinks, combined into the protocol's single ``emit``;
other notifications (``disconnect``, ``reconnect``, ``linger``, ``log``,
``job``) go to the lists of :meth:`Handlers.add_handler`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..wire.events import Event
from .protocol import ESLProtocol

__all__ = ["HANDLER_KINDS", "Handlers"]

log = logging.getLogger(__name__)

HANDLER_KINDS = ("disconnect", "reconnect", "linger", "log", "job")


def _noop(_ev: Event) -> None:
    return None


class Handlers:
    """Event sinks and notification handlers; needs ``_esl`` (the protocol)."""

    _esl: ESLProtocol

    def _init_handlers(self) -> None:
        self._on_event: Callable[[Event], Any] | None = None
        self._event_handlers: list[Callable[[Event], Any]] = []
        self._handlers: dict[str, list[Callable[..., Any]]] = {k: [] for k in HANDLER_KINDS}
        self._esl.on_job = self._job_done

    @property
    def on_event(self) -> Callable[[Event], Any] | None:
        """One callable given every event (set to None to remove)."""
        return self._on_event

    @on_event.setter
    def on_event(self, fn: Callable[[Event], Any] | None) -> None:
        self._on_event = fn
        self._rebuild_emit()

    def add_event_handler(self, fn: Callable[[Event], Any]) -> None:
        """Add a callable given every event, after ``on_event``."""
        self._event_handlers.append(fn)
        self._rebuild_emit()

    def remove_event_handler(self, fn: Callable[[Event], Any]) -> None:
        self._event_handlers.remove(fn)
        self._rebuild_emit()

    def _rebuild_emit(self) -> None:
        sinks = ([self._on_event] if self._on_event else []) + list(self._event_handlers)
        if not sinks:
            self._esl.emit = _noop
        elif len(sinks) == 1:
            self._esl.emit = sinks[0]
        else:
            def emit(ev: Event, _sinks: tuple[Callable[[Event], Any], ...] = tuple(sinks)) -> None:
                for fn in _sinks:
                    try:
                        fn(ev)
                    except Exception:
                        log.exception("event handler %r failed on %r", fn, ev)
            self._esl.emit = emit

    def add_handler(self, kind: str, fn: Callable[..., Any]) -> None:
        """Register ``fn`` for ``"disconnect"``, ``"reconnect"``, ``"linger"``, ``"log"`` or ``"job"``."""
        if kind not in self._handlers:
            raise ValueError(f"unknown handler kind {kind!r}; use one of {', '.join(HANDLER_KINDS)}")
        self._handlers[kind].append(fn)

    def remove_handler(self, kind: str, fn: Callable[..., Any]) -> None:
        self._handlers[kind].remove(fn)

    def _notify(self, kind: str, *args: Any) -> None:
        for fn in list(self._handlers[kind]):
            try:
                fn(*args)
            except Exception:
                log.exception("%s handler %r failed", kind, fn)

    def _job_done(self, job: Any) -> None:
        self._notify("job", job)

    def request_yield(self) -> None:
        """Let the loop run (woken tasks, new coroutines) before the next frame is handled.

        Called by the state layer after it resolved a future or started a
        task, so that a coroutine awaiting ``sess.recv(...)`` sees the very
        next event even when both arrived in the same TCP read.
        """
        self._esl.yield_requested = True
