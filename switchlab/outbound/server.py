"""``OutboundServer`` and ``serve``: the asyncio server FreeSWITCH's ``socket``
application connects to, one connection per call.

>>> server = serve(MyApp, port=8084)                        # doctest: +SKIP
>>> async with server:                                       # doctest: +SKIP
...     await server.serve_forever()

It binds loopback (``127.0.0.1``) by default and accepts only loopback peers;
``acl=["10.0.0.0/8", ...]`` admits others (the networks allowed, besides
loopback). A refused peer's connection is closed at once. Each accepted
connection is an :class:`~.call.OutboundCall`; a call whose app fails is hung
up and the server keeps serving. With ``run=`` (a
:class:`~switchlab.measure.Run`) each finished call becomes a row
(:mod:`.record`).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError
from ..esl.outbound import OutboundConnection
from ..measure.run import Run
from ..wire.validate import check_acl
from .call import OutboundCall
from .record import call_record

__all__ = ["OutboundServer", "parse_acl", "serve"]

log = logging.getLogger("switchlab.outbound")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_acl(acl: Iterable[str]) -> list[Network]:
    """The networks of an ACL (:func:`~switchlab.wire.validate.check_acl`).

    >>> [str(n) for n in parse_acl(["10.0.0.0/8"])]
    ['10.0.0.0/8']
    """
    return check_acl(acl)


def allowed(peer: str, acl: list[Network]) -> bool:
    """Loopback peers always; others when some ACL network holds them."""
    try:
        ip = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_loopback or any(ip.version == net.version and ip in net for net in acl)


class OutboundServer:
    """Serves FreeSWITCH's outbound sockets with ``apps`` (classes or instances).

    ``host``/``port``: where to listen (``port=0`` picks a free one: see
    :attr:`port` once started). ``acl``: networks admitted besides loopback.
    ``myevents``/``linger``: sent after ``connect`` (the default: the apps get
    the channel's events and the socket outlives the hangup so that they
    finish). ``call_timeout``: hang up a call after this many seconds.
    ``grace``: how long the apps may run on after the channel is gone.
    ``run``: record each call as a row of this :class:`~switchlab.measure.Run`.
    Counters: ``calls`` (accepted), ``active``, ``completed``, ``failed``
    (an app raised), ``refused`` (ACL).
    """

    def __init__(self, *apps: Any, host: str = "127.0.0.1", port: int = 8084,
                 acl: Iterable[str] = (), myevents: bool = True, linger: bool = True,
                 call_timeout: float | None = None, grace: float = 2.0,
                 connect_timeout: float = 5.0, run: Run | None = None) -> None:
        if not apps:
            raise ConfigError("an outbound server needs at least one app class (module:Class)")
        self.instances = [a() if isinstance(a, type) else a for a in apps]
        self.host = host
        self.port = port
        self.acl = parse_acl(acl)
        self.myevents = myevents
        self.linger = linger
        self.call_timeout = call_timeout
        self.grace = grace
        self.connect_timeout = connect_timeout
        self.run = run
        self.calls = 0
        self.completed = 0
        self.failed = 0
        self.refused = 0
        self.active: set[OutboundCall] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.base_events.Server | None = None

    def __repr__(self) -> str:
        return (f"<OutboundServer {self.host}:{self.port} calls={self.calls} "
                f"active={len(self.active)} failed={self.failed}>")

    def status(self) -> str:
        """One line: the counters."""
        return (f"outbound {self.host}:{self.port}: {self.calls} calls, {len(self.active)} active, "
                f"{self.completed} done, {self.failed} failed, {self.refused} refused")

    # -- serving ----------------------------------------------------------------------
    async def start(self) -> OutboundServer:
        """Listen (returns once the socket is bound)."""
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: self._accept(loop), self.host,
                                                    self.port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.host}:{self.port} for outbound sockets: "
                              f"{exc.strerror or exc}; choose another --outbound HOST:PORT") from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("outbound socket server on %s:%d", self.host, self.port)
        return self

    def _accept(self, loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        conn = OutboundConnection(loop)
        stream = conn.stream()
        made = stream.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            peer = transport.get_extra_info("peername")
            if not peer or not allowed(str(peer[0]), self.acl):
                self.refused += 1
                log.warning("outbound socket from %s refused (not loopback, not in the ACL)",
                            peer)
                stream.active = False
                transport.close()
                return
            made(transport)
            self._begin(conn)
        stream.connection_made = connection_made  # type: ignore[method-assign]
        return stream

    def _begin(self, conn: OutboundConnection) -> None:
        call = OutboundCall(self, conn)
        self.calls += 1
        self.active.add(call)
        task = asyncio.get_running_loop().create_task(call.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _call_done(self, call: OutboundCall) -> None:
        self.active.discard(call)
        if call.error is not None:
            self.failed += 1
        else:
            self.completed += 1
        if self.run is not None and call.channel is not None:
            try:
                self.run.add_record(call_record(call, self.run.run_id))
            except Exception:
                log.exception("call %s: could not record its row", call.uuid)

    def stop(self) -> None:
        """Nothing to do at once: the caller closes the server (``switchlab serve``)."""
        return None

    async def hupall(self, cause: str = "NORMAL_CLEARING") -> None:
        """Hang up every call in progress."""
        for call in list(self.active):
            call.hangup(cause)

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop listening; let the calls in progress end (``timeout``), then drop them."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for call in list(self.active):
                call.hangup("NORMAL_CLEARING")
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)

    async def __aenter__(self) -> OutboundServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def serve(*apps: Any, host: str = "127.0.0.1", port: int = 8084, **options: Any
          ) -> OutboundServer:
    """An :class:`OutboundServer` for ``apps``; use ``async with serve(...) as server``
    (or ``await server.start()``). ``options``: see :class:`OutboundServer`."""
    return OutboundServer(*apps, host=host, port=port, **options)
