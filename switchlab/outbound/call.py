"""``OutboundCall``: one connection of the outbound server, one call, start to end.

It sends ``connect`` (and, by default, ``myevents`` and ``linger``), turns the
channel data into the same :class:`~switchlab.state.Session` and
:class:`~switchlab.state.Call` the inbound side has (an
:class:`~switchlab.state.EventListener` over the connection) and runs the
server's apps on it: their ``@callback``/``@coroutine``/``@handler`` methods
are registered unchanged (``CHANNEL_DATA`` is the first event every call has).

The connection is closed cleanly whatever the apps do: an exception is logged
with the call's uuid and the call is hung up; once the channel is gone (the
linger notice) the apps' tasks get ``grace`` seconds, then ``exit``.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..apps import get_callbacks
from ..errors import CommandFailed, Disconnected, SessionGone
from ..esl.outbound import OutboundConnection
from ..measure.record import RECORDED_EVENTS
from ..state.dispatch import EventListener
from ..wire.events import Event

if TYPE_CHECKING:
    from .server import OutboundServer

log = logging.getLogger("switchlab.outbound")

#: the apps of an outbound server take every session: no app-id variable routes them
_NO_APP_VAR = "switchlab_outbound_no_app_id"
_QUIET = (Disconnected, SessionGone, CommandFailed, asyncio.CancelledError)


class OutboundCall:
    """One call handled by an :class:`~switchlab.outbound.OutboundServer`.

    Attributes: ``conn`` (the :class:`~switchlab.esl.outbound.OutboundConnection`),
    ``channel`` (the ``connect`` reply's channel data), ``session`` and
    ``listener``, ``error`` (the first app exception, if any), ``accepted``
    (local monotonic time of the accept), ``events`` (the channel data and the
    session's events its row is made of).
    """

    def __init__(self, server: OutboundServer, conn: OutboundConnection) -> None:
        self.server = server
        self.conn = conn
        self.channel: Event | None = None
        self.listener: EventListener | None = None
        self.error: BaseException | None = None
        self.accepted = time.monotonic()
        self.accepted_wall = time.time()
        self.events: list[Event] = []
        self._gone = asyncio.Event()
        self._hanging_up = False

    @property
    def uuid(self) -> str | None:
        return self.conn.uuid

    @property
    def session(self) -> Any:
        listener, uuid = self.listener, self.uuid
        if listener is None or uuid is None:
            return None
        return listener.sessions.get(uuid)

    def __repr__(self) -> str:
        return f"<OutboundCall {self.uuid or '-'} {self.conn.address}>"

    # -- the call, start to end -----------------------------------------------------------
    async def run(self) -> None:
        """Handle the connection until it is closed (never raises)."""
        server = self.server
        conn = self.conn
        conn.add_handler("linger", self._lingering)
        conn.add_handler("disconnect", self._disconnected)
        try:
            try:
                self.channel = await conn.connect(server.connect_timeout)
            except (asyncio.TimeoutError, Disconnected, CommandFailed) as exc:
                self.error = exc
                log.warning("%s: 'connect' failed: %s", conn.address,
                            exc or f"no reply within {server.connect_timeout:g} s")
                return
            self._start()
            await self._wait_end()
        except Exception as exc:  # a bug here must not stop the server
            self._failed(exc, "the outbound call handler")
        finally:
            await self._close()

    def _start(self) -> None:
        server, conn = self.server, self.conn
        channel = self.channel
        assert channel is not None
        listener = self.listener = EventListener(conn, app_id_var=_NO_APP_VAR,
                                                 release_after_hangup=0.0)
        listener.add_handler("*", self._keep)
        for instance in server.instances:
            for event, kind, fn in get_callbacks(instance):
                if kind == "handler":
                    listener.add_handler(event, self._guard(fn))
                elif kind == "callback":
                    listener.add_callback(event, "default", self._guard(fn))
                else:
                    listener.add_coroutine(event, "default", self._guard_async(fn))
        if server.myevents:
            conn.myevents(fmt=None).add_done_callback(_quiet)
        if server.linger:
            conn.linger().add_done_callback(_quiet)
        channel.received = time.monotonic()
        channel.host = conn.host
        self.events.append(channel)
        listener.handle_event(channel)
        if server.call_timeout is not None:
            conn.loop.call_later(server.call_timeout, self.hangup, "ALLOTTED_TIMEOUT")

    def _keep(self, ev: Event) -> None:
        if ev.name in RECORDED_EVENTS:  # what the call's row is made of
            self.events.append(ev)

    async def _wait_end(self) -> None:
        await self._gone.wait()
        if self.conn.connected:  # lingering: the apps finish, then we leave
            listener = self.listener
            tasks = list(listener._tasks) if listener is not None else []
            if tasks:
                await asyncio.wait(tasks, timeout=self.server.grace)

    async def _close(self) -> None:
        conn = self.conn
        if conn.connected:
            try:
                await conn.exit(timeout=self.server.grace)
            except Exception:  # noqa: BLE001 - the socket may already be gone
                pass
        await conn.close()
        if self.listener is not None:
            self.listener.close()
        self.server._call_done(self)

    # -- what ends a call -----------------------------------------------------------------
    def _lingering(self, _frame: Any) -> None:
        self._gone.set()

    def _disconnected(self, _reason: str, _reconnecting: bool) -> None:
        self._gone.set()

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """Hang the call up (``sendmsg`` hangup); nothing if it is already over."""
        if self._hanging_up or not self.conn.connected or self._gone.is_set():
            return
        self._hanging_up = True
        try:
            self.conn.hangup_call(cause).add_done_callback(_quiet)
        except Disconnected:
            pass

    def _failed(self, exc: BaseException, where: str) -> None:
        if self.error is None:
            self.error = exc
        log.error("call %s: %s failed; hanging the call up", self.uuid or "?", where,
                  exc_info=exc)
        self.hangup("NORMAL_TEMPORARY_FAILURE")

    def _app_error(self, exc: BaseException, fn: Callable[..., Any]) -> None:
        if not isinstance(exc, _QUIET):  # the call went away under the app: not a failure
            self._failed(exc, f"app {fn.__qualname__}")

    def _guard(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(fn)
        def guarded(arg: Any) -> Any:
            try:
                return fn(arg)
            except Exception as exc:
                return self._app_error(exc, fn)
        return guarded

    def _guard_async(self, fn: Callable[[Any], Coroutine[Any, Any, Any]]
                     ) -> Callable[[Any], Coroutine[Any, Any, Any]]:
        @functools.wraps(fn)
        async def guarded(arg: Any) -> Any:
            try:
                return await fn(arg)
            except Exception as exc:
                return self._app_error(exc, fn)
        return guarded


def _quiet(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()
