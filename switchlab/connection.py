"""Asyncio transport for FreeSWITCH's event socket (inbound mode).

One :class:`Connection` is one TCP connection to ``mod_event_socket``. It
authenticates, sends commands and matches every reply to its command in order
(FIFO) while events interleave, with any number of commands in flight. Every
event is stamped with ``ev.received`` (local ``time.monotonic()`` at read time)
and ``ev.host`` and handed to the event handlers.

>>> conn = await connect("127.0.0.1:8021", password="ClueCon")   # doctest: +SKIP
>>> await conn.api("status")                                      # doctest: +SKIP
'UP 0 years, 0 days, ...'
>>> conn.on_event = lambda ev: print(ev.name)                     # doctest: +SKIP
>>> await conn.subscribe("CHANNEL_ANSWER", "BACKGROUND_JOB")      # doctest: +SKIP
>>> job = conn.bgapi("originate sofia/external/x@127.0.0.1:5080 &park()")  # doctest: +SKIP
>>> await job                                                     # doctest: +SKIP
'4c6198d3-901d-4e03-8997-4797f06e06ca'

Command methods send at once and return an :class:`asyncio.Future`, so they
work from plain callbacks too (fire and forget) and many can be in flight.
When the connection closes (peer close, disconnect notice, ``exit``) every
pending and future call fails with :class:`~switchlab.errors.Disconnected`;
with ``reconnect=True`` the connection comes back with its subscriptions and
filters, and the lost interval is reported as a :class:`Gap`.
"""
from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
import uuid as _uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (APIError, AuthenticationError, CommandError, CommandFailed, ConnectionFailed,
                     Disconnected, ProtocolError)
from .wire import commands
from .wire.events import Event
from .wire.frames import (API_RESPONSE, AUTH_REQUEST, COMMAND_REPLY, DISCONNECT_NOTICE, EVENT_JSON,
                          EVENT_PLAIN, EVENT_XML, LOG_DATA, RUDE_REJECTION, Frame)
from .wire.parser import FrameParser

