"""``OutboundConnection``: FreeSWITCH dialled us (the dialplan's ``socket``
application): one connection, one controlled channel.

It is a :class:`~.inbound.Connection` in everything but the opening: no
greeting, no ``auth``; the server accepts it (:meth:`stream` is its asyncio
protocol) and it is connected at once. The first command must be
:meth:`connect`, whose reply is the channel data. The same
:class:`~.protocol.ESLProtocol` matches the replies, so every inbound command
works here too (``api``, ``bgapi``, ``filter``, ``event``, ``sendmsg <uuid>``,
``exit``), plus the outbound verbs, which name no uuid (they act on the
controlled channel):

* :meth:`myevents` (``myevents [fmt]``), :meth:`divert_events`, :meth:`getvar`;
* :meth:`execute_app` (``sendmsg`` + ``call-command: execute``, with
  ``event-lock``/``loops``) and :meth:`hangup_call`;
* ``linger [s]``/``nolinger`` and ``exit`` (inherited).

In async mode (``socket ... async``) every ``sendmsg`` is answered at once; in
sync mode the answer to an ``execute`` comes when the application returns
(:attr:`async_mode`). When the channel hangs up FreeSWITCH sends a
``text/disconnect-notice``: ``linger`` (the socket stays open: handlers of
``"linger"`` hear of it) or ``disconnect`` (it closes).
"""
from __future__ import annotations

import asyncio

from ..errors import ConnectionFailed
from ..wire import commands
from ..wire.events import Event
from . import decoders
from .address import format_address
from .inbound import Connection
from .lifecycle import ConnectionState
from .stream import ESLStream

__all__ = ["OutboundConnection"]


class OutboundConnection(Connection):
    """One connection accepted from FreeSWITCH's ``socket`` application."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__("127.0.0.1", 8084, loop=loop)  # the peer, once accepted
        self.address = "an outbound socket"
        #: the channel data of the ``connect`` reply (None before it)
        self.channel: Event | None = None

    def __repr__(self) -> str:
        uuid = self.channel.uuid if self.channel is not None else "-"
        return f"<OutboundConnection {self.address} {uuid} {self.state.value}>"

    def stream(self) -> ESLStream:
        """The asyncio protocol for the accepted socket (a server's protocol factory)."""
        return self._new_stream()

    def _stream_made(self, stream: ESLStream) -> None:
        assert stream.transport is not None
        peer = stream.transport.get_extra_info("peername")
        if peer:
            self.host, self.port = str(peer[0]), int(peer[1])
            self.address = format_address(self.host, self.port)
            self._esl.host, self._esl.address = self.host, self.address
        super()._stream_made(stream)
        self.state = ConnectionState.CONNECTED
        self._closed_event.clear()

    async def open(self, timeout: float = 5.0) -> Connection:
        raise ConnectionFailed("an outbound connection is opened by FreeSWITCH (the dialplan's "
                               "'socket' application), not by us: serve it with "
                               "switchlab.outbound.serve(...)")

    # -- the outbound verbs ------------------------------------------------------------
    @property
    def uuid(self) -> str | None:
        """The controlled channel's uuid (after :meth:`connect`)."""
        return self.channel.uuid if self.channel is not None else None

    @property
    def async_mode(self) -> bool:
        """True for ``socket ... async`` (``Socket-Mode: async``), False for sync mode."""
        return self.channel is not None and self.channel.get("Socket-Mode") == "async"

    async def connect(self, timeout: float = 5.0) -> Event:
        """``connect``: the channel data (an :class:`Event` named ``CHANNEL_DATA``)."""
        self._ready("connect")
        self.channel = await asyncio.wait_for(self._esl.connect(), timeout)
        return self.channel

    def myevents(self, uuid: str | None = None, fmt: str | None = "plain") -> asyncio.Future[str]:
        """``myevents [fmt]``: the controlled channel's events on this socket."""
        fut = self._request(commands.myevents(uuid, fmt), decoders.command_reply, "myevents")
        return fut

    def divert_events(self, on: bool = True) -> asyncio.Future[str]:
        """``divert_events on|off``: the channel's internal events come to this socket."""
        return self._request(commands.divert_events(on), decoders.command_reply,
                             f"divert_events {'on' if on else 'off'}")

    def getvar(self, name: str) -> asyncio.Future[str]:
        """``getvar <name>``: the controlled channel's variable (``""`` when unset)."""
        return self._request(commands.getvar(name), decoders.command_frame, f"getvar {name}")

    def execute_app(self, app: str, arg: str = "", *, event_lock: bool = False, loops: int = 1,
                    event_uuid: str | None = None) -> asyncio.Future[str]:
        """``sendmsg`` execute ``app`` on the controlled channel (sync mode: the reply
        comes when the application has returned)."""
        data = commands.execute(None, app, arg, event_lock=event_lock, loops=loops,
                                event_uuid=event_uuid)
        return self._request(data, decoders.command_reply, f"sendmsg execute {app}")

    def hangup_call(self, cause: str = "NORMAL_CLEARING") -> asyncio.Future[str]:
        """``sendmsg`` ``call-command: hangup`` on the controlled channel."""
        return self._request(commands.hangup(None, cause), decoders.command_reply,
                             "sendmsg hangup")
