"""Reply decoders: what a command's reply means, one decoder per reply kind.

A command is queued as a :class:`Request` holding its future and its
decoder; the reply that comes back for it (replies come in command order) is
given to ``decoder(frame, request)``, which returns the command's result or
raises the exception the command fails with. Decoders know nothing of sockets
or of the mode (inbound or outbound) of the event socket.

>>> from switchlab.wire.frames import Frame
>>> command_reply(Frame({"Content-Type": "command/reply", "Reply-Text": "+OK"}, b""), None)
'+OK'
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..errors import AuthenticationError, CommandFailed
from ..wire.events import Event
from ..wire.frames import API_RESPONSE, COMMAND_REPLY, Frame
from ..wire.replies import api_error, is_error
from ..wire.urlcodec import fs_url_decode
from .job import Job

__all__ = ["AuthReply", "BgapiAccepted", "Decoder", "Request", "api_body", "api_checked", "channel_data",
           "command_frame", "command_reply"]


class Request:
    """One command waiting for its reply: ``future`` (None when nobody waits
    for the result: the reply is decoded and dropped), ``decode``, ``what``
    (the command, for messages) and, for ``bgapi``, its ``job``."""

    __slots__ = ("future", "decode", "what", "job")

    def __init__(self, future: asyncio.Future[Any] | None, decode: Decoder, what: str,
                 job: Job | None = None) -> None:
        self.future = future
        self.decode = decode
        self.what = what
        self.job = job


Decoder = Callable[[Frame, Request], Any]


def _failed(frame: Frame, req: Request) -> CommandFailed:
    return CommandFailed(req.what, frame.reply_text or frame.text)


def api_checked(frame: Frame, req: Request) -> str:
    """``api``: the body; ``-ERR``/``-USAGE`` bodies raise APIError."""
    if frame.content_type != API_RESPONSE:
        raise _failed(frame, req)
    body = frame.text
    if is_error(body):
        raise api_error(req.what, body)
    return body


def api_body(frame: Frame, req: Request) -> str:
    """``api`` with ``check=False``: any body as is."""
    if frame.content_type != API_RESPONSE:
        raise _failed(frame, req)
    return frame.text


def command_reply(frame: Frame, req: Request | None) -> str:
    """Any command: ``Reply-Text``; ``-ERR`` raises CommandFailed."""
    text = frame.reply_text if frame.content_type == COMMAND_REPLY else frame.text
    if text.startswith("-ERR"):
        raise CommandFailed(req.what if req is not None else "command", text)
    return text


def command_frame(frame: Frame, req: Request) -> str:
    """Any command with ``check=False``: ``Reply-Text`` (or the body) as is."""
    return frame.reply_text if frame.content_type == COMMAND_REPLY else frame.text


def channel_data(frame: Frame, req: Request) -> Event:
    """``connect`` on an outbound socket: the reply's header block *is* the
    channel data (``Event-Name: CHANNEL_DATA``, URL-encoded values, the
    ``Reply-Text`` among them): returned as an :class:`Event`."""
    headers = {name: fs_url_decode(value) for name, value in frame.headers.items()}
    reply = headers.get("Reply-Text", "")
    if not reply.startswith("+OK"):
        raise CommandFailed(req.what, reply.strip() or frame.text)
    return Event.from_headers(headers, frame.body)


class BgapiAccepted:
    """``bgapi``: the command/reply says whether FreeSWITCH accepted the job.

    Resolves to the :class:`Job`; a rejected job is failed (CommandFailed) and
    leaves the job table; when the server chose another ``Job-UUID`` than
    ours, the table follows its choice.
    """

    __slots__ = ("jobs",)

    def __init__(self, jobs: dict[str, Job]) -> None:
        self.jobs = jobs

    def __call__(self, frame: Frame, req: Request) -> Job:
        job = req.job
        assert job is not None, "a bgapi request carries its job"
        jobs = self.jobs
        if frame.content_type == COMMAND_REPLY and frame.reply_text.startswith("+OK"):
            job.accepted = True
            got = frame.headers.get("Job-UUID")
            if got and got != job.uuid and jobs.pop(job.uuid, None) is job:
                job.uuid = got  # server ignored our Job-UUID: follow its choice
                jobs[got] = job
        else:
            job.accepted = False
            jobs.pop(job.uuid, None)
            job.fail(_failed(frame, req))
        return job


class AuthReply:
    """``auth``: ``+OK accepted``, else AuthenticationError naming ``address``."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __call__(self, frame: Frame, req: Request) -> str:
        text = frame.reply_text
        if text.startswith("+OK"):
            return text
        raise AuthenticationError(
            f"FreeSWITCH at {self.address} rejected the event-socket password ({text}); "
            "use the password set in event_socket.conf.xml (default 'ClueCon')")