__all__ = ["Connection", "Gap", "Job", "Reconnect", "State", "connect", "parse_address"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 8021
_monotonic = time.monotonic

# reply kinds (what to make of the reply popped for a command)
_API, _API_RAW, _CMD, _CMD_FRAME, _BGAPI, _AUTH = range(6)

#: api bodies that mean failure (``-ERR ...``, ``-ERROR``, ``-USAGE: ...``)
_ERROR_PREFIXES = ("-ERR", "-USAGE")


class State(str, enum.Enum):
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


class _Secret:
    """Holds the password; never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


def _check_password(password: object) -> _Secret:
    if not isinstance(password, str):
        raise CommandError(f"the event-socket password must be a str, not {type(password).__name__}")
    if any(c in password for c in "\r\n\x00"):
        # never echo the value: it is a secret
        raise CommandError("the event-socket password contains a line break or NUL byte and cannot "
                           "be sent (value not shown); check the password you passed")
    return _Secret(password)


def parse_address(host: str, port: int | str | None = None) -> tuple[str, int]:
    """Split ``"host"``, ``"host:port"`` or ``"[v6]:port"`` into ``(host, port)``.

    An explicit ``port`` argument wins over none in ``host``; both given and
    different is an error.

    >>> parse_address("127.0.0.1:8022")
    ('127.0.0.1', 8022)
    >>> parse_address("fs1", "8021")
    ('fs1', 8021)
    >>> parse_address("[::1]:8021")
    ('::1', 8021)
    """
    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"host must be a non-empty str like '127.0.0.1' or '127.0.0.1:8021', got {host!r}")
    host = host.strip()
    in_host: str | None = None
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", host)
    if m:
        host, in_host = m.group(1), m.group(2)
    elif host.count(":") == 1:
        host, in_host = host.split(":")
    if any(c.isspace() for c in host) or not host:
        raise ValueError(f"host {host!r} is not a valid host name or address")

    def as_port(value: int | str, what: str) -> int:
        try:
            p = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{what} {value!r} is not a port number") from None
        if not 0 < p < 65536:
            raise ValueError(f"{what} {p} is out of range 1..65535")
        return p

    if in_host is not None:
        p = as_port(in_host, "port in host")
        if port is not None and as_port(port, "port") != p:
            raise ValueError(f"host {host}:{p} and port={port} disagree; give the port once")
        return host, p
    return host, as_port(port, "port") if port is not None else DEFAULT_PORT


def _silence(fut: asyncio.Future[Any]) -> None:
    """Mark a future's exception as retrieved (for fire-and-forget use)."""
    if not fut.cancelled():
        fut.exception()


class Job:
    """A ``bgapi`` job: awaitable, resolved by the matching ``BACKGROUND_JOB``.

    ``await job`` returns the result text without ``+OK`` (for ``originate``:
    the new channel's uuid) or raises :class:`~switchlab.errors.APIError`
    whose ``text`` is FreeSWITCH's cause (e.g. ``USER_BUSY``). ``body`` is the
    raw body, ``event`` the ``BACKGROUND_JOB`` event. ``launched`` and
    ``done_at`` are ``time.monotonic()`` values; ``launched_wall`` and
    ``done_wall`` are ``time.time()``. Higher layers attach ``sess_uuid``,
    ``call_id`` and ``app_id``.
    """

    __slots__ = ("uuid", "command", "host", "launched", "launched_wall", "accepted", "done_at",
                 "done_wall", "event", "body", "sess_uuid", "call_id", "app_id", "_fut",
                 "__weakref__")

    def __init__(self, job_uuid: str, command: str, fut: asyncio.Future[str], host: str) -> None:
        self.uuid = job_uuid
        self.command = command
        self.host = host
        self.launched = _monotonic()
        self.launched_wall = time.time()
        self.accepted: bool | None = None
        self.done_at: float | None = None
        self.done_wall: float | None = None
        self.event: Event | None = None
        self.body: str | None = None
        self.sess_uuid: str | None = None
        self.call_id: str | None = None
        self.app_id: str | None = None
        self._fut = fut
        fut.add_done_callback(_silence)  # a failed call is a normal outcome

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._fut.__await__()

    @property
    def future(self) -> asyncio.Future[str]:
        """The underlying future (for ``asyncio.wait`` and friends)."""
        return self._fut

    def done(self) -> bool:
        return self._fut.done()

    def successful(self) -> bool:
        """True once resolved with ``+OK`` (False while pending or after failure)."""
        return self._fut.done() and not self._fut.cancelled() and self._fut.exception() is None

    @property
    def failed(self) -> bool:
        return self._fut.done() and (self._fut.cancelled() or self._fut.exception() is not None)

    def result(self) -> str:
        """The result (raises the failure, or InvalidStateError while pending)."""
        return self._fut.result()

    def exception(self) -> BaseException | None:
        return self._fut.exception()

    @property
    def cause(self) -> str | None:
        """FreeSWITCH's failure text (``USER_BUSY``...) or None."""
        if not self._fut.done() or self._fut.cancelled():
            return None
        exc = self._fut.exception()
        if isinstance(exc, APIError):
            return exc.text
        return None if exc is None else type(exc).__name__

    def add_done_callback(self, fn: Callable[[Job], Any]) -> None:
        """Call ``fn(job)`` once the job is resolved or failed."""
        self._fut.add_done_callback(lambda _f: fn(self))

    def _resolve(self, ev: Event) -> None:
        self.event = ev
        self.done_at = ev.received or _monotonic()
        self.done_wall = time.time()
        body = ev.body.decode("utf-8", "replace")
        self.body = body
        fut = self._fut
        if fut.done():
            return
        if body.startswith(_ERROR_PREFIXES):
            fut.set_exception(APIError(self.command, body))
        else:
            text = body[3:] if body.startswith("+OK") else body
            fut.set_result(text.strip())

    def _fail(self, exc: BaseException) -> None:
        if self.done_at is None:
            self.done_at = _monotonic()
            self.done_wall = time.time()
        if not self._fut.done():
            self._fut.set_exception(exc)

    def __repr__(self) -> str:
        state = "pending"
        if self._fut.done():
            state = "ok" if self.successful() else f"failed {self.cause}"
        return f"<Job {self.uuid} {self.command.split(' ', 1)[0]} {state}>"


class _Protocol(asyncio.Protocol):
    """One TCP connection's byte pump; the logic lives in :class:`Connection`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.parser = FrameParser()
        self.transport: asyncio.Transport | None = None
        self.greeting: asyncio.Future[Frame] = conn._loop.create_future()
        self.greeting.add_done_callback(_silence)
        self.closed: asyncio.Future[None] = conn._loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.conn._adopt(self)

    def data_received(self, data: bytes) -> None:
        self.conn._data_received(self, data)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn._connection_lost(self, exc)


_HandlerKinds = ("disconnect", "reconnect", "linger", "log", "job")


class Connection:
    """A connection to one FreeSWITCH event socket. Create with :func:`connect`.

    Attributes: ``host``, ``port``, ``state`` (:class:`State`),
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
        self._password = _check_password(password)
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = asyncio.get_event_loop()
        self._loop = loop
        self.reconnect_policy: Reconnect | None = (
            Reconnect() if reconnect is True else (reconnect or None))  # type: ignore[assignment]
        self.state = State.NEW
        self.closed_reason: str | None = None
        self.lingering = False
        self.gaps: list[Gap] = []
        self.events_received = 0
        self._proto: _Protocol | None = None
        self._pending: deque[tuple[asyncio.Future[Any], int, str, Any]] = deque()
        self._jobs: dict[str, Job] = {}
        self._on_event: Callable[[Event], Any] | None = None
        self._event_handlers: list[Callable[[Event], Any]] = []
        self._emit: Callable[[Event], Any] = _noop
        self._handlers: dict[str, list[Callable[..., Any]]] = {k: [] for k in _HandlerKinds}
        self._backlog: deque[tuple[list[Frame], int, float]] = deque()
        self._yield_req = False
        self._lost_reason: str | None = None  # connection lost while a backlog drains
        self._lost_reason_override: str | None = None
        #: the ProtocolError that made us drop the connection, if any (holds the bytes)
        self.protocol_error: ProtocolError | None = None
        self._user_closed = False
        self._notice: Frame | None = None
        self._closed_event = asyncio.Event()
        self._reconnect_task: asyncio.Task[None] | None = None
        # what to restore after a reconnect
        self._event_fmt = "plain"
        self._event_names: set[str] = set()
        self._filters: list[tuple[str, str]] = []
        self._myevents: tuple[str, str] | None = None
        self._linger: tuple[bool, int | None] | None = None

    # -- life cycle -----------------------------------------------------------
    @property
    def address(self) -> str:
        """``host:port`` as used in messages."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self.state is State.CONNECTED

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this connection runs on."""
        return self._loop

    @property
    def pending_jobs(self) -> int:
        """bgapi jobs still waiting for their BACKGROUND_JOB."""
        return len(self._jobs)

    def __repr__(self) -> str:
        return f"<Connection {self.address} {self.state.value}>"

    def _where_to_look(self) -> str:
        return (f"Check that FreeSWITCH runs there, that mod_event_socket is loaded and listening on "
                f"{self.address} (event_socket.conf.xml: listen-ip, listen-port), that its ACL "
                f"(apply-inbound-acl) admits this client, and that no firewall blocks TCP {self.port}.")

    async def open(self, timeout: float = 5.0) -> Connection:
        """Connect and authenticate (called by :func:`connect`)."""
        if self.state in (State.CONNECTED, State.CONNECTING):
            return self
        self._user_closed = False
        self.state = State.CONNECTING
        try:
            await self._open(timeout)
        except BaseException as exc:
            self.state = State.CLOSED
            self.closed_reason = f"connect failed: {exc}" if str(exc) else "connect failed"
            raise
        self.state = State.CONNECTED
        self.closed_reason = None
        self._closed_event.clear()
        log.debug("connected to %s", self.address)
        return self

    async def _open(self, timeout: float) -> None:
        loop = self._loop
        deadline = loop.time() + timeout
        try:
            _t, proto = await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self), self.host, self.port), timeout)
        except asyncio.TimeoutError:
            raise ConnectionFailed(
                f"connecting to FreeSWITCH's event socket at {self.address} timed out after "
                f"{timeout:g} s. {self._where_to_look()}") from None
        except OSError as exc:
            what = exc.strerror or str(exc) or type(exc).__name__
            raise ConnectionFailed(
                f"cannot connect to FreeSWITCH's event socket at {self.address}: {what}. "
                f"{self._where_to_look()}") from None
        try:
            remaining = max(0.01, deadline - loop.time())
            try:
                await asyncio.wait_for(asyncio.shield(proto.greeting), remaining)
            except asyncio.TimeoutError:
                raise ConnectionFailed(
                    f"connected to {self.address} but no 'auth/request' greeting came within "
                    f"{timeout:g} s: is this FreeSWITCH's event socket (mod_event_socket)? "
                    f"{self._where_to_look()}") from None
            fut = self._send(commands.auth(self._password.reveal()), _AUTH, "auth", force=True)
            try:
                await asyncio.wait_for(asyncio.shield(fut), max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise ConnectionFailed(
                    f"FreeSWITCH at {self.address} did not answer 'auth' within {timeout:g} s") from None
        except BaseException:
            if proto.transport is not None:
                proto.transport.close()
            raise

    def _adopt(self, proto: _Protocol) -> None:
        self._proto = proto
        self._notice = None
        self.lingering = False

    async def close(self) -> None:
        """Close the connection (no reconnect). Idempotent."""
        self._user_closed = True
        if self._reconnect_task is not None and not self._reconnect_task.done():
            self._reconnect_task.cancel()
        proto = self._proto
        if proto is not None and proto.transport is not None and not proto.closed.done():
            proto.transport.close()
            try:
                await asyncio.wait_for(asyncio.shield(proto.closed), 2.0)
            except asyncio.TimeoutError:
                proto.transport.abort()
        if self.state is not State.CLOSED:
            self._finish_close("closed by this client")

    async def exit(self, timeout: float = 2.0) -> None:
        """Send ``exit`` (FreeSWITCH answers ``+OK bye`` and closes), wait for the close."""
        if self.state is not State.CONNECTED:
            return
        self._user_closed = True
        fut = self._send(commands.exit_(), _CMD, "exit")
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
            while self.state is not State.CONNECTED:
                if self.state is State.CLOSED:
                    raise Disconnected(f"connection to {self.address} is closed: {self.closed_reason}")
                await asyncio.sleep(0.02)
        await asyncio.wait_for(_wait(), timeout)

    async def __aenter__(self) -> Connection:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- handlers -------------------------------------------------------------
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
            self._emit = _noop
        elif len(sinks) == 1:
            self._emit = sinks[0]
        else:
            def emit(ev: Event, _sinks: tuple[Callable[[Event], Any], ...] = tuple(sinks)) -> None:
                for fn in _sinks:
                    try:
                        fn(ev)
                    except Exception:
                        log.exception("event handler %r failed on %r", fn, ev)
            self._emit = emit

    def add_handler(self, kind: str, fn: Callable[..., Any]) -> None:
        """Register ``fn`` for ``"disconnect"``, ``"reconnect"``, ``"linger"``, ``"log"`` or ``"job"``."""
        if kind not in self._handlers:
            raise ValueError(f"unknown handler kind {kind!r}; use one of {', '.join(_HandlerKinds)}")
        self._handlers[kind].append(fn)

    def remove_handler(self, kind: str, fn: Callable[..., Any]) -> None:
        self._handlers[kind].remove(fn)

    def _notify(self, kind: str, *args: Any) -> None:
        for fn in list(self._handlers[kind]):
            try:
                fn(*args)
            except Exception:
                log.exception("%s handler %r failed", kind, fn)

    def request_yield(self) -> None:
        """Let the loop run (woken tasks, new coroutines) before the next frame is handled.

        Called by the state layer after it resolved a future or started a
        task, so that a coroutine awaiting ``sess.recv(...)`` sees the very
        next event even when both arrived in the same TCP read.
        """
        self._yield_req = True

    # -- sending --------------------------------------------------------------
    def _send(self, data: bytes, kind: int, what: str, extra: Any = None, *,
              force: bool = False, timeout: float | None = None) -> asyncio.Future[Any]:
        if not force and self.state is not State.CONNECTED:
            raise self._not_connected(what)
        proto = self._proto
        if proto is None or proto.transport is None or proto.transport.is_closing():
            raise self._not_connected(what)
        fut = self._loop.create_future()
        self._pending.append((fut, kind, what, extra))
        proto.transport.write(data)
        if timeout is not None:
            self._loop.call_later(timeout, _expire, fut, what, timeout, self.address)
        return fut

    def _not_connected(self, what: str) -> Disconnected:
        if self.state is State.RECONNECTING:
            return Disconnected(f"cannot send {what!r}: the connection to {self.address} is down "
                                f"({self.closed_reason}); reconnecting, await conn.wait_connected()")
        if self.state in (State.NEW, State.CONNECTING):
            return Disconnected(f"cannot send {what!r}: not connected to {self.address} yet; "
                                "call connect() first")
        return Disconnected(f"cannot send {what!r}: the connection to {self.address} is closed "
                            f"({self.closed_reason})")

    def api(self, cmd: str, *, check: bool = True, timeout: float | None = None) -> asyncio.Future[str]:
        """``api <cmd>``: the response body as str.

        With ``check`` (default) a body starting with ``-ERR`` (or ``-USAGE``)
        raises :class:`~switchlab.errors.APIError`; ``check=False`` returns
        any body as is (use it for commands whose errors have other shapes,
        e.g. ``sofia status profile x`` answering ``Invalid Profile!``).
        """
        return self._send(commands.api(cmd), _API if check else _API_RAW, f"api {cmd}",
                          timeout=timeout)

    def bgapi(self, cmd: str, *, job_uuid: str | None = None) -> Job:
        """``bgapi <cmd>`` with a client-chosen ``Job-UUID``: a :class:`Job`.

        Subscribes to ``BACKGROUND_JOB`` first if needed (without it
        FreeSWITCH would not deliver the result). Note that an event
        ``filter`` also drops ``BACKGROUND_JOB`` unless a filter lets it
        through (e.g. ``filter Event-Name BACKGROUND_JOB``).
        """
        job_uuid = job_uuid or str(_uuid.uuid4())
        data = commands.bgapi(cmd, job_uuid=job_uuid)
        if self.state is not State.CONNECTED:
            raise self._not_connected(f"bgapi {cmd}")
        if "ALL" not in self._event_names and "BACKGROUND_JOB" not in self._event_names:
            self._event_names.add("BACKGROUND_JOB")
            fut = self._send(commands.event(["BACKGROUND_JOB"], self._event_fmt), _CMD,
                             "event BACKGROUND_JOB")
            fut.add_done_callback(_silence)
        job = Job(job_uuid, cmd, self._loop.create_future(), self.host)
        self._jobs[job_uuid] = job
        self._send(data, _BGAPI, f"bgapi {cmd}", job)
        return job

    def command(self, line: str, headers: Mapping[str, str] | None = None, body: bytes | None = None,
                *, check: bool = True) -> asyncio.Future[str]:
        """Any command; returns ``Reply-Text`` (``check``: ``-ERR`` raises CommandFailed)."""
        return self._send(commands.command(line, headers, body), _CMD if check else _CMD_FRAME, line)

    def subscribe(self, *names: str, fmt: str = "plain") -> asyncio.Future[str]:
        """``event <fmt> <names>`` (default ``ALL``); ``fmt`` is plain, json or xml."""
        names = names or ("ALL",)
        fut = self._send(commands.event(names, fmt), _CMD, f"event {fmt} {' '.join(names)}")
        self._event_fmt = fmt
        self._event_names.update(names)
        return fut

    def unsubscribe(self, *names: str) -> asyncio.Future[str]:
        """``nixevent <names>``."""
        fut = self._send(commands.nixevent(names), _CMD, f"nixevent {' '.join(names)}")
        self._event_names.difference_update(names)
        return fut

    def noevents(self) -> asyncio.Future[str]:
        """``noevents``: stop all events."""
        fut = self._send(commands.noevents(), _CMD, "noevents")
        self._event_names.clear()
        return fut

    def filter(self, header: str, value: str) -> asyncio.Future[str]:
        """``filter <header> <value>``: only events matching some filter pass."""
        fut = self._send(commands.filter_add(header, value), _CMD, f"filter {header} {value}")
        self._filters.append((header, value))
        return fut

    def filter_delete(self, header: str, value: str | None = None) -> asyncio.Future[str]:
        """``filter delete <header> [<value>]`` (header ``all`` removes every filter)."""
        what = f"filter delete {header}" + (f" {value}" if value is not None else "")
        fut = self._send(commands.filter_delete(header, value), _CMD, what)
        if header.lower() == "all":
            self._filters.clear()
        else:
            self._filters = [(h, v) for h, v in self._filters
                             if not (h == header and (value is None or v == value))]
        return fut

    def myevents(self, uuid: str, fmt: str = "plain") -> asyncio.Future[str]:
        """``myevents <uuid> <fmt>``: attach this socket to one session."""
        fut = self._send(commands.myevents(uuid, fmt), _CMD, f"myevents {uuid} {fmt}")
        self._myevents = (uuid, fmt)
        return fut

    def linger(self, seconds: int | None = None) -> asyncio.Future[str]:
        """``linger [seconds]``: keep the socket after the attached session ends."""
        fut = self._send(commands.linger(seconds), _CMD, "linger")
        self._linger = (True, seconds)
        return fut

    def nolinger(self) -> asyncio.Future[str]:
        fut = self._send(commands.nolinger(), _CMD, "nolinger")
        self._linger = None
        return fut

    def log(self, level: int | str = 7) -> asyncio.Future[str]:
        """``log <level>``: receive ``log/data`` frames (see ``add_handler("log", fn)``)."""
        return self._send(commands.log(level), _CMD, f"log {level}")

    def nolog(self) -> asyncio.Future[str]:
        return self._send(commands.nolog(), _CMD, "nolog")

    def sendmsg(self, uuid: str, headers: Mapping[str, str], body: bytes | None = None
                ) -> asyncio.Future[str]:
        """``sendmsg <uuid>`` with headers (and optional body)."""
        return self._send(commands.sendmsg(uuid, headers, body), _CMD, f"sendmsg {uuid}")

    def execute(self, uuid: str, app: str, arg: str = "", *, event_lock: bool = False,
                loops: int = 1, event_uuid: str | None = None) -> asyncio.Future[str]:
        """Run dialplan application ``app`` on channel ``uuid`` (``sendmsg ... execute``)."""
        data = commands.execute(uuid, app, arg, event_lock=event_lock, loops=loops,
                                event_uuid=event_uuid)
        return self._send(data, _CMD, f"sendmsg {uuid} execute {app}")

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> asyncio.Future[str]:
        """``sendmsg <uuid>`` ``call-command: hangup``."""
        return self._send(commands.hangup(uuid, cause), _CMD, f"sendmsg {uuid} hangup")

    # -- receiving ------------------------------------------------------------
    def _data_received(self, proto: _Protocol, data: bytes) -> None:
        if proto is not self._proto:
            return
        try:
            frames = proto.parser.feed(data)
        except ProtocolError as exc:
            # the frames completed before the bad bytes are real: handle them first
            good = getattr(exc, "frames", None)
            if good:
                self._deliver(good)
            self._protocol_error(proto, exc)
            return
        self._deliver(frames)

    def _deliver(self, frames: list[Frame]) -> None:
        if not frames:
            return
        now = _monotonic()
        if self._backlog:
            self._backlog.append((frames, 0, now))
            return
        self._process(frames, 0, now)

    def _process(self, frames: list[Frame], i: int, now: float) -> None:
        """Handle ``frames[i:]``; stops early (backlog) when a yield was requested."""
        n = len(frames)
        host = self.host
        jobs = self._jobs
        from_plain = Event.from_plain
        while i < n:
            f = frames[i]
            i += 1
            ct = f.content_type
            if ct == EVENT_PLAIN:
                ev = from_plain(f.body)
            elif ct == EVENT_JSON:
                ev = Event.from_json(f.body)
            elif ct == EVENT_XML:
                ev = Event.from_xml(f.body)
            else:
                self._control(f)
                if self._yield_req and i < n:
                    self._defer(frames, i, now)
                    return
                continue
            ev.received = now
            ev.host = host
            self.events_received += 1
            try:
                if jobs and ev.name == "BACKGROUND_JOB":
                    self._job_event(ev)
                self._emit(ev)
            except Exception:  # a bad event or a failing handler must not kill the connection
                log.exception("%s: handling an event failed: %r", self.address, f)
            if self._yield_req and i < n:
                self._defer(frames, i, now)
                return
        self._yield_req = False

    def _defer(self, frames: list[Frame], i: int, now: float) -> None:
        self._yield_req = False
        self._backlog.appendleft((frames, i, now))
        proto = self._proto
        if proto is not None and proto.transport is not None:
            try:
                proto.transport.pause_reading()
            except RuntimeError:
                pass
        self._loop.call_soon(self._drain_backlog)

    def _drain_backlog(self) -> None:
        backlog = self._backlog
        while backlog:
            frames, i, now = backlog.popleft()
            self._process(frames, i, now)
            if backlog and backlog[0][0] is frames:  # yielded again; rescheduled
                return
        proto = self._proto
        if self._lost_reason is not None:
            reason, self._lost_reason = self._lost_reason, None
            self._after_lost(reason)
        elif proto is not None and proto.transport is not None and not proto.transport.is_closing():
            try:
                proto.transport.resume_reading()
            except RuntimeError:
                pass

    def _job_event(self, ev: Event) -> None:
        job = self._jobs.pop(ev.job_uuid or "", None)
        if job is None:
            return
        job._resolve(ev)
        self._notify("job", job)

    def _control(self, f: Frame) -> None:
        ct = f.content_type
        if ct == COMMAND_REPLY or ct == API_RESPONSE:
            self._reply(f)
        elif ct == AUTH_REQUEST:
            proto = self._proto
            if proto is not None and not proto.greeting.done():
                proto.greeting.set_result(f)
        elif ct == DISCONNECT_NOTICE:
            if f.disposition == "linger":
                self.lingering = True
                log.info("%s: linger notice (%s): the socket stays open", self.address,
                         f.headers.get("Controlled-Session-UUID", ""))
                self._notify("linger", f)
            else:
                # FreeSWITCH closes right after; close our side so nothing waits
                self._notice = f
                proto = self._proto
                if proto is not None and proto.transport is not None:
                    proto.transport.close()
        elif ct == RUDE_REJECTION:
            proto = self._proto
            text = f.text.strip()
            if proto is not None and not proto.greeting.done():
                proto.greeting.set_exception(ConnectionFailed(
                    f"FreeSWITCH at {self.address} refused this client ({text!r}): its event-socket "
                    "ACL (apply-inbound-acl in event_socket.conf.xml) does not admit this address"))
            self._notice = f
        elif ct == LOG_DATA:
            self._notify("log", f)
        else:
            log.warning("%s: ignored a frame of unknown type %r: %r", self.address, ct, f)

    def _reply(self, f: Frame) -> None:
        try:
            fut, kind, what, extra = self._pending.popleft()
        except IndexError:
            log.warning("%s: a reply came with no command waiting for it (ignored): %r",
                        self.address, f)
            return
        ct = f.content_type
        if kind == _BGAPI:
            job: Job = extra
            if ct == COMMAND_REPLY and f.reply_text.startswith("+OK"):
                job.accepted = True
                got = f.headers.get("Job-UUID")
                if got and got != job.uuid and self._jobs.pop(job.uuid, None) is job:
                    job.uuid = got  # server ignored our Job-UUID: follow its choice
                    self._jobs[got] = job
            else:
                job.accepted = False
                self._jobs.pop(job.uuid, None)
                job._fail(CommandFailed(what, f.reply_text or f.text))
            if not fut.done():
                fut.set_result(job)
            return
        if fut.done():  # cancelled or timed out; the reply still consumed its slot
            return
        if kind == _API or kind == _API_RAW:
            if ct != API_RESPONSE:
                fut.set_exception(CommandFailed(what, f.reply_text or f.text))
                return
            body = f.text
            if kind == _API and body.startswith(_ERROR_PREFIXES):
                fut.set_exception(APIError(what, body))
            else:
                fut.set_result(body)
        elif kind == _CMD:
            text = f.reply_text if ct == COMMAND_REPLY else f.text
            if text.startswith("-ERR"):
                fut.set_exception(CommandFailed(what, text))
            else:
                fut.set_result(text)
        elif kind == _AUTH:
            text = f.reply_text
            if text.startswith("+OK"):
                fut.set_result(text)
            else:
                fut.set_exception(AuthenticationError(
                    f"FreeSWITCH at {self.address} rejected the event-socket password ({text}); "
                    "use the password set in event_socket.conf.xml (default 'ClueCon')"))
        else:  # _CMD_FRAME
            fut.set_result(f.reply_text if ct == COMMAND_REPLY else f.text)

    def _protocol_error(self, proto: _Protocol, exc: ProtocolError) -> None:
        log.error("%s: %s; closing the connection", self.address, exc)
        self._lost_reason_override = f"protocol error: {exc}"
        self.protocol_error = exc
        if proto.transport is not None:
            proto.transport.abort()

    def _connection_lost(self, proto: _Protocol, exc: Exception | None) -> None:
        if not proto.closed.done():
            proto.closed.set_result(None)
        if proto is not self._proto:
            return
        if not proto.greeting.done():
            proto.greeting.set_exception(ConnectionFailed(
                f"{self.address} closed the connection before greeting. {self._where_to_look()}"))
        override, self._lost_reason_override = self._lost_reason_override, None
        if override:
            reason = override
        elif self._notice is not None and self._notice.content_type == RUDE_REJECTION:
            reason = "FreeSWITCH refused this client (text/rude-rejection)"
        elif self._notice is not None:
            disp = self._notice.disposition
            reason = "FreeSWITCH sent a disconnect notice" + (f" ({disp})" if disp else "")
        elif self._user_closed:
            reason = "closed by this client"
        elif exc is not None:
            reason = f"connection lost: {exc}"
        else:
            reason = "FreeSWITCH closed the connection"
        pending = proto.parser.pending
        if pending:
            reason += f"; {pending} bytes of an unfinished frame were discarded"
        if self._backlog:
            self._lost_reason = reason  # deliver queued frames first
            return
        self._after_lost(reason)

    def _after_lost(self, reason: str) -> None:
        address = self.address
        pending, self._pending = self._pending, deque()
        for fut, kind, what, extra in pending:
            exc = Disconnected(f"{address}: {reason}; {what!r} got no reply")
            exc.__cause__ = self.protocol_error
            if kind == _BGAPI:
                self._jobs.pop(extra.uuid, None)
                extra._fail(exc)
            if not fut.done():
                fut.set_exception(exc)
                _silence(fut)
        jobs, self._jobs = self._jobs, {}
        for job in jobs.values():
            job._fail(Disconnected(
                f"{address}: {reason} before the BACKGROUND_JOB of {job.command!r} arrived "
                "(the command may still have run on FreeSWITCH)"))
        if self.state is not State.CONNECTED:
            return  # a failed (re)connect attempt: open() or the reconnect loop reports it
        self.closed_reason = reason
        reconnecting = self.reconnect_policy is not None and not self._user_closed
        if reconnecting:
            self.state = State.RECONNECTING
            log.warning("%s: %s; reconnecting", address, reason)
            self._reconnect_task = self._loop.create_task(self._reconnect(reason))
        else:
            log.info("%s: %s", address, reason)
            self._finish_close(reason)
        self._notify("disconnect", reason, reconnecting)

    def _finish_close(self, reason: str) -> None:
        self.closed_reason = reason
        self.state = State.CLOSED
        self._closed_event.set()

    async def _reconnect(self, reason: str) -> None:
        policy = self.reconnect_policy or Reconnect()
        start_wall, start_mono = time.time(), _monotonic()
        delay = policy.initial
        attempts = 0
        while not self._user_closed:
            attempts += 1
            try:
                await self._open(policy.attempt_timeout)
                await self._restore()
            except AuthenticationError as exc:
                self._finish_close(f"{reason}; reconnect refused: {exc}")
                log.error("%s: giving up reconnecting: %s", self.address, exc)
                self._notify("disconnect", self.closed_reason, False)
                return
            except (ConnectionFailed, Disconnected, CommandFailed, OSError) as exc:
                log.info("%s: reconnect attempt %d failed: %s", self.address, attempts, exc)
                if policy.max_time is not None and _monotonic() - start_mono > policy.max_time:
                    self._finish_close(f"{reason}; gave up reconnecting after {attempts} attempts "
                                       f"over {policy.max_time:g} s")
                    log.error("%s: %s", self.address, self.closed_reason)
                    self._notify("disconnect", self.closed_reason, False)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * policy.factor, policy.maximum)
                continue
            gap = Gap(start_wall, time.time(), start_mono, _monotonic(), reason, attempts)
            self.gaps.append(gap)
            self.state = State.CONNECTED
            self.closed_reason = None
            log.warning("%s: reconnected after %.3f s without a connection (%s to %s): events of "
                        "that interval are lost", self.address, gap.duration,
                        time.strftime("%H:%M:%S", time.localtime(gap.start)),
                        time.strftime("%H:%M:%S", time.localtime(gap.end)))
            self._notify("reconnect", gap)
            return

    async def _restore(self) -> None:
        """Re-apply subscriptions, filters, myevents and linger after a reconnect."""
        futs = []
        names = sorted(self._event_names)
        if names:
            futs.append(self._send(commands.event(names, self._event_fmt), _CMD, "event (restore)",
                                   force=True))
        for header, value in self._filters:
            futs.append(self._send(commands.filter_add(header, value), _CMD,
                                   f"filter {header} {value} (restore)", force=True))
        if futs:
            await asyncio.gather(*futs)
        if self._myevents is not None:
            fut = self._send(commands.myevents(*self._myevents), _CMD, "myevents (restore)", force=True)
            try:
                await fut
            except CommandFailed as exc:
                log.warning("%s: could not re-attach myevents: %s", self.address, exc)
        if self._linger is not None:
            await self._send(commands.linger(self._linger[1]), _CMD, "linger (restore)", force=True)


def _noop(_ev: Event) -> None:
    return None


def _expire(fut: asyncio.Future[Any], what: str, timeout: float, address: str) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError(f"{what!r} got no reply from {address} within {timeout:g} s"))


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

