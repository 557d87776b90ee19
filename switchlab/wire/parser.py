"""Incremental, sans-I/O parsers for the event-socket byte stream.

:class:`FrameParser` turns what FreeSWITCH sends into :class:`Frame` objects;
:class:`CommandParser` turns what a client sends into :class:`Command` objects
(used by the emulator). Both accept arbitrary chunks: a frame may span many
chunks and a chunk may hold many frames. Framing uses ``Content-Length`` only;
no frame is ever dropped.

>>> p = FrameParser()
>>> p.feed(b"Content-Type: auth/request\\n\\nContent-Type: api/resp")
[<Frame auth/request ''>]
>>> p.feed(b"onse\\nContent-Length: 3\\n\\n+OK")
[<Frame api/response '+OK'>]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ProtocolError
from .frames import Frame

#: Refuse a header block larger than this without its blank line (a peer that
#: never ends its headers would otherwise make us buffer without bound).
MAX_HEADER_BLOCK = 1 << 20
#: Refuse a single body larger than this (FreeSWITCH's events are a few KB).
MAX_BODY = 1 << 28


def parse_header_block(block: bytes, offset: int = 0) -> dict[str, str]:
    """Parse ``Name: value`` lines (values verbatim; first occurrence wins)."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition(": ")
        if not sep:
            name, sep, value = line.partition(":")
            if not sep or not name:
                raise ProtocolError(
                    f"malformed header line {line[:80]!r} at byte {offset}: expected 'Name: value'",
                    block,
                )
            value = value.lstrip(" ")
        if name not in headers:
            headers[name] = value
    return headers


class _Buffered:
    """Shared buffering for both directions."""

    def __init__(self) -> None:
        self._buf = b""
        self._consumed = 0  # total bytes consumed, for error offsets

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)

    def _content_length(self, headers: dict[str, str], at: int) -> int:
        raw = headers.get("Content-Length")
        if raw is None:
            return 0
        try:
            n = int(raw)
        except ValueError:
            raise ProtocolError(f"Content-Length {raw!r} at byte {at} is not a number") from None
        if n < 0 or n > MAX_BODY:
            raise ProtocolError(f"Content-Length {n} at byte {at} is out of range")
        return n


class FrameParser(_Buffered):
    """Parse FreeSWITCH's side of the stream into :class:`Frame` objects."""

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every frame it completes (possibly none)."""
        buf = self._buf + data if self._buf else bytes(data)
        frames: list[Frame] = []
        pos = 0
        end = len(buf)
        append = frames.append
        find = buf.find
        while pos < end:
            if buf[pos] == 10:  # tolerate stray newlines between frames
                pos += 1
                continue
            i = find(b"\n\n", pos)
            if i < 0:
                if end - pos > MAX_HEADER_BLOCK:
                    raise ProtocolError(
                        f"no end of headers within {MAX_HEADER_BLOCK} bytes at byte "
                        f"{self._consumed + pos}", buf[pos : pos + 200])
                break
            headers = parse_header_block(buf[pos:i], self._consumed + pos)
            cl = headers.get("Content-Length")
            if cl is None:
                append(Frame(headers, b""))
                pos = i + 2
                continue
            n = self._content_length(headers, self._consumed + pos)
            body_end = i + 2 + n
            if body_end > end:
                break
            append(Frame(headers, buf[i + 2 : body_end]))
            pos = body_end
        self._consumed += pos
        self._buf = buf[pos:] if pos < end else b""
        return frames


@dataclass
class Command:
    """One client command as the server reads it: first line, headers, body.

    ``sendmsg <uuid>\\ncall-command: execute\\n...`` gives ``line='sendmsg <uuid>'``
    and the lower-cased-as-sent headers in ``headers``.
    """

    line: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def verb(self) -> str:
        """The first word (``api``, ``event``, ...)."""
        return self.line.split(" ", 1)[0]

    @property
    def arg(self) -> str:
        """Everything after the first space ('' when none)."""
        return self.line.partition(" ")[2]


class CommandParser(_Buffered):
    """Parse a client's commands (what ``mod_event_socket`` reads)."""

    def feed(self, data: bytes) -> list[Command]:
        """Add ``data`` and return the commands it completes."""
        buf = self._buf + data if self._buf else bytes(data)
        out: list[Command] = []
        pos = 0
        end = len(buf)
        while pos < end:
            if buf[pos] in (10, 13):
                pos += 1
                continue
            i = buf.find(b"\n\n", pos)
            j = buf.find(b"\r\n\r\n", pos)
            sep = 2
            if j >= 0 and (i < 0 or j < i):
                i, sep = j, 4
            if i < 0:
                if end - pos > MAX_HEADER_BLOCK:
                    raise ProtocolError("command without end of headers", buf[pos : pos + 200])
                break
            lines = buf[pos:i].decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip(), value.strip())
            n = self._content_length(
                {"Content-Length": v for k, v in headers.items() if k.lower() == "content-length"},
                self._consumed + pos)
            body_end = i + sep + n
            if body_end > end:
                break
            out.append(Command(lines[0].strip(), headers, buf[i + sep : body_end]))
            pos = body_end
        self._consumed += pos
        self._buf = buf[pos:] if pos < end else b""
        return out
