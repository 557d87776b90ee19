"""Frames: the unit of the event-socket stream.

A frame is a header block (``Name: value`` lines ended by a blank line) and,
when the block carries ``Content-Length``, exactly that many bytes of body.
Outer header values are not URL-encoded by FreeSWITCH and are kept verbatim.
"""
from __future__ import annotations

from typing import Final

AUTH_REQUEST: Final = "auth/request"
COMMAND_REPLY: Final = "command/reply"
API_RESPONSE: Final = "api/response"
EVENT_PLAIN: Final = "text/event-plain"
EVENT_JSON: Final = "text/event-json"
EVENT_XML: Final = "text/event-xml"
LOG_DATA: Final = "log/data"
DISCONNECT_NOTICE: Final = "text/disconnect-notice"
RUDE_REJECTION: Final = "text/rude-rejection"

EVENT_TYPES: Final = frozenset({EVENT_PLAIN, EVENT_JSON, EVENT_XML})

#: FreeSWITCH's goodbye text (``mod_event_socket.c``), body of the disconnect notice.
GOODBYE: Final = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


class Frame:
    """One framed message: ``content_type``, outer ``headers`` and raw ``body``.

    >>> f = Frame({"Content-Type": "command/reply", "Reply-Text": "+OK accepted"}, b"")
    >>> f.content_type, f.reply_text, f.ok
    ('command/reply', '+OK accepted', True)
    """

    __slots__ = ("headers", "body", "content_type")

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body
        self.content_type = headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` of a command/reply ('' when absent)."""
        return self.headers.get("Reply-Text", "")

    @property
    def ok(self) -> bool:
        """True for a ``+OK`` reply (command/reply) or a body not starting with ``-ERR``."""
        if self.content_type == COMMAND_REPLY:
            return self.reply_text.startswith("+OK")
        return not self.body.startswith(b"-ERR")

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    @property
    def disposition(self) -> str | None:
        """``Content-Disposition`` of a disconnect notice: ``linger``, ``disconnect`` or None."""
        return self.headers.get("Content-Disposition")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.headers == other.headers and self.body == other.body

    def __repr__(self) -> str:
        extra = self.reply_text or self.body[:40].decode("utf-8", "replace")
        return f"<Frame {self.content_type} {extra!r}>"
