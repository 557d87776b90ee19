"""``ESLProtocol``: the application side of the event socket, sans I/O.

It turns bytes from FreeSWITCH into results and events, and commands into
bytes, and knows nothing of sockets, event loops or which side dialled:

* :meth:`receive_data` parses frames (:class:`~switchlab.wire.FrameParser`),
  gives every reply to the oldest waiting :class:`~.decoders.Request` (FIFO)
  and its decoder, resolves ``bgapi`` jobs from their ``BACKGROUND_JOB`` and
  passes events to :attr:`emit` and any other frame (greeting, disconnect
  notice, log line) to :attr:`on_notice`;
* :meth:`request` queues a command and hands its bytes to :attr:`write`;
* :attr:`restore` remembers the subscriptions, filters and log level to
  re-apply on a new connection.

The inbound :class:`~switchlab.esl.inbound.Connection` drives it from an
asyncio transport; an outbound-socket server (FreeSWITCH dials us,
:class:`~switchlab.esl.outbound.OutboundConnection`) drives the same object:
:meth:`ESLProtocol.connect` sends ``connect``, whose reply is just another
decoder (:func:`~.decoders.channel_data`), and keeps the channel data in
:attr:`channel`; a ``linger`` notice's ``Linger-Time`` is kept in
:attr:`linger_time`. A test drives it from bytes alone:

>>> import asyncio
>>> from switchlab.esl import decoders
>>> loop = asyncio.new_event_loop()
>>> sent = []
>>> p = ESLProtocol(loop.create_future, write=sent.append)
>>> fut = p.request(b"api status\\n\\n", decoders.api_checked, "api status")
>>> p.receive_data(b"Content-Type: api/response\\nContent-Length: 5\\n\\nUP 1\\n")
>>> sent, fut.result()
([b'api status\\n\\n'], 'UP 1\\n')
>>> loop.close()
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import Disconnected, ProtocolError
from ..wire.events import Event
from ..wire.frames import (API_RESPONSE, COMMAND_REPLY, DISCONNECT_NOTICE, EVENT_TYPES,
                           RUDE_REJECTION, Frame)
from ..wire.commands import connect as connect_command
from ..wire.parser import FrameParser
from .decoders import BgapiAccepted, Decoder, Request, channel_data
from .job import Job, silence
from .restore import Restore

__all__ = ["ESLProtocol"]

log = logging.getLogger(__name__)

_monotonic = time.monotonic


def _noop(_arg: Any) -> None:
    return None


def _not_attached(_data: bytes) -> None:
    raise Disconnected("nothing to write to: the protocol is not attached to a connection; "
                       "call connection_made(write) first")


class ESLProtocol:
    """Reply matching, job table and events of one event-socket conversation.

    ``new_future`` makes the futures of requests (``loop.create_future``);
    ``write(bytes)`` sends; ``emit(event)`` gets every event (stamped with
    ``received`` and ``host``); ``on_notice(frame)`` every frame that is
    neither a reply nor an event; ``on_job(job)`` every settled job.
    ``host`` stamps events and ``address`` names the peer in messages.
    """

    def __init__(self, new_future: Callable[[], asyncio.Future[Any]], *,
                 write: Callable[[bytes], Any] = _not_attached, host: str = "",
                 address: str = "") -> None:
        self.new_future = new_future
        self.write = write
        self.host = host
        self.address = address or host or "the event socket"
        self.emit: Callable[[Event], Any] = _noop
        #: when set, given every event and its Event-Name instead of ``emit``
        self.emit_named: Callable[[Event, str], Any] | None = None
        self.on_notice: Callable[[Frame], Any] = _noop
        self.on_job: Callable[[Job], Any] = _noop
        self.parser = FrameParser()
        self.pending: deque[Request] = deque()
        self.jobs: dict[str, Job] = {}
        self.bgapi_accepted = BgapiAccepted(self.jobs)
        self.restore = Restore()
        self.events_received = 0
        #: set by a handler that wants the loop to run before the next frame
        self.yield_requested = False
        #: a ``linger`` disconnect notice came (the socket stays open)
        self.lingering = False
        #: the last closing notice (``disconnect`` notice or rude rejection)
        self.notice: Frame | None = None
        #: outbound mode: the channel data of the ``connect`` reply
        self.channel: Event | None = None
        #: the ``Linger-Time`` of a linger notice (-1: forever), when one came
        self.linger_time: int | None = None

    def __repr__(self) -> str:
        return (f"<ESLProtocol {self.address} pending={len(self.pending)} "
                f"jobs={len(self.jobs)}>")

    # -- a new conversation -----------------------------------------------------
    def connection_made(self, write: Callable[[bytes], Any]) -> None:
        """Start over on a new connection (fresh parser; restore state kept)."""
        self.write = write
        self.parser = FrameParser()
        self.notice = None
        self.lingering = False
        self.yield_requested = False

    # -- sending ------------------------------------------------------------------
    def request(self, data: bytes, decode: Decoder, what: str, job: Job | None = None
                ) -> asyncio.Future[Any]:
        """Queue a request for the next reply and write ``data``; returns its future."""
        fut = self.new_future()
        req = Request(fut, decode, what, job)
        self.pending.append(req)
        try:
            self.write(data)
        except BaseException:
            self.pending.remove(req)  # nothing was sent: no reply will come for it
            raise
        return fut

    def send(self, data: bytes, decode: Decoder, what: str, job: Job | None = None) -> None:
        """:meth:`request` with no future: nobody waits for the result (the reply
        is still matched, decoded and dropped; a ``bgapi``'s job still settles)."""
        req = Request(None, decode, what, job)
        self.pending.append(req)
        try:
            self.write(data)
        except BaseException:
            self.pending.remove(req)
            raise

    def connect(self) -> asyncio.Future[Event]:
        """Outbound mode: send ``connect``; resolves with the channel data
        (an :class:`Event` named ``CHANNEL_DATA``, also kept in :attr:`channel`)."""
        fut = self.request(connect_command(), channel_data, "connect")
        fut.add_done_callback(self._connected)
        return fut

    def _connected(self, fut: asyncio.Future[Event]) -> None:
        if not fut.cancelled() and fut.exception() is None:
            self.channel = fut.result()

    def new_job(self, job_uuid: str, command: str) -> Job:
        """A :class:`Job` in the job table, to send with :meth:`request_job`."""
        job = Job(job_uuid, command, self.new_future(), self.host)
        self.jobs[job_uuid] = job
        return job

    def request_job(self, data: bytes, job: Job) -> asyncio.Future[Any]:
        """Send a ``bgapi`` for ``job`` (made by :meth:`new_job`)."""
        return self.request(data, self.bgapi_accepted, f"bgapi {job.command}", job)

    # -- receiving ----------------------------------------------------------------
    def parse(self, data: bytes) -> tuple[list[Frame | bytes], ProtocolError | None]:
        """Parse ``data`` into frames (:meth:`process` handles them), and the
        :class:`~switchlab.errors.ProtocolError` of bytes that are not frames,
        if any (the frames are those complete before the bad bytes). A plain
        event comes as its bytes (:meth:`FrameParser.feed_mixed
        <switchlab.wire.FrameParser.feed_mixed>`)."""
        try:
            return self.parser.feed_mixed(data), None
        except ProtocolError as exc:
            return list(getattr(exc, "frames", None) or ()), exc

    def receive_data(self, data: bytes) -> None:
        """Parse and handle ``data`` whole (ignoring yield requests).

        The frames complete before bad bytes are handled, then the
        :class:`~switchlab.errors.ProtocolError` is raised.
        """
        frames, error = self.parse(data)
        if frames:
            self._process_all(frames)
        if error is not None:
            raise error

    def _process_all(self, frames: list[Frame | bytes]) -> None:
        now = _monotonic()
        i = 0
        while i < len(frames):
            i = self.process(frames, i, now)

    def process(self, frames: list[Frame | bytes], i: int, now: float) -> int:
        """Handle ``frames[i:]`` received at ``now``; returns where it stopped:
        ``len(frames)``, or earlier when a handler asked to yield
        (:attr:`yield_requested`): resume there once the loop has run."""
        n = len(frames)
        host = self.host
        jobs = self.jobs
        new_event = Event
        while i < n:
            f = frames[i]
            i += 1
            if f.__class__ is bytes:  # a plain event: b"\n" + its body
                ev = new_event(f, now, host)
            else:
                got = self._event_or_other(f)  # type: ignore[arg-type]
                if got is None:
                    if self.yield_requested and i < n:
                        break
                    continue
                ev = got
                ev.received = now
                ev.host = host
            self.events_received += 1
            try:
                named = self.emit_named
                if named is not None:  # the name read once, for the job table and the sinks
                    name = ev.get("Event-Name", "")
                    if jobs and name == "BACKGROUND_JOB":
                        self._job_event(ev)
                    named(ev, name)
                else:
                    if jobs and ev.get("Event-Name") == "BACKGROUND_JOB":  # ev.name, a frame less
                        self._job_event(ev)
                    self.emit(ev)
            except Exception:  # a bad event or a failing handler must not kill the connection
                log.exception("%s: handling an event failed: %r", self.address,
                              f[:200] if f.__class__ is bytes else f)
            if self.yield_requested and i < n:
                break
        self.yield_requested = False
        return i

    def _event_or_other(self, f: Frame) -> Event | None:
        """The event of frame ``f``, or None once a reply or notice is handled."""
        ct = f.content_type
        if ct in EVENT_TYPES:
            return Event.from_frame(f)
        if ct == COMMAND_REPLY or ct == API_RESPONSE:
            self._reply(f)
        else:
            self._notice(f)
        return None

    def _job_event(self, ev: Event) -> None:
        job = self.jobs.pop(ev.job_uuid or "", None)
        if job is None:
            return
        job.resolve(ev)
        self.on_job(job)

    def _notice(self, f: Frame) -> None:
        ct = f.content_type
        if ct == DISCONNECT_NOTICE:
            if f.disposition == "linger":
                self.lingering = True
                try:
                    self.linger_time = int(f.headers.get("Linger-Time", "-1"))
                except ValueError:
                    self.linger_time = -1
            else:
                self.notice = f
        elif ct == RUDE_REJECTION:
            self.notice = f
        self.on_notice(f)

    def _reply(self, f: Frame) -> None:
        try:
            req = self.pending.popleft()
        except IndexError:
            log.warning("%s: a reply came with no command waiting for it (ignored): %r",
                        self.address, f)
            return
        fut = req.future
        try:
            value = req.decode(f, req)
        except Exception as exc:
            if fut is not None and not fut.done():
                fut.set_exception(exc)
            return
        # done: cancelled or timed out; the reply still used its slot
        if fut is not None and not fut.done():
            fut.set_result(value)

    # -- the end of a conversation ------------------------------------------------
    def connection_lost(self, reason: str, cause: BaseException | None = None) -> None:
        """Fail every waiting request and job with :class:`~switchlab.errors.Disconnected`."""
        address = self.address
        pending, self.pending = self.pending, deque()
        for req in pending:
            exc = Disconnected(f"{address}: {reason}; {req.what!r} got no reply (it may have run "
                               "or not: check before sending it again once connected)")
            exc.__cause__ = cause
            if req.job is not None:
                self.jobs.pop(req.job.uuid, None)
                req.job.fail(exc)
            fut = req.future
            if fut is not None and not fut.done():
                fut.set_exception(exc)
                silence(fut)
        jobs, self.jobs = self.jobs, {}
        self.bgapi_accepted.jobs = self.jobs
        for job in jobs.values():
            job.fail(Disconnected(
                f"{address}: {reason} before the BACKGROUND_JOB of {job.command!r} arrived "
                "(the command may still have run on FreeSWITCH)"))
