"""``Connection``: the inbound event socket (we dial FreeSWITCH's ``mod_event_socket``).

One :class:`Connection` is one TCP connection to FreeSWITCH. It waits for the
``auth/request`` greeting, authenticates, sends commands and matches every
reply to its command in order (FIFO, in :class:`~.protocol.ESLProtocol`)
while events interleave, with any number of commands in flight. Every event
is stamped with ``ev.received`` (local ``time.monotonic()`` at read time) and
``ev.host`` and handed to the event handlers.

>>> conn = await connect("127.0.0.1:8021", password="ClueCon")   # doctest: +SKIP
>>> await conn.api("status")                                      # doctest: +SKIP
'UP 0 years, 0 days, ...'
>>> conn.on_event = lambda ev: print(ev.name)                     # doctest: +SKIP
>>> await conn.subscribe("CHANNEL_ANSWER", "BACKGROUND_JOB")      # doctest: +SKIP
>>> job = conn.bgapi("originate sofia/external/x@127.0.0.1:5080 &park()")  # doctest: +SKIP
>>> await job                                                     # doctest: +SKIP
'4c6198d3-901d-4e03-8997-4797f06e06ca'

Command methods (:class:`~.requests.Requests`) send at once and return an
:class:`asyncio.Future`, so they work from plain callbacks too (fire and
forget) and many can be in flight. When the connection closes (peer close,
disconnect notice, ``exit``) every pending and future call fails with
:class:`~switchlab.errors.Disconnected`; with ``reconnect=True`` the
connection comes back with its subscriptions and filters, and the lost
interval is reported as a :class:`~.reconnect.Gap`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ..errors import ConnectionFailed, Disconnected, ProtocolError
from ..wire import commands
from ..wire.frames import AUTH_REQUEST, DISCONNECT_NOTICE, LOG_DATA, RUDE_REJECTION, Frame
from .address import format_address, parse_address
from .decoders import AuthReply, Decoder
from .handlers import Handlers
from .job import Job, silence
from .protocol import ESLProtocol
from .lifecycle import ConnectionState, Gap, Reconnect
from .reconnect import Reconnecting
from .requests import Requests
from .secret import check_password
from .stream import ESLStream

__all__ = ["Connection", "ConnectionState", "connect"]

log = logging.getLogger(__name__)

_monotonic = time.monotonic


def _expire(fut: asyncio.Future[Any], what: str, timeout: float, address: str) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError(f"{what!r} got no reply from {address} within {timeout:g} s"))


class Connection(Requests, Handlers, Reconnecting):
    """A connection to one FreeSWITCH event socket. Create with :func:`connect`.

    Attributes: ``host``, ``port``, ``state`` (:class:`ConnectionState`),
    ``closed_reason`` (why it closed), ``lingering`` (a ``linger`` disconnect
    notice arrived: the socket stays open), ``gaps`` (list of :class:`Gap`),
    ``events_received``.

    Event delivery: ``conn.on_event = fn`` (one callable, the cheapest path)
    and/or ``conn.add_event_handler(fn)``; each gets every
    :class:`~switchlab.wire.Event`. Other notifications via
    :meth:`add_handler`: ``"disconnect"`` ``fn(reason, reconnecting)``,
    ``"reconnect"`` ``fn(gap)``, ``"linger"`` ``fn(frame)``, ``"log"``
    ``fn(frame)``, ``"job"`` ``fn(job)``.
    """

    def __init__(self, host: str, port: int | str | None = None, password: str = "ClueCon", *,
                 reconnect: bool | Reconnect = False,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.host, self.port = parse_address(host, port)
        self.address = format_address(self.host, self.port)
        self._password = check_password(password)
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = asyncio.get_event_loop()
        self._loop = loop
        self.reconnect_policy: Reconnect | None = (
            Reconnect() if reconnect is True else (reconnect or None))
        self.state = ConnectionState.NEW
        self.closed_reason: str | None = None
        self.gaps: list[Gap] = []
        #: the ProtocolError that made us drop the connection, if any (holds the bytes)
        self.protocol_error: ProtocolError | None = None
        self._esl = ESLProtocol(loop.create_future, host=self.host, address=self.address)
        self._esl.on_notice = self._control
        self._init_handlers()
        self._auth_reply = AuthReply(self.address)
        self._stream: ESLStream | None = None
        self._greeting: asyncio.Future[Frame] | None = None
        self._lost_reason_override: str | None = None
        self._user_closed = False
        self._closed_event = asyncio.Event()
        self._reconnect_task: asyncio.Task[None] | None = None

    # -- state ----------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this connection runs on."""
        return self._loop

    @property
    def protocol(self) -> ESLProtocol:
        """The sans-I/O protocol object (replies, jobs, what to restore)."""
        return self._esl

    @property
    def pending_jobs(self) -> int:
        """bgapi jobs still waiting for their BACKGROUND_JOB."""
        return len(self._esl.jobs)

    @property
    def lingering(self) -> bool:
        return self._esl.lingering

    @property
    def events_received(self) -> int:
        return self._esl.events_received

    def __repr__(self) -> str:
        return f"<Connection {self.address} {self.state.value}>"

    def _where_to_look(self) -> str:
        return (f"Check that FreeSWITCH runs there, that mod_event_socket is loaded and listening on "
                f"{self.address} (event_socket.conf.xml: listen-ip, listen-port), that its ACL "
                f"(apply-inbound-acl) admits this client, and that no firewall blocks TCP {self.port}.")

    # -- opening --------------------------------------------------------------------
    async def open(self, timeout: float = 5.0) -> Connection:
        """Connect and authenticate (called by :func:`connect`)."""
        if self.state in (ConnectionState.CONNECTED, ConnectionState.CONNECTING):
            return self
        self._user_closed = False
        self.state = ConnectionState.CONNECTING
        try:
            await self._open(timeout)
        except BaseException as exc:
            self.state = ConnectionState.CLOSED
            self.closed_reason = f"connect failed: {exc}" if str(exc) else "connect failed"
            raise
        self.state = ConnectionState.CONNECTED
        self.closed_reason = None
        self._closed_event.clear()
        log.debug("connected to %s", self.address)
        return self

    def _new_stream(self) -> ESLStream:
        return ESLStream(self._esl, self._loop, self._stream_made, self._stream_error,
                         self._stream_lost)

    async def _open(self, timeout: float) -> None:
        loop = self._loop
        deadline = loop.time() + timeout
        try:
            _t, stream = await asyncio.wait_for(
                loop.create_connection(self._new_stream, self.host, self.port), timeout)
        except asyncio.TimeoutError:
            raise ConnectionFailed(
                f"connecting to FreeSWITCH's event socket at {self.address} timed out after "
                f"{timeout:g} s. {self._where_to_look()}") from None
        except OSError as exc:
            what = exc.strerror or str(exc) or type(exc).__name__
            raise ConnectionFailed(
                f"cannot connect to FreeSWITCH's event socket at {self.address}: {what}. "
                f"{self._where_to_look()}") from None
        greeting = self._greeting
        assert greeting is not None, "connection_made sets the greeting future"
        try:
            try:
                await asyncio.wait_for(asyncio.shield(greeting),
                                       max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise ConnectionFailed(
                    f"connected to {self.address} but no 'auth/request' greeting came within "
                    f"{timeout:g} s: is this FreeSWITCH's event socket (mod_event_socket)? "
                    f"{self._where_to_look()}") from None
            fut = self._request(commands.auth(self._password.reveal()), self._auth_reply, "auth",
                                force=True)
            try:
                await asyncio.wait_for(asyncio.shield(fut), max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise ConnectionFailed(
                    f"FreeSWITCH at {self.address} did not answer 'auth' within {timeout:g} s") from None
        except BaseException:
            stream.close()
            raise

    def _stream_made(self, stream: ESLStream) -> None:
        if self._stream is not None:
            self._stream.active = False
        self._stream = stream
        self._greeting = self._loop.create_future()
        self._greeting.add_done_callback(silence)
        assert stream.transport is not None
        # commands written while the stream is corked leave in one send (ESLStream.write)
        self._esl.connection_made(stream.write)

    # -- closing --------------------------------------------------------------------
    async def close(self) -> None:
        """Close the connection (no reconnect). Idempotent."""
        self._user_closed = True
        if self._reconnect_task is not None and not self._reconnect_task.done():
            self._reconnect_task.cancel()
        stream = self._stream
        if stream is not None and stream.transport is not None and not stream.closed.done():
            stream.close()
            try:
                await asyncio.wait_for(asyncio.shield(stream.closed), 2.0)
            except asyncio.TimeoutError:
                stream.abort()
        if self.state is not ConnectionState.CLOSED:
            self._finish_close("closed by this client")

    async def exit(self, timeout: float = 2.0) -> None:
        """Send ``exit`` (FreeSWITCH answers ``+OK bye`` and closes), wait for the close."""
        if self.state is not ConnectionState.CONNECTED:
            return
        self._user_closed = True
        fut = self.command("exit")
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except (Disconnected, asyncio.TimeoutError):
            pass
        await self.close()

    async def wait_closed(self) -> None:
        """Return once the connection is closed for good."""
        await self._closed_event.wait()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected (e.g. while reconnecting); raises Disconnected if closed."""
        async def _wait() -> None:
            while self.state is not ConnectionState.CONNECTED:
                if self.state is ConnectionState.CLOSED:
                    raise Disconnected(f"connection to {self.address} is closed: {self.closed_reason}; "
                                       "connect again with connect()")
                await asyncio.sleep(0.02)
        await asyncio.wait_for(_wait(), timeout)

    async def __aenter__(self) -> Connection:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- sending ----------------------------------------------------------------------
    def cork(self) -> ESLStream | None:
        """Hold the commands sent from now on until ``uncork()`` of the stream
        returned, then send them in one ``send`` (None: nothing to hold, not
        connected). For a caller that sends several commands in one go."""
        stream = self._stream
        if stream is None or not stream.writable:
            return None
        stream.cork()
        return stream

    def _request(self, data: bytes, decode: Decoder, what: str, *, job: Job | None = None,
                 force: bool = False, timeout: float | None = None) -> asyncio.Future[Any]:
        self._writable(what, force)
        fut = self._esl.request(data, decode, what, job)
        if timeout is not None:
            self._loop.call_later(timeout, _expire, fut, what, timeout, self.address)
        return fut

    def _send(self, data: bytes, decode: Decoder, what: str, *, job: Job | None = None) -> None:
        self._writable(what)
        self._esl.send(data, decode, what, job)

    def _writable(self, what: str, force: bool = False) -> None:
        """Raise :class:`Disconnected` unless ``what`` can be written now (connected,
        or ``force``: during the handshake, and a stream that takes bytes)."""
        if not force and self.state is not ConnectionState.CONNECTED:
            raise self._not_connected(what)
        stream = self._stream
        if stream is None or not stream.writable:
            raise self._not_connected(what)

    def _ready(self, what: str) -> None:
        if self.state is not ConnectionState.CONNECTED:
            raise self._not_connected(what)

    def _not_connected(self, what: str) -> Disconnected:
        if self.state is ConnectionState.RECONNECTING:
            return Disconnected(f"cannot send {what!r}: the connection to {self.address} is down "
                                f"({self.closed_reason}); reconnecting, await conn.wait_connected()")
        if self.state in (ConnectionState.NEW, ConnectionState.CONNECTING):
            return Disconnected(f"cannot send {what!r}: not connected to {self.address} yet; "
                                "call connect() first")
        return Disconnected(f"cannot send {what!r}: the connection to {self.address} is closed "
                            f"({self.closed_reason}); connect again (connect(), or "
                            "reconnect=True to have it come back by itself)")

    # -- what FreeSWITCH says besides replies and events --------------------------------
    def _control(self, f: Frame) -> None:
        ct = f.content_type
        greeting = self._greeting
        if ct == AUTH_REQUEST:
            if greeting is not None and not greeting.done():
                greeting.set_result(f)
        elif ct == DISCONNECT_NOTICE:
            if f.disposition == "linger":
                log.info("%s: linger notice (%s): the socket stays open", self.address,
                         f.headers.get("Controlled-Session-UUID", ""))
                self._notify("linger", f)
            elif self._stream is not None:
                self._stream.close()  # FreeSWITCH closes right after; so nothing waits
        elif ct == RUDE_REJECTION:
            if greeting is not None and not greeting.done():
                greeting.set_exception(ConnectionFailed(
                    f"FreeSWITCH at {self.address} refused this client ({f.text.strip()!r}): its "
                    "event-socket ACL (apply-inbound-acl in event_socket.conf.xml) does not admit "
                    "this address"))
        elif ct == LOG_DATA:
            self._notify("log", f)
        else:
            log.warning("%s: ignored a frame of unknown type %r: %r", self.address, ct, f)

    # -- losing the connection ----------------------------------------------------------
    def _stream_error(self, stream: ESLStream, exc: ProtocolError) -> None:
        log.error("%s: %s; closing the connection", self.address, exc)
        self._lost_reason_override = f"protocol error: {exc}"
        self.protocol_error = exc

    def _stream_lost(self, stream: ESLStream, exc: Exception | None) -> None:
        greeting = self._greeting
        if greeting is not None and not greeting.done():
            greeting.set_exception(ConnectionFailed(
                f"{self.address} closed the connection before greeting. {self._where_to_look()}"))
        notice = self._esl.notice
        override, self._lost_reason_override = self._lost_reason_override, None
        if override:
            reason = override
        elif notice is not None and notice.content_type == RUDE_REJECTION:
            reason = "FreeSWITCH refused this client (text/rude-rejection)"
        elif notice is not None:
            disp = notice.disposition
            reason = "FreeSWITCH sent a disconnect notice" + (f" ({disp})" if disp else "")
        elif self._user_closed:
            reason = "closed by this client"
        elif exc is not None:
            reason = f"connection lost: {exc}"
        else:
            reason = "FreeSWITCH closed the connection"
        pending = self._esl.parser.pending
        if pending:
            reason += f"; {pending} bytes of an unfinished frame were discarded"
        self._esl.connection_lost(reason, self.protocol_error)
        if self.state is not ConnectionState.CONNECTED:
            return  # a failed (re)connect attempt: open() or the reconnect loop reports it
        self.closed_reason = reason
        reconnecting = self.reconnect_policy is not None and not self._user_closed
        if reconnecting:
            self.state = ConnectionState.RECONNECTING
            log.warning("%s: %s; reconnecting", self.address, reason)
            self._reconnect_task = self._loop.create_task(self._reconnect(reason))
        else:
            log.info("%s: %s", self.address, reason)
            self._finish_close(reason)
        self._notify("disconnect", reason, reconnecting)

async def connect(host: str, port: int | str | None = None, password: str = "ClueCon", *,
                  timeout: float = 5.0, reconnect: bool | Reconnect = False) -> Connection:
    """Connect to FreeSWITCH's event socket and authenticate.

    ``host`` may carry the port (``"127.0.0.1:8021"``). Raises
    :class:`~switchlab.errors.ConnectionFailed` (refused, timed out, unknown
    host, ACL rejection) or :class:`~switchlab.errors.AuthenticationError`.
    """
    conn = Connection(host, port, password, reconnect=reconnect, loop=asyncio.get_running_loop())
    await conn.open(timeout)
    return conn
