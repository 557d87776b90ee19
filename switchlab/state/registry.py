"""What an :class:`~switchlab.state.EventListener` calls, and the methods that
register it: plain and session handlers per event name, app callbacks and
coroutines per app id, call-end handlers."""
from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from ..wire.events import Event
from .call import Call
from .session import Session

__all__ = ["CoroFn", "EventFn", "ModelFn", "Registry", "SessionFn"]

EventFn = Callable[[Event], Any]
ModelFn = Callable[[Any], Any]
CoroFn = Callable[[Any], Coroutine[Any, Any, Any]]
SessionFn = Callable[[Event, Session | None, str, int | None], Any]


class Registry:
    """The listener's registrations (a mixin: the listener dispatches)."""

    def _init_registry(self) -> None:
        self._handlers: dict[str, list[EventFn]] = {}
        self._session_handlers: dict[str, list[SessionFn]] = {}
        self._callbacks: dict[str, dict[str, list[ModelFn]]] = {}
        self._coroutines: dict[str, dict[str, list[CoroFn]]] = {}
        self._call_end: list[Callable[[Call], Any]] = []

    # -- registration ---------------------------------------------------------
    def add_handler(self, name: str, fn: EventFn) -> None:
        """Call ``fn(event)`` for every ``name`` event (``"*"``: every event)."""
        self._handlers.setdefault(name, []).append(fn)

    def remove_handler(self, name: str, fn: EventFn) -> None:
        self._handlers[name].remove(fn)
        if not self._handlers[name]:
            del self._handlers[name]

    def add_session_handler(self, name: str, fn: SessionFn) -> None:
        """Call ``fn(event, session, name, stamp)`` for every ``name`` event, right
        after the state update and before the :meth:`add_handler` handlers.
        ``session`` is the :class:`Session` the listener keeps for the event's
        channel (None when it keeps none: no ``Unique-ID``, a trailing event of a
        released channel), ``stamp`` its ``Event-Date-Timestamp`` in µs as the
        session's timeline has it (None without a session): nothing to look up again."""
        self._session_handlers.setdefault(name, []).append(fn)

    def remove_session_handler(self, name: str, fn: SessionFn) -> None:
        self._session_handlers[name].remove(fn)
        if not self._session_handlers[name]:
            del self._session_handlers[name]

    def add_call_end_handler(self, fn: Callable[[Call], Any]) -> None:
        """Call ``fn(call)`` once every leg of a call is released (the call is complete)."""
        self._call_end.append(fn)

    def remove_call_end_handler(self, fn: Callable[[Call], Any]) -> None:
        self._call_end.remove(fn)

    def add_callback(self, name: str, app_id: str, fn: ModelFn, prepend: bool = False) -> None:
        """Call ``fn(session)`` for ``name`` events of sessions of app ``app_id``."""
        chain = self._callbacks.setdefault(app_id, {}).setdefault(name, [])
        chain.insert(0, fn) if prepend else chain.append(fn)

    def add_coroutine(self, name: str, app_id: str, fn: CoroFn, prepend: bool = False) -> None:
        """Start ``fn(session)`` as a task for ``name`` events of app ``app_id``'s sessions."""
        chain = self._coroutines.setdefault(app_id, {}).setdefault(name, [])
        chain.insert(0, fn) if prepend else chain.append(fn)

    def remove_callback(self, name: str, app_id: str, fn: Any) -> None:
        for table in (self._callbacks, self._coroutines):
            chain = table.get(app_id, {}).get(name)
            if chain and fn in chain:
                chain.remove(fn)
                if not chain:
                    del table[app_id][name]
                if not table[app_id]:
                    del table[app_id]
