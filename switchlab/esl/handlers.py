"""``Handlers``: who hears about a connection's events and life.

Events go to ``on_event`` (one callable, the cheapest path) and any
``add_event_handler`` sinks, combined into the protocol's single ``emit``;
once a sink wants the event's name too (``add_named_event_handler``: the state
layer's listener), all are combined into its ``emit_named`` instead, so the
name the protocol reads (to find a job's ``BACKGROUND_JOB``) is read once;
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
        # every add_event_handler / add_named_event_handler sink in registration
        # order, with True for the named ones
        self._event_handlers: list[tuple[Callable[..., Any], bool]] = []
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
        self._event_handlers.append((fn, False))
        self._rebuild_emit()

    def remove_event_handler(self, fn: Callable[[Event], Any]) -> None:
        self._event_handlers.remove((fn, False))
        self._rebuild_emit()

    def add_named_event_handler(self, fn: Callable[[Event, str], Any]) -> None:
        """Add a callable given every event and its ``Event-Name`` (``""`` when it
        has none, read once for all of them), after ``on_event``, in the order
        of registration with the :meth:`add_event_handler` ones."""
        self._event_handlers.append((fn, True))
        self._rebuild_emit()

    def remove_named_event_handler(self, fn: Callable[[Event, str], Any]) -> None:
        self._event_handlers.remove((fn, True))
        self._rebuild_emit()

    def _rebuild_emit(self) -> None:
        sinks = ([(self._on_event, False)] if self._on_event else []) + self._event_handlers
        esl = self._esl
        if not any(named for _, named in sinks):
            esl.emit_named = None
            plain = tuple(fn for fn, _ in sinks)
            if not plain:
                esl.emit = _noop
            elif len(plain) == 1:
                esl.emit = plain[0]
            else:
                def emit(ev: Event, _sinks: tuple[Callable[[Event], Any], ...] = plain) -> None:
                    for fn in _sinks:
                        try:
                            fn(ev)
                        except Exception:
                            log.exception("event handler %r failed on %r", fn, ev)
                esl.emit = emit
            return
        esl.emit = _noop
        if len(sinks) == 1:
            esl.emit_named = sinks[0][0]
            return

        def emit_named(ev: Event, name: str,
                       _sinks: tuple[tuple[Callable[..., Any], bool], ...] = tuple(sinks)) -> None:
            for fn, named in _sinks:
                try:
                    fn(ev, name) if named else fn(ev)
                except Exception:
                    log.exception("event handler %r failed on %r", fn, ev)
        esl.emit_named = emit_named

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
