"""Channels handed over to their call's owner: no session, no call kept.

A load test's calls without an app need none of a session's history, waiters
or app dispatch: the recorder only ties each event to the call attempt it
launched. An owner (:meth:`HandOver.set_call_owner`) is offered each new
channel at its first event that carries the variables (CHANNEL_CREATE; a
session made at a CHANNEL_OUTGOING before it is dropped, unless waited on) and
whose app id (``"default"`` without one) has no app callback or coroutine
registered on the listener; it answers with a handler for that channel, or None to leave it to
the listener. The listener then gives every event of the channel to that
handler (``fn(event, name, stamp)``) and to its plain handlers, and keeps no
:class:`~switchlab.state.Session` or :class:`~switchlab.state.Call` for it.
The channel is let go at its CHANNEL_HANGUP_COMPLETE (or CHANNEL_DESTROY),
after which its trailing events are those of a released channel. The
listener's counters (``total_sessions``, ``answered_sessions``,
``hangup_causes``) count handed-over channels as they count sessions.

Nothing is handed over while a session handler other than the owner's is
registered: its channels keep sessions. An app loaded for an app id later does
not see the channels of that id handed over before.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..wire.events import Event

__all__ = ["HandOver", "OwnedFn", "OwnerFn"]

#: a handed-over channel's handler: ``fn(event, name, stamp_us)``
OwnedFn = Callable[[Event, str, "int | None"], Any]
#: an owner: ``fn(call_id, uuid)`` → the channel's handler, or None to decline
OwnerFn = Callable[[str, str], "OwnedFn | None"]


class HandOver:
    """The listener's owned channels (a mixin: the listener dispatches)."""

    call_tracking_header: str
    app_id_header: str
    total_sessions: int
    answered_sessions: int
    hangup_causes: Counter[str]
    _released: set[str]
    sessions: dict[str, Any]
    _session_handlers: dict[str, list[Any]]
    _callbacks: dict[str, dict[str, list[Any]]]
    _coroutines: dict[str, dict[str, list[Any]]]

    def _init_hand_over(self) -> None:
        self._owner: OwnerFn | None = None
        self._owner_taps: tuple[Any, ...] = ()
        self._owned: dict[str, OwnedFn] = {}  # uuid -> its handler

    def set_call_owner(self, owner: OwnerFn | None, taps: Iterable[Any] = ()) -> None:
        """Offer new app-less channels to ``owner`` (None: stop). ``taps`` are the
        owner's own session handlers, which a handed-over channel does not need.
        A new owner (or None) lets go of the channels handed to the one before:
        their later events are those of a released channel (no session; session
        handlers get them with none)."""
        if owner != self._owner:
            self._drop_owned()
        self._owner = owner
        self._owner_taps = tuple(taps)

    @property
    def owned_channels(self) -> int:
        """Channels handed over to the call owner and not ended yet."""
        return len(self._owned)

    def _only_owner_taps(self) -> bool:
        """Whether the owner's are the only session handlers."""
        taps = self._owner_taps
        for fns in self._session_handlers.values():
            for fn in fns:
                if fn not in taps:
                    return False
        return True

    def _offer(self, ev: Event, uuid: str, owner: OwnerFn, sess: Any) -> OwnedFn | None:
        """The handler of channel ``uuid``, if its owner takes it: ``ev`` is its first
        event with the variables; ``sess`` its session when an event without them
        (CHANNEL_OUTGOING) came first: it is dropped unless somebody waits on it."""
        if sess is not None and (sess._waiters or sess._apps):
            return None
        if uuid in self._released:
            return None
        # no app registered: none would see it, whatever its app id (not read: it is a
        # variable, near the end of the event's ~6 KB)
        if self._callbacks or self._coroutines:
            app_id = ev.get(self.app_id_header) or "default"
            if app_id in self._callbacks or app_id in self._coroutines:
                return None  # an app would see it
        call_id = ev.get(self.call_tracking_header)
        if call_id is None or not self._only_owner_taps():
            return None
        fn = owner(call_id, uuid)
        if fn is not None:
            self._owned[uuid] = fn
            if sess is None:
                self.total_sessions += 1
            else:  # counted when it was made
                del self.sessions[uuid]
        return fn

    def _owned_event(self, fn: OwnedFn, ev: Event, uuid: str, name: str) -> None:
        """An event of handed-over channel ``uuid``: to its handler; the channel
        ends at its CHANNEL_HANGUP_COMPLETE or CHANNEL_DESTROY."""
        if name == "CHANNEL_ANSWER":
            self.answered_sessions += 1
        elif name == "CHANNEL_HANGUP_COMPLETE" or name == "CHANNEL_DESTROY":
            del self._owned[uuid]
            self._released_add(uuid)
            if name == "CHANNEL_HANGUP_COMPLETE":
                self.hangup_causes[ev.get("Hangup-Cause") or "UNKNOWN"] += 1
        fn(ev, name, ev.timestamp_us)

    def _released_add(self, uuid: str) -> None:
        raise NotImplementedError  # the listener's

    def _drop_owned(self, alive: set[Any] | None = None) -> int:
        """Forget handed-over channels (all, or those not in ``alive``); how many."""
        gone = [u for u in self._owned if alive is None or u not in alive]
        for uuid in gone:
            del self._owned[uuid]
            self._released_add(uuid)
        return len(gone)
