"""The event-socket wire protocol, sans I/O: bytes in, frames out.

Nothing here touches a socket or an event loop; the connection layer and the
emulator both build on it. Framing and header lookups run compiled where
the install could build them (:mod:`.native`).
"""
from . import native

native.select(__name__)

from . import commands, replies, serialize  # noqa: E402
from .events import Event  # noqa: E402
from .frames import (API_RESPONSE, AUTH_REQUEST, COMMAND_REPLY,  # noqa: E402
                     DISCONNECT_NOTICE, EVENT_JSON, EVENT_PLAIN, EVENT_TYPES, EVENT_XML,
                     LOG_DATA, RUDE_REJECTION, Frame)
from .parser import Command, CommandParser, FrameParser  # noqa: E402
from .urlcodec import fs_url_decode, fs_url_encode  # noqa: E402

__all__ = [
    "API_RESPONSE", "AUTH_REQUEST", "COMMAND_REPLY", "DISCONNECT_NOTICE", "EVENT_JSON",
    "EVENT_PLAIN", "EVENT_TYPES", "EVENT_XML", "LOG_DATA", "RUDE_REJECTION", "Command",
    "CommandParser", "Event", "Frame", "FrameParser", "commands", "fs_url_decode",
    "fs_url_encode", "replies", "serialize",
]
