"""``Job``: one ``bgapi`` command, resolved by its ``BACKGROUND_JOB`` event."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Generator
from typing import Any

from ..errors import APIError
from ..wire.events import Event
from ..wire.replies import parse_reply

__all__ = ["Job", "silence"]

log = logging.getLogger(__name__)

_monotonic = time.monotonic


def silence(fut: asyncio.Future[Any]) -> None:
    """Mark a future's exception as retrieved (for fire-and-forget use)."""
    if not fut.cancelled():
        fut.exception()


class Job:
    """A ``bgapi`` job: awaitable, resolved by the matching ``BACKGROUND_JOB``.

    ``await job`` returns the result text without ``+OK`` (for ``originate``:
    the new channel's uuid) or raises :class:`~switchlab.errors.APIError`
    whose ``text`` is FreeSWITCH's cause (e.g. ``USER_BUSY``); bodies are read
    by :func:`switchlab.wire.replies.parse_reply`. ``body`` is the raw body,
    ``event`` the ``BACKGROUND_JOB`` event. ``launched`` and ``done_at`` are
    ``time.monotonic()`` values; ``launched_wall`` and ``done_wall`` are
    ``time.time()``. Higher layers attach ``sess_uuid``, ``call_id`` and ``app_id``.
    """

    __slots__ = ("uuid", "command", "host", "launched", "launched_wall", "accepted", "done_at",
                 "done_wall", "event", "body", "sess_uuid", "call_id", "app_id", "_fut",
                 "_watchers", "__weakref__")

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
        # a failed call is a normal outcome: each failure below is marked as retrieved
        # when it is set (no done callback, no loop pass per job)
        self._fut = fut
        self._watchers: list[tuple[Callable[[Job, Any], Any], Any]] | None = None

    def __await__(self) -> Generator[Any, None, str]:
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

    def watch(self, fn: Callable[[Job, Any], Any], arg: Any = None) -> None:
        """Call ``fn(job, arg)`` once the protocol settles this job: at once when its
        ``BACKGROUND_JOB`` resolves it (no loop pass, no callback object: a done
        callback of :attr:`future` takes both), one loop pass after a failure
        (rejected, connection lost: as a done callback, after the connection's own
        notices). A future settled by someone else (e.g. cancelled) is seen when
        the protocol settles the job. Errors of ``fn`` are logged."""
        if self._watchers is None:
            self._watchers = [(fn, arg)]
        else:
            self._watchers.append((fn, arg))

    def _settled(self) -> None:
        watchers, self._watchers = self._watchers, None
        for fn, arg in watchers or ():
            try:
                fn(self, arg)
            except Exception:
                log.exception("a watcher of %r failed", self)

    def resolve(self, ev: Event) -> None:
        """Settle the job from its ``BACKGROUND_JOB`` event (called by the protocol)."""
        self.event = ev
        self.done_at = ev.received or _monotonic()
        self.done_wall = time.time()
        body = ev.body.decode("utf-8", "replace")
        self.body = body
        fut = self._fut
        if not fut.done():
            reply = parse_reply(body)
            if reply.failed:
                fut.set_exception(APIError(self.command, body, reply.text))
                fut.exception()  # silenced
            else:
                fut.set_result(reply.text)
        if self._watchers is not None:
            self._settled()

    def fail(self, exc: BaseException) -> None:
        """Settle the job with ``exc`` (rejected by FreeSWITCH, or the connection went)."""
        if self.done_at is None:
            self.done_at = _monotonic()
            self.done_wall = time.time()
        fut = self._fut
        if not fut.done():
            fut.set_exception(exc)
            fut.exception()  # silenced
        if self._watchers is not None:
            fut.get_loop().call_soon(self._settled)

    def __repr__(self) -> str:
        state = "pending"
        if self._fut.done():
            state = "ok" if self.successful() else f"failed {self.cause}"
        return f"<Job {self.uuid} {self.command.split(' ', 1)[0]} {state}>"
