"""``Requests``: the event-socket command vocabulary as methods.

Each method encodes its command with :mod:`switchlab.wire.commands`, queues
it on the :class:`~.protocol.ESLProtocol` with the decoder of its reply and
returns a future (a :class:`~.job.Job` for ``bgapi``); commands that change
what the socket receives are noted in the protocol's
:class:`~.restore.Restore`. A class using it provides ``_esl`` (the protocol),
``_request`` (send, or raise when it cannot) and ``_ready`` (raise when
nothing can be sent now): the inbound :class:`~.inbound.Connection` does, and
so can an outbound-socket session.
"""
from __future__ import annotations

import asyncio
import logging
import uuid as _uuid
from collections.abc import Mapping
from typing import Any

from ..errors import CommandFailed
from ..wire import commands
from . import decoders
from .decoders import Decoder
from .job import Job, silence
from .protocol import ESLProtocol

__all__ = ["Requests"]

log = logging.getLogger(__name__)

_CMD = decoders.command_reply


class Requests:
    """Command methods on top of ``_request``; see the module docstring."""

    _esl: ESLProtocol
    address: str

    def _request(self, data: bytes, decode: Decoder, what: str, *, job: Job | None = None,
                 force: bool = False, timeout: float | None = None) -> asyncio.Future[Any]:
        raise NotImplementedError

    def _send(self, data: bytes, decode: Decoder, what: str, *, job: Job | None = None) -> None:
        """Send a request nobody waits for (by default through ``_request``; the
        inbound connection's has no future at all)."""
        self._request(data, decode, what, job=job).add_done_callback(silence)

    def _ready(self, what: str) -> None:
        raise NotImplementedError

    def api(self, cmd: str, *, check: bool = True, timeout: float | None = None) -> asyncio.Future[str]:
        """``api <cmd>``: the response body as str.

        With ``check`` (default) a body starting with ``-ERR`` (or ``-USAGE``)
        raises :class:`~switchlab.errors.APIError`; ``check=False`` returns
        any body as is (use it for commands whose errors have other shapes,
        e.g. ``sofia status profile x`` answering ``Invalid Profile!``).
        """
        return self._request(commands.api(cmd), decoders.api_checked if check else decoders.api_body,
                             f"api {cmd}", timeout=timeout)

    def api_forget(self, cmd: str) -> None:
        """``api <cmd>`` that nobody waits for (fire and forget): no future; the
        reply is read and dropped, whatever it says."""
        self._send(commands.api(cmd), decoders.api_body, f"api {cmd}")

    def bgapi(self, cmd: str, *, job_uuid: str | None = None) -> Job:
        """``bgapi <cmd>`` with a client-chosen ``Job-UUID``: a :class:`Job`.

        Subscribes to ``BACKGROUND_JOB`` first if needed (without it
        FreeSWITCH would not deliver the result). Note that an event
        ``filter`` also drops ``BACKGROUND_JOB`` unless a filter lets it
        through (e.g. ``filter Event-Name BACKGROUND_JOB``).
        """
        job_uuid = job_uuid or str(_uuid.uuid4())
        return self.bgapi_bytes(cmd, commands.bgapi(cmd, job_uuid=job_uuid), job_uuid)

    def bgapi_bytes(self, cmd: str, data: bytes, job_uuid: str) -> Job:
        """:meth:`bgapi` with its bytes made by the caller: ``data`` must be
        ``commands.bgapi(cmd, job_uuid=job_uuid)`` (which checks them); for a caller
        that fills a template checked once (``Client.originate``)."""
        self._ready(f"bgapi {cmd}")
        esl = self._esl
        restore = esl.restore
        if not restore.has_event("BACKGROUND_JOB"):
            restore.event_names.add("BACKGROUND_JOB")
            fut = self._request(commands.event(["BACKGROUND_JOB"], restore.event_fmt), _CMD,
                                "event BACKGROUND_JOB")
            fut.add_done_callback(silence)
        job = esl.new_job(job_uuid, cmd)
        # the job says whether it was accepted: no future for the reply itself
        self._send(data, esl.bgapi_accepted, f"bgapi {cmd}", job=job)
        return job

    def command(self, line: str, headers: Mapping[str, str] | None = None, body: bytes | None = None,
                *, check: bool = True) -> asyncio.Future[str]:
        """Any command; returns ``Reply-Text`` (``check``: ``-ERR`` raises CommandFailed)."""
        return self._request(commands.command(line, headers, body),
                             _CMD if check else decoders.command_frame, line)

    def subscribe(self, *names: str, fmt: str = "plain") -> asyncio.Future[str]:
        """``event <fmt> <names>`` (default ``ALL``); ``fmt`` is plain, json or xml."""
        names = names or ("ALL",)
        fut = self._request(commands.event(names, fmt), _CMD, f"event {fmt} {' '.join(names)}")
        self._esl.restore.subscribed(names, fmt)
        return fut

    def unsubscribe(self, *names: str) -> asyncio.Future[str]:
        """``nixevent <names>``."""
        fut = self._request(commands.nixevent(names), _CMD, f"nixevent {' '.join(names)}")
        self._esl.restore.unsubscribed(names)
        return fut

    def noevents(self) -> asyncio.Future[str]:
        """``noevents``: stop all events."""
        fut = self._request(commands.noevents(), _CMD, "noevents")
        self._esl.restore.event_names.clear()
        return fut

    def filter(self, header: str, value: str) -> asyncio.Future[str]:
        """``filter <header> <value>``: only events matching some filter pass."""
        fut = self._request(commands.filter_add(header, value), _CMD, f"filter {header} {value}")
        self._esl.restore.filter_added(header, value)
        return fut

    def filter_delete(self, header: str, value: str | None = None) -> asyncio.Future[str]:
        """``filter delete <header> [<value>]`` (header ``all`` removes every filter)."""
        what = f"filter delete {header}" + (f" {value}" if value is not None else "")
        fut = self._request(commands.filter_delete(header, value), _CMD, what)
        self._esl.restore.filter_deleted(header, value)
        return fut

    def myevents(self, uuid: str, fmt: str = "plain") -> asyncio.Future[str]:
        """``myevents <uuid> <fmt>``: attach this socket to one session."""
        fut = self._request(commands.myevents(uuid, fmt), _CMD, f"myevents {uuid} {fmt}")
        self._esl.restore.myevents = (uuid, fmt)
        return fut

    def linger(self, seconds: int | None = None) -> asyncio.Future[str]:
        """``linger [seconds]``: keep the socket after the attached session ends."""
        fut = self._request(commands.linger(seconds), _CMD, "linger")
        self._esl.restore.linger = (True, seconds)
        return fut

    def nolinger(self) -> asyncio.Future[str]:
        fut = self._request(commands.nolinger(), _CMD, "nolinger")
        self._esl.restore.linger = None
        return fut

    def log(self, level: int | str = 7) -> asyncio.Future[str]:
        """``log <level>``: receive ``log/data`` frames (see ``add_handler("log", fn)``)."""
        fut = self._request(commands.log(level), _CMD, f"log {level}")
        self._esl.restore.log_level = level
        return fut

    def nolog(self) -> asyncio.Future[str]:
        fut = self._request(commands.nolog(), _CMD, "nolog")
        self._esl.restore.log_level = None
        return fut

    def sendmsg(self, uuid: str, headers: Mapping[str, str], body: bytes | None = None
                ) -> asyncio.Future[str]:
        """``sendmsg <uuid>`` with headers (and optional body)."""
        return self._request(commands.sendmsg(uuid, headers, body), _CMD, f"sendmsg {uuid}")

    def execute(self, uuid: str, app: str, arg: str = "", *, event_lock: bool = False,
                loops: int = 1, event_uuid: str | None = None) -> asyncio.Future[str]:
        """Run dialplan application ``app`` on channel ``uuid`` (``sendmsg ... execute``)."""
        data = commands.execute(uuid, app, arg, event_lock=event_lock, loops=loops,
                                event_uuid=event_uuid)
        return self._request(data, _CMD, f"sendmsg {uuid} execute {app}")

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> asyncio.Future[str]:
        """``sendmsg <uuid>`` ``call-command: hangup``."""
        return self._request(commands.hangup(uuid, cause), _CMD, f"sendmsg {uuid} hangup")

    async def _restore(self) -> None:
        """Re-apply subscriptions, filters, myevents, linger and log level (after a reconnect)."""
        restore = self._esl.restore
        futs = [self._request(data, _CMD, f"{what} (restore)", force=True)
                for data, what in restore.commands()]
        if futs:
            await asyncio.gather(*futs)
        if restore.myevents is not None:
            fut = self._request(commands.myevents(*restore.myevents), _CMD, "myevents (restore)",
                                force=True)
            try:
                await fut
            except CommandFailed as exc:
                log.warning("%s: could not re-attach myevents: %s", self.address, exc)
        if restore.linger is not None:
            await self._request(commands.linger(restore.linger[1]), _CMD, "linger (restore)",
                                force=True)
        if restore.log_level is not None:
            await self._request(commands.log(restore.log_level), _CMD, "log (restore)", force=True)
