"""The server side of one event-socket connection (``mod_event_socket``): bytes in,
commands run in order, replies and subscribed events out (the client side is
:class:`switchlab.state.EventListener`; the commands are in :mod:`.commands`). A client
that sends garbage or vanishes mid-frame only loses its own connection (logged on
``switchlab.sim``). A blocking ``api`` (``originate``) holds later commands and this
connection's events until its response is written, as FreeSWITCH's one listener thread.

Delivery follows mod_event_socket's ``read_packet`` loop: the listener thread sends its
queues, then sleeps in ``switch_poll(..., 20000)`` on the client's socket. An event
queued while the client is quiet waits for the end of that 20 ms sleep; a command wakes
the thread at once: its reply goes out first, then everything queued, then the sleep
starts again. One timer per connection, armed only while something is queued, models it
(``host.event_poll_s``; 0 delivers at once). What the commands of one read write leaves
in one writev (:meth:`EslServerProtocol._run`).
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from ...errors import ProtocolError
from ...wire import serialize
from ...wire.parser import Command, CommandParser
from ..calls.lifecycle import release_session
from ..model.channel import Channel
from ..model.event_builder import SimEvent
from ..model.ports import Host
from .commands import handle
from .subscription import passes_filters

log = logging.getLogger("switchlab.sim")
#: stop queueing events for a client whose socket buffer holds this many bytes (about
#: FreeSWITCH's listener queue of 100 000 events, MAX_QUEUE_LEN in mod_event_socket)
MAX_BUFFERED = 256 * 1024 * 1024
#: a client that lost more events than this in a row is disconnected (MAX_MISSED)
MAX_MISSED = 500


def protocol_factory(make: Callable[[], EslServerProtocol]) -> Callable[[], asyncio.Protocol]:
    """``make`` typed as asyncio wants a protocol factory (:class:`EslServerProtocol`
    is one by its methods, not by its base class: see there)."""
    return cast("Callable[[], asyncio.Protocol]", make)


class EslServerProtocol:
    """One inbound event-socket connection to an emulated host (an asyncio protocol).

    It has every method asyncio calls on a protocol, without ``asyncio.Protocol`` as its
    base: compiled, a class with a Python base gets a ``__weakref__`` slot that mypyc's
    generated ``clear`` frees."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.parser = CommandParser()
        self.authed = False
        self.closed = False
        self.fmt = "plain"
        self.events_on = False
        self.all_events = False
        self.event_names: set[str] = set()
        self.custom_subclasses: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.myevents = False
        self.session: Channel | None = None
        self.linger: int | None = None
        self.lingering = False
        self.log_level: int | None = None
        self.lost_events = 0
        self._busy = False
        self._backlog: deque[Command] = deque()
        self._held: list[bytes] | None = None
        self._out: list[bytes] = []
        self._batch: list[bytes] | None = None  # what running commands write (see _run)
        #: when the listener thread last went to sleep in its 20 ms poll, and the timer
        #: that wakes it while something is queued
        self._anchor = host.loop.time()
        self._wake: asyncio.TimerHandle | None = None
        #: events held back by a stall fault (:meth:`stall`), and their size
        self._stalled: list[bytes] | None = None
        self._stalled_bytes = 0
        #: a slow-client fault: behave as if this client's queue were full
        self.queue_full = False

    # -- asyncio.Protocol -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.attach(transport)
        self.write(serialize.AUTH_REQUEST_FRAME)

    def attach(self, transport: asyncio.BaseTransport) -> None:
        """Take the transport, note the peer, start hearing the host's events."""
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = f"{peer[0]}:{peer[1]}"
        self.host.add_listener(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            commands = self.parser.feed(data)
        except ProtocolError as exc:
            log.warning("%s: client %s sent bytes that are not event-socket commands (%s); "
                        "closing that connection only", self.host.hostname, self.peer, exc)
            self.close(notice=False)
            return
        self._run(commands)

    def eof_received(self) -> bool | None:
        return None  # the client shut its side: let the transport close (asyncio.Protocol)

    def pause_writing(self) -> None:
        """asyncio's flow control: nothing to do, delivery checks the buffer itself."""

    def resume_writing(self) -> None:
        """asyncio's flow control: see :meth:`pause_writing`."""

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.parser.pending:
            log.warning("%s: client %s went away in the middle of a command (%d bytes "
                        "unread)", self.host.hostname, self.peer, self.parser.pending)
        elif exc is not None:
            log.info("%s: client %s connection lost: %s", self.host.hostname, self.peer, exc)
        self._teardown()

    # -- output ----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Write a reply now: ahead of queued events (the listener is busy with the
        command, not its queue), or after them when delivery is immediate."""
        t = self.transport
        if t is not None and not self.closed and not t.is_closing():
            if self._out and self.host.event_poll_s <= 0:
                self._flush()
            if self._batch is not None:
                self._batch.append(data)
            else:
                t.write(data)

    def _queue_out(self, data: bytes) -> None:
        """Queue an event or log line for the listener's next wake-up."""
        out = self._out
        out.append(data)
        if len(out) == 1:
            poll = self.host.event_poll_s
            loop = self.host.loop
            if poll <= 0:
                loop.call_soon(self._flush)
            elif self._wake is None:
                # the thread sleeps in poll periods from its last sleep; wake at the end
                periods = max(1, math.ceil((loop.time() - self._anchor) / poll))
                self._wake = loop.call_at(self._anchor + periods * poll, self._woke)
        elif len(out) >= 64 and self.host.event_poll_s <= 0:
            self._flush()

    def _woke(self) -> None:
        """End of a 20 ms poll: send the queue, then sleep again."""
        self._wake = None
        self._anchor = self.host.loop.time()
        self._flush()

    def _command_done(self, queued_before: int | None = None) -> None:
        """A command was handled: the queue goes out after its reply, then the thread
        sleeps again. ``queued_before``: only that many (queued before the command came)
        go now; the rest was made by work FreeSWITCH does in other threads (``bgapi``,
        ``sendmsg``: the emulator does it at once), which the listener only sees after
        its next poll."""
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        loop = self.host.loop
        self._anchor = loop.time()
        out = self._out
        if queued_before is None or queued_before >= len(out):
            self._flush()
            return
        later = out[queued_before:]
        del out[queued_before:]
        self._flush()
        self._out = later
        self._wake = loop.call_at(self._anchor + self.host.event_poll_s, self._woke)

    def _flush(self) -> None:
        """Send the queue: into the batch while commands run (see :meth:`_run`), else now."""
        lines, self._out = self._out, []
        t = self.transport
        if lines and t is not None and not self.closed and not t.is_closing():
            if self._batch is not None:  # commands still running: see _run
                self._batch.extend(lines)
            else:
                t.writelines(lines)  # uvloop: one writev, no joined copy

    def _send_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch and self.transport is not None and not self.transport.is_closing():
            self.transport.writelines(batch)

    def hold(self) -> None:
        """Hold this connection's events until :meth:`unhold` (an api command runs)."""
        self._held = []

    def unhold(self) -> list[bytes] | None:
        """Stop holding events; return the held ones (to write after the api response)."""
        held, self._held = self._held, None
        return held

    def release_held(self, held: list[bytes]) -> None:
        """Events an api command caused (held during it): after its response, behind what
        was queued before it (one queue, as the listener's)."""
        if self.host.event_poll_s <= 0:
            self.write(b"".join(held))
        else:
            self._out.append(b"".join(held))

    def stall(self) -> None:
        """Hold every event and log line (not replies) until :meth:`unstall` (a fault)."""
        if self._stalled is None:
            self._stalled = []
            self._stalled_bytes = 0

    def unstall(self) -> int:
        """Deliver the events held since :meth:`stall`, in order; returns how many."""
        stalled, self._stalled = self._stalled, None
        self._stalled_bytes = 0
        if stalled:
            self._emit(b"".join(stalled))
        return len(stalled or ())

    def reply(self, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        self.write(serialize.command_reply(text, extra or ()))

    def deliver(self, ev: SimEvent) -> None:
        """Queue an event for this client if its subscription and filters let it through."""
        if self.closed or not self.events_on:
            return
        name = ev.name
        if not self.all_events and name not in self.event_names:
            return
        if name == "CUSTOM" and self.custom_subclasses and not self.all_events:
            sub = ev.get("Event-Subclass")
            if sub not in self.custom_subclasses:
                return
        if self.filters and not passes_filters(self.filters, ev):
            return
        if self.myevents:
            session = self.session
            if ev.unique_id is None or (session is not None and ev.unique_id != session.uuid):
                return
        t = self.transport
        if t is None or t.is_closing():
            return
        host = self.host
        if (self.queue_full or t.get_write_buffer_size() + self._stalled_bytes
                > (host.max_buffered or MAX_BUFFERED)):
            self.lost_events += 1
            host.lost_events += 1
            if self.lost_events == 1:
                log.warning("%s: client %s reads too slowly; dropping events",
                            self.host.hostname, self.peer)
            elif self.lost_events > (host.max_missed or MAX_MISSED):
                log.error("%s: client %s lost %d events; disconnecting it (as FreeSWITCH "
                          "kills a listener whose queue stays full)",
                          self.host.hostname, self.peer, self.lost_events)
                host.slow_disconnects += 1
                t.abort()
            return
        if self.lost_events:
            log.critical("%s: client %s: lost [%d] events!", self.host.hostname, self.peer,
                         self.lost_events)
            self.lost_events = 0
        data = ev.frame(self.fmt)
        if self._stalled is not None:
            self._stalled.append(data)
            self._stalled_bytes += len(data)
        elif self._held is not None:
            self._held.append(data)
        else:
            self._queue_out(data)

    def deliver_log(self, text: str, headers: list[tuple[str, str]]) -> None:
        self._emit(serialize.log_data(text, headers))

    def _emit(self, data: bytes) -> None:
        """Queue (as events), or hold until the response of the api command running now."""
        if self._stalled is not None:
            self._stalled.append(data)
            self._stalled_bytes += len(data)
        elif self._held is not None:
            self._held.append(data)
        else:
            self._queue_out(data)

    # -- lifecycle -------------------------------------------------------------------
    def close(self, notice: bool = True, body: bytes | None = None) -> None:
        """Send the disconnect notice (if asked; ``body`` replaces its text) and close."""
        if self.closed:
            return
        self._flush()
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        if notice:
            extra: list[tuple[str, str]] = []
            if self.session is not None:
                extra = [("Controlled-Session-UUID", self.session.uuid),
                         ("Content-Disposition", "disconnect")]
            self.write(serialize.disconnect_notice(extra) if body is None
                       else serialize.disconnect_notice(extra, body=body))
        self._send_batch()  # before the transport closes
        if self.transport is not None:
            self.transport.close()
        self._teardown()

    def _teardown(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        self.host.remove_listener(self)
        session, self.session = self.session, None
        if session is not None:
            release_session(session, self)

    def session_down(self, chan: Channel) -> None:
        """The controlled session hung up: linger notice, or disconnect."""
        if self.closed or chan is not self.session:
            return
        if self.linger is not None:
            if not self.lingering:
                self.lingering = True
                self._emit(serialize.disconnect_notice(
                    [("Controlled-Session-UUID", chan.uuid), ("Content-Disposition", "linger"),
                     ("Channel-Name", chan.name), ("Linger-Time", str(self.linger))],
                    body=b""))
                if self.linger >= 0:
                    self.host.later(float(self.linger), self.close)
        else:
            self.host.later(self.host.tick(), self.close)

    # -- command processing --------------------------------------------------------
    def handle_command(self, cmd: Command) -> Awaitable[Any] | None:
        """Run one command (an outbound socket adds its own verbs)."""
        return handle(self, cmd)

    def _run(self, commands: Iterable[Command]) -> None:
        """Run commands in order; from one that blocks (a blocking api) on, they wait.
        What they write, replies and the events flushed after them, leaves in one writev
        when they are done: the bytes and order of a write per reply and per flush."""
        self._batch = []
        try:
            for cmd in commands:
                if self.closed:
                    return
                if self._busy:
                    self._backlog.append(cmd)
                else:
                    self._run_command(cmd)
        finally:
            self._send_batch()

    def _run_command(self, cmd: Command) -> None:
        queued = len(self._out)
        try:
            pending = self.handle_command(cmd)
        except Exception:
            log.exception("%s: command %r from %s failed inside the emulator",
                          self.host.hostname, cmd.line[:80], self.peer)
            self.reply("-ERR command failed")
            return
        if pending is not None:
            self._busy = True
            if self._held is None:
                self._held = []
            self.host.loop.create_task(self._finish(pending))
        elif not self.closed:
            # an api runs in the listener thread: what it caused is queued before its reply
            self._command_done(None if cmd.line.startswith("api ") or self.host.event_poll_s <= 0
                               else queued)

    async def _finish(self, pending: Awaitable[Any]) -> None:
        try:
            await pending
        except Exception:
            log.exception("%s: blocking command from %s failed", self.host.hostname, self.peer)
        finally:
            held, self._held = self._held, None
            if held and not self.closed:
                self._emit(b"".join(held))  # stalled by a fault, or queued (sent just below)
            if not self.closed:
                self._command_done()
            self._busy = False
            if not self.closed:
                backlog, self._backlog = self._backlog, deque()
                self._run(backlog)
