"""The outbound event socket: the emulated FreeSWITCH connects to a server (the
dialplan's ``socket`` application, :mod:`switchlab.sim.mod_dptools.socket`).

An :class:`OutboundSocket` is an :class:`~.server.EslServerProtocol` that needs no
``auth`` and controls one channel from the start. Its own verbs, as FreeSWITCH
1.11 answers them (tests/data/fs-wire/outbound, ../shared/fs-wire/INDEX3.md):

* ``connect`` → one ``command/reply`` frame without Content-Length whose header
  block is the channel data (``Event-Name: CHANNEL_DATA`` first, URL-encoded
  values, ``Reply-Text: %2BOK%0A``, ``Socket-Mode``, ``Control`` last); an async
  socket then parks the channel;
* ``divert_events on|off``;
* sync mode: ``sendmsg`` execute answers ``+OK`` only once the application returned.

The controlled channel is held (like ``myevents``): its CHANNEL_DESTROY waits
until the socket closes, so it never reaches the socket. The emulator only
connects to loopback addresses.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable
from typing import Any

from ...wire.parser import Command
from ..model.channel import Channel
from ..model.channel_render import profile_pairs
from ..model.event_builder import SimEvent
from ..model.ports import Host
from ..mod_dptools.runner import AppRun, parse_message
from ..mod_dptools.socket import CONNECTOR, connected, run_sync, socket_gone
from .server import EslServerProtocol, protocol_factory

log = logging.getLogger("switchlab.sim")

#: where FreeSWITCH builds the connect reply (mod_event_socket.c parse_command)
_SOURCE = ("mod_event_socket.c", "parse_command", "2018")
_TASKS: set[asyncio.Task[Any]] = set()


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_socket_address(address: str) -> str:
    """``host:port`` of the outbound-socket server, checked (loopback only).

    >>> check_socket_address("127.0.0.1:8084")
    '127.0.0.1:8084'
    """
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"socket address {address!r} is not host:port (e.g. 127.0.0.1:8084)")
    if not is_loopback(host):
        raise ValueError(f"the emulator only connects to loopback addresses, not {host!r}")
    return address


def channel_data_reply(host: Host, chan: Channel, async_mode: bool, full: bool) -> bytes:
    """The ``connect`` reply: the channel data as a header block, reply headers at the end."""
    post = [("Content-Type", "command/reply"), ("Reply-Text", "+OK\n"),
            ("Socket-Mode", "async" if async_mode else "static"),
            ("Control", "full" if full else "single-channel")]
    pre = profile_pairs("Channel", chan.profile, chan.times, chan.profile_index)
    ev = SimEvent(host.bus, "CHANNEL_DATA", host.bus.next_seq(), host.clock.now_us(), _SOURCE,
                  [], pre, chan, post, True)
    frame = ev.frame("plain")
    return frame[frame.index(b"\n\n") + 2:]


class OutboundSocket(EslServerProtocol):
    """One outbound connection: the emulated FreeSWITCH dialled a server for ``chan``."""

    def __init__(self, host: Host, chan: Channel, run: AppRun, async_mode: bool,
                 full: bool) -> None:
        super().__init__(host)
        self.authed = True
        self.chan = chan
        self.app_run = run
        self.async_mode = async_mode
        self.full = full
        self.connected = False
        self.diverted = False
        self._sync_done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.attach(transport)  # no greeting: FreeSWITCH dialled, the server speaks first
        chan = self.chan
        if chan.dead:
            self.close(notice=False)
            return
        self.session = chan
        chan.holders.add(self)

    def handle_command(self, cmd: Command) -> Awaitable[Any] | None:
        low = cmd.line.lower()
        if low.startswith("connect"):
            if not self.connected:
                self.connected = True
                self.write(channel_data_reply(self.host, self.chan, self.async_mode, self.full))
                connected(self.chan, self.app_run, self.async_mode)
            else:
                self.reply("-ERR command not found")
            return None
        if low.startswith("divert_events"):
            self.diverted = "on" in low[13:]
            self.reply("+OK events diverted" if self.diverted else "+OK events not diverted")
            return None
        if low.startswith("sendmsg") and not self.async_mode:
            uuid = cmd.line[7:].strip()
            if not uuid or uuid == self.chan.uuid:
                return self._sync_sendmsg(cmd)
        return super().handle_command(cmd)

    def _sync_sendmsg(self, cmd: Command) -> Awaitable[Any] | None:
        msg = parse_message(cmd)
        if msg is None or self.chan.dead:
            self.reply("+OK")
            return None
        done: asyncio.Future[None] = self.host.loop.create_future()
        self._sync_done = done

        def finish() -> None:
            if not done.done():
                done.set_result(None)
        run_sync(self.chan, msg, finish)
        return self._reply_when(done)

    async def _reply_when(self, done: asyncio.Future[None]) -> None:
        await done
        self._sync_done = None
        self.reply("+OK")

    def session_down(self, chan: Channel) -> None:
        sync = self._sync_done
        if sync is not None and not sync.done():
            sync.set_result(None)  # the application was cut short: reply now
        if self.closed or chan is not self.session:
            return
        if self.linger is None:
            # FreeSWITCH says goodbye once the channel has left the application
            self.host.later(2 * self.host.tick(), self.close)
            return
        super().session_down(chan)

    def _teardown(self) -> None:
        if self.closed:
            return
        super()._teardown()
        chan, run = self.chan, self.app_run
        if not run.finished and not chan.dead:
            self.host.later(self.host.tick(), socket_gone, chan, run, chan=chan)


async def _open(chan: Channel, run: AppRun, addr: str, port: int, async_mode: bool,
                full: bool) -> None:
    host = chan.host
    try:
        await host.loop.create_connection(protocol_factory(
            lambda: OutboundSocket(host, chan, run, async_mode, full)), addr, port)
    except OSError as exc:
        log.info("%s: socket %s:%d for channel %s: %s", host.hostname, addr, port, chan.uuid, exc)
        host.log(3, "mod_event_socket.c", "socket_function", 476,
                 f"Socket Error [{exc.strerror or exc}]", chan)
        socket_gone(chan, run)


def connect_socket(chan: Channel, run: AppRun, addr: str, port: int, async_mode: bool,
                   full: bool) -> None:
    """Open the outbound socket of ``chan`` (loopback addresses only)."""
    if not is_loopback(addr):
        log.warning("%s: socket %s:%d refused: the emulator only connects to loopback "
                    "addresses", chan.host.hostname, addr, port)
        socket_gone(chan, run)
        return
    task = chan.host.loop.create_task(_open(chan, run, addr, port, async_mode, full))
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


CONNECTOR.connect = connect_socket
