"""``ESLStream``: the asyncio byte pump between a TCP connection and an
:class:`~.protocol.ESLProtocol`.

It feeds received bytes to the protocol and lets it handle the frames; when a
handler asks to yield (so that a woken task runs before the next frame), the
rest of the frames wait in a backlog, reading pauses, and the backlog drains
on the next loop iteration (then reading resumes). The owner is told when the
connection is made and, once the backlog is drained, when it is lost.

Writes: :meth:`write` hands bytes to the transport at once (one ``send``
each), except between :meth:`cork` and :meth:`uncork`, which sends
everything written in between with one ``send``, in order. The stream corks itself while its handlers run on received frames;
a launcher corks it for the calls it launches in one step. :meth:`close`
sends what is held first; :meth:`abort` drops it (the owner fails those
requests, as every request a lost connection leaves unanswered); a held
send that fails aborts the connection and is the reason given for its loss.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import ProtocolError
from ..wire.frames import Frame
from .job import silence
from .protocol import ESLProtocol

__all__ = ["ESLStream"]

log = logging.getLogger(__name__)

_monotonic = time.monotonic


class ESLStream(asyncio.Protocol):
    """One TCP connection's byte pump for ``esl``.

    ``on_made(stream)`` runs at connect; ``on_error(stream, exc)`` for bytes
    that are not frames (the stream is then aborted); ``on_lost(stream, exc)``
    once the connection is gone and every received frame handled. A stream
    the owner no longer wants (:attr:`active` False) ignores what it receives.
    """

    def __init__(self, esl: ESLProtocol, loop: asyncio.AbstractEventLoop,
                 on_made: Callable[[ESLStream], Any],
                 on_error: Callable[[ESLStream, ProtocolError], Any],
                 on_lost: Callable[[ESLStream, Exception | None], Any]) -> None:
        self.esl = esl
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.active = True
        #: resolved once the connection is closed (whatever the owner thinks of it)
        self.closed: asyncio.Future[None] = loop.create_future()
        self.closed.add_done_callback(silence)
        self._on_made = on_made
        self._on_error = on_error
        self._on_lost = on_lost
        self._backlog: deque[tuple[list[Frame | bytes], int, float]] = deque()
        self._lost: tuple[Exception | None] | None = None  # lost while the backlog drains
        self._out: list[bytes] = []  # written while corked, not sent yet
        self._corks = 0  # open cork() calls
        self._write_error: Exception | None = None  # why a flush aborted the connection

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._on_made(self)

    def data_received(self, data: bytes) -> None:
        if not self.active:
            return
        frames, error = self.esl.parse(data)
        if frames:  # the frames completed before bad bytes are real: handle them first
            self._deliver(frames)
        if error is not None:
            self._on_error(self, error)
            if self.transport is not None:
                self.transport.abort()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._out.clear()  # nothing more can be sent
        if exc is None:
            exc = self._write_error
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.active:
            return
        if self._backlog:
            self._lost = (exc,)  # deliver the queued frames first
            return
        self._on_lost(self, exc)

    # -- writing ----------------------------------------------------------------------
    @property
    def writable(self) -> bool:
        """True while bytes can be written."""
        t = self.transport
        return t is not None and not t.is_closing()

    def write(self, data: bytes) -> None:
        """Send ``data``: at once, or with the rest when the stream is uncorked."""
        if self._corks:
            self._out.append(data)
        else:
            assert self.transport is not None, "write before connection_made"
            self.transport.write(data)

    def cork(self) -> None:
        """Hold what :meth:`write` gets until as many :meth:`uncork` calls."""
        self._corks += 1

    def uncork(self) -> None:
        """Undo one :meth:`cork`; the last one sends what was held, in one ``send``."""
        self._corks -= 1
        if self._corks <= 0:
            self._corks = 0
            self.flush()

    def flush(self) -> None:
        """Send what is held now (the stream stays corked if it was)."""
        out = self._out
        if out:
            self._out = []
            self._send(out)

    def _send(self, out: list[bytes]) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return  # gone: the owner fails the requests of these bytes (on_lost)
        try:
            t.write(out[0] if len(out) == 1 else b"".join(out))
        except Exception as exc:  # reported as the reason the connection was lost
            log.error("sending %d held bytes failed: %r; closing the connection",
                      sum(map(len, out)), exc)
            self._write_error = exc
            t.abort()

    def close(self) -> None:
        """Close once the queued writes are sent."""
        if self.transport is not None:
            self.flush()
            self.transport.close()

    def abort(self) -> None:
        """Close at once: held writes are dropped (their requests fail)."""
        self._out.clear()
        if self.transport is not None:
            self.transport.abort()

    # -- backlog and flow control ---------------------------------------------------------
    def _deliver(self, frames: list[Frame | bytes]) -> None:
        now = _monotonic()
        if self._backlog:
            self._backlog.append((frames, 0, now))
            return
        i = self._process(frames, 0, now)
        if i < len(frames):
            self._defer(frames, i, now)

    def _process(self, frames: list[Frame | bytes], i: int, now: float) -> int:
        """``esl.process`` corked: what the handlers send leaves in one send."""
        self.cork()
        try:
            return self.esl.process(frames, i, now)
        finally:
            self.uncork()

    def _defer(self, frames: list[Frame | bytes], i: int, now: float) -> None:
        self._backlog.appendleft((frames, i, now))
        t = self.transport
        if t is not None:
            try:
                t.pause_reading()
            except RuntimeError:
                pass
        self.loop.call_soon(self._drain)

    def _drain(self) -> None:
        backlog = self._backlog
        process = self._process
        while backlog:
            frames, i, now = backlog.popleft()
            i = process(frames, i, now)
            if i < len(frames):  # yielded again; rescheduled
                self._defer(frames, i, now)
                return
        if self._lost is not None:
            (exc,), self._lost = self._lost, None
            if self.active:
                self._on_lost(self, exc)
        elif self.writable:
            try:
                self.transport.resume_reading()  # type: ignore[union-attr]
            except RuntimeError:
                pass
