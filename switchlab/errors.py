"""Exceptions raised by switchlab.

Every error names what went wrong and what to do about it. The lowest layer
(the wire protocol) imports this module, so it imports nothing of switchlab.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SwitchlabError(Exception):
    """Base class of every switchlab error."""


class ProtocolError(SwitchlabError):
    """Bytes from the peer do not follow the event-socket framing.

    ``data`` holds the offending bytes (nothing is silently dropped).
    """

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


class CommandError(SwitchlabError, ValueError):
    """A command or one of its values cannot be sent safely.

    Raised before anything reaches the socket, e.g. for a value carrying a
    newline that would let it forge a second ESL command.
    """


class ConnectionFailed(SwitchlabError, ConnectionError):
    """The event socket could not be reached (refused, timed out, unknown host)."""


class AuthenticationError(SwitchlabError):
    """FreeSWITCH refused the event-socket password."""


class Disconnected(SwitchlabError, ConnectionError):
    """The connection closed (peer close, disconnect notice or local close)."""


class CommandFailed(SwitchlabError):
    """A ``command/reply`` came back with ``-ERR``; ``reply`` holds FreeSWITCH's text."""

    def __init__(self, command: str, reply: str) -> None:
        super().__init__(f"{command!r} failed: {reply} (FreeSWITCH's reason; fix the command "
                         "or its arguments, or enable what it needs on the server)")
        self.command = command
        self.reply = reply


class APIError(SwitchlabError):
    """An ``api``/``bgapi`` body started with ``-ERR`` (or another error text).

    ``text`` is FreeSWITCH's text without the ``-ERR`` prefix, e.g.
    ``NORMAL_TEMPORARY_FAILURE`` for a failed originate, so it doubles as the
    hangup cause. Build it from a reply body with
    :func:`switchlab.wire.replies.api_error`, the one reader of reply bodies
    (``text`` given here is used as is; without it, the stripped body).
    """

    def __init__(self, command: str, body: str, text: str | None = None) -> None:
        if text is None:
            text = body.strip()
        super().__init__(f"{command!r} failed: {body.strip() or 'empty answer'}")
        self.command = command
        self.body = body
        self.text = text


class PluginError(SwitchlabError, ImportError):
    """A module named by a setting (a report or panel backend) cannot be
    imported or lacks the functions its role needs; the message names the setting."""


class MeasurementError(SwitchlabError):
    """Per-call measurement data is not what the measurement layer expects
    (an unknown row column, a DataFrame without the call columns, ...)."""


class UnknownKPIError(MeasurementError, ValueError):
    """A threshold or lookup names a KPI that does not exist; the message lists the known names."""


class RunDirectoryError(MeasurementError, OSError):
    """A run directory cannot be created, written or loaded (already holds a run,
    missing files, unreadable metadata)."""


class SessionGone(SwitchlabError):
    """A channel ended (or its events were lost in a connection gap) before an
    awaited event arrived, e.g. ``await sess.recv("CHANNEL_ANSWER")`` on a call
    that failed. ``session_uuid`` names the channel."""

    def __init__(self, message: str, session_uuid: str | None = None) -> None:
        super().__init__(message)
        self.session_uuid = session_uuid


class MalformedFrameError(ProtocolError):
    """A wire parser met bytes that are not a frame (bad ``Content-Length``, a
    header line without a colon, a header block that never ends).

    ``frames`` holds the complete frames (or commands) parsed before the bad
    bytes in the same ``feed`` call and ``data`` the bytes from the bad frame
    on, so nothing received is lost. The stream cannot be resynchronised:
    close the connection.
    """

    def __init__(self, message: str, data: bytes = b"", frames: Sequence[Any] | None = None) -> None:
        super().__init__(message, data)
        self.frames: list[Any] = list(frames or [])


class ConfigError(SwitchlabError, ValueError):
    """A setting cannot be used (an address, an ACL entry, an app list); the message says
    which and how to fix it."""
