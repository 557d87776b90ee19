"""Incremental, sans-I/O parsers for the event-socket byte stream.

:class:`FrameParser` turns what FreeSWITCH sends into :class:`Frame` objects;
:class:`CommandParser` turns what a client sends into :class:`Command` objects
(used by the emulator). Both accept arbitrary chunks: a frame may span many
chunks and a chunk may hold many frames. Framing uses ``Content-Length`` only;
no frame is ever dropped.

When the bytes stop making sense, ``feed`` raises
:class:`~switchlab.errors.MalformedFrameError` (a ``ProtocolError``): its
``frames`` are the complete frames that preceded the bad bytes in that call
and its ``data`` the bytes from the bad frame on, so nothing is lost.

>>> p = FrameParser()
>>> p.feed(b"Content-Type: auth/request\\n\\nContent-Type: api/resp")
[<Frame auth/request ''>]
>>> p.feed(b"onse\\nContent-Length: 3\\n\\n+OK")
[<Frame api/response '+OK'>]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import MalformedFrameError, ProtocolError
from .events import SCAN_WHOLE_MAX
from .frames import EVENT_PLAIN, Frame

#: Refuse a header block larger than this without its blank line (a peer that
#: never ends its headers would otherwise make us buffer without bound).
MAX_HEADER_BLOCK = 1 << 20
#: Refuse a single body larger than this (FreeSWITCH's events are a few KB).
MAX_BODY = 1 << 28
#: What the parsers take: any bytes-like chunk (copied to ``bytes`` once).
Chunk = bytes | bytearray | memoryview

# Outer header blocks repeat (``Content-Length: N\nContent-Type: text/event-plain``
# differs only by N): parsed blocks are remembered, bounded.
_BLOCK_CACHE_MAX = 2048
_BLOCK_CACHE_KEY_MAX = 256


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


def parse_content_length(raw: str | None, at: int = 0) -> int:
    """The body length a header block announces (0 without ``Content-Length``).

    Only plain decimal digits are accepted: a sign, spaces or ``1_000`` would be
    read differently by different peers, so they are a framing error.
    """
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise ProtocolError(
            f"Content-Length {raw[:40]!r} at byte {at} is not a non-negative decimal number")
    n = int(raw)
    if n > MAX_BODY:
        raise ProtocolError(f"Content-Length {n} at byte {at} is larger than {MAX_BODY} bytes")
    return n


class _Buffered:
    """Shared buffering for both directions.

    The unparsed tail is kept as a list of chunks: while a body of known size
    (or the blank line ending a header block) is still missing, a new chunk is
    only appended, and the chunks are joined once the frame can be complete.
    A multi-megabyte body arriving in small chunks thus costs one join, not one
    copy of the whole buffer per chunk.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._have = 0  # bytes in _parts
        self._need = 0  # total size of the frame at the start of _parts, 0 if unknown
        self._consumed = 0  # total bytes consumed, for error offsets
        self._broken = False  # bad bytes are buffered: every feed raises again

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return self._have

    def _may_end_headers(self, data: bytes, before: bytes) -> bool:
        """Whether ``data`` (after ``before``) may complete a header block."""
        return b"\n" in data

    def _take(self, chunk: Chunk) -> bytes | None:
        """Append ``chunk``; return the buffer to parse, or None to wait for more."""
        data = chunk if type(chunk) is bytes else bytes(chunk)
        parts = self._parts
        if not parts:
            return data
        parts.append(data)
        self._have += len(data)
        if self._broken:
            pass
        elif self._need:
            if self._have < self._need:
                return None
        elif self._have <= MAX_HEADER_BLOCK and not self._may_end_headers(data, parts[-2]):
            return None
        buf = b"".join(parts)
        self._parts = []
        self._have = 0
        return buf

    def _keep(self, buf: bytes, pos: int, need: int) -> None:
        """Remember the unparsed tail ``buf[pos:]``; ``need`` is its known total size."""
        self._consumed += pos
        if pos < len(buf):
            tail = buf[pos:] if pos else buf
            self._parts = [tail]
            self._have = len(tail)
        self._need = need

    def _fail(self, buf: bytes, pos: int, message: str, done: list[Any]) -> MalformedFrameError:
        """The error for bad bytes at ``buf[pos]``: keeps them buffered, carries ``done``."""
        self._keep(buf, pos, 0)
        self._broken = True
        return MalformedFrameError(message, buf[pos:], done)


class FrameParser(_Buffered):
    """Parse FreeSWITCH's side of the stream into :class:`Frame` objects."""

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[bytes, tuple[dict[str, str], int, bool]] = {}

    def _parse_block(self, block: bytes, at: int) -> tuple[dict[str, str], int, bool]:
        headers = parse_header_block(block, at)
        n = parse_content_length(headers.get("Content-Length"), at)
        inline = n < SCAN_WHOLE_MAX and headers.get("Content-Type") == EVENT_PLAIN
        if len(block) <= _BLOCK_CACHE_KEY_MAX:
            if len(self._blocks) >= _BLOCK_CACHE_MAX:
                self._blocks.clear()
            self._blocks[block] = (headers, n, inline)
        return headers, n, inline

    def feed(self, data: Chunk) -> list[Frame]:
        """Add ``data`` and return every frame it completes (possibly none).

        Raises :class:`~switchlab.errors.MalformedFrameError` for bytes that are
        not a frame (its ``frames`` hold what was complete before them).
        """
        return self._feed(data, False)  # type: ignore[return-value]

    def feed_mixed(self, data: Chunk) -> list[Frame | bytes]:
        """Like :meth:`feed`, but a ``text/event-plain`` frame whose body is
        shorter than :data:`~switchlab.wire.events.SCAN_WHOLE_MAX` comes as the
        bytes ``b"\\n" + body`` (what :class:`~switchlab.wire.Event` takes):
        no :class:`Frame` and no copy of its outer headers per event.

        >>> FrameParser().feed_mixed(b"Content-Length: 17\\nContent-Type: text/event-plain"
        ...                          b"\\n\\nEvent-Name: API\\n\\n")
        [b'\\nEvent-Name: API\\n\\n']
        """
        return self._feed(data, True)

    def _feed(self, chunk: Chunk, mixed: bool) -> list[Frame | bytes]:
        data = chunk if type(chunk) is bytes else bytes(chunk)
        frames: list[Frame | bytes] = []
        pos = 0
        if self._parts:
            pos = self._complete(data, frames, mixed)
            if pos < 0:
                return frames
        self._scan(data, pos, frames, mixed)
        return frames

    def _complete(self, data: bytes, frames: list[Frame | bytes], mixed: bool) -> int:
        """Finish the frame begun in earlier chunks with the first bytes of
        ``data`` (only those are copied); returns where the rest of ``data``
        starts, or -1 when all of it was buffered."""
        parts = self._parts
        start, pending = self._consumed, self._have
        if self._broken:  # bad bytes are buffered: every feed reports them again
            cut = len(data)
        elif self._need:
            cut = 0
        elif parts[-1][-1:] == b"\n" and data[:1] == b"\n":
            cut = 1  # the blank line ending the header block straddles the chunks
        else:
            cut = data.find(b"\n\n") + 2
            if cut < 2:
                if pending + len(data) <= MAX_HEADER_BLOCK:
                    parts.append(data)
                    self._have += len(data)
                    return -1
                cut = len(data)  # too long: the scan reports it
        if cut:  # the header block's end is known: parse it (and the frame, if bodiless)
            head = b"".join([*parts, data[:cut]])
            self._parts, self._have = [], 0
            self._scan(head, 0, frames, mixed)
            parts = self._parts
        if parts:  # the size of the frame is known: wait for it whole
            missing = self._need - self._have
            if len(data) - cut < missing:
                parts.append(data[cut:] if cut else data)
                self._have += len(data) - cut
                self._consumed = start
                return -1
            head = b"".join([*parts, data[cut : cut + missing]])
            self._parts, self._have = [], 0
            self._scan(head, 0, frames, mixed)
            cut += missing
        self._consumed = start + pending
        return cut

    def _scan(self, buf: bytes, pos: int, frames: list[Frame | bytes], mixed: bool) -> None:
        """Parse the frames of ``buf`` from ``pos``; keep the unfinished tail."""
        end = len(buf)
        append = frames.append
        find = buf.find
        blocks = self._blocks
        while pos < end:
            i = find(b"\n\n", pos)
            if i < 0:
                if buf[pos] == 10:  # a stray newline between frames
                    pos += 1
                    continue
                if end - pos > MAX_HEADER_BLOCK:
                    raise self._fail(
                        buf, pos,
                        f"no end of headers (blank line) within {MAX_HEADER_BLOCK} bytes at byte "
                        f"{self._consumed + pos}: the peer is not speaking the event socket "
                        "protocol", frames)
                self._keep(buf, pos, 0)
                return
            cached = blocks.get(buf[pos:i])
            if cached is None:
                if buf[pos] == 10:  # a stray newline between frames
                    pos += 1
                    continue
                try:
                    cached = self._parse_block(buf[pos:i], self._consumed + pos)
                except ProtocolError as exc:
                    raise self._fail(buf, pos, str(exc), frames) from None
            headers, n, inline = cached
            body_end = i + 2 + n
            if body_end > end:
                self._keep(buf, pos, body_end - pos)
                return
            if inline and mixed:
                append(buf[i + 1 : body_end])  # b"\n" + body
            else:
                append(Frame(headers.copy(), buf[i + 2 : body_end] if n else b""))
            pos = body_end
        self._keep(buf, pos, 0)


@dataclass
class Command:
    """One client command as the server reads it: first line, headers, body.

    ``sendmsg <uuid>\\ncall-command: execute\\n...`` gives ``line='sendmsg <uuid>'``
    and the headers with their names as sent in ``headers``.
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


def _command_block_end(buf: bytes, pos: int) -> tuple[int, int]:
    """(end of the header block, start of the body) as ``mod_event_socket`` reads
    it: the block ends at the second ``\\n`` with only ``\\r`` between the two."""
    find = buf.find
    start = pos
    while True:
        i = find(b"\n", start)
        if i < 0:
            return -1, -1
        j = i + 1
        while j < len(buf) and buf[j] == 13:
            j += 1
        if j < len(buf) and buf[j] == 10:
            return i, j + 1
        if j >= len(buf):
            return -1, -1
        start = j


class CommandParser(_Buffered):
    """Parse a client's commands the way ``mod_event_socket`` reads them.

    The first line (up to CR or LF) is the command; each further line is a
    header ``name:value`` (spaces after the colon skipped, the name kept as
    sent); ``Content-Length`` (any case) announces a body after the blank line.
    """

    def feed(self, data: Chunk) -> list[Command]:
        """Add ``data`` and return the commands it completes."""
        buf = self._take(data)
        out: list[Command] = []
        if buf is None:
            return out
        pos = 0
        end = len(buf)
        while pos < end:
            if buf[pos] in (10, 13):
                pos += 1
                continue
            i, body_start = _command_block_end(buf, pos)
            if i < 0:
                if end - pos > MAX_HEADER_BLOCK:
                    raise self._fail(buf, pos, "command without end of headers (blank line) "
                                     f"within {MAX_HEADER_BLOCK} bytes", out)
                self._keep(buf, pos, 0)
                return out
            text = buf[pos:i].decode("utf-8", "replace").replace("\r", "\n")
            lines = [line for line in text.split("\n") if line]
            headers: dict[str, str] = {}
            length: str | None = None
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    continue  # FreeSWITCH ignores a header line without a colon
                value = value.lstrip(" ")
                headers.setdefault(name, value)
                if length is None and name.lower() == "content-length":
                    length = value.strip()
            try:
                n = parse_content_length(length, self._consumed + pos)
            except ProtocolError as exc:
                raise self._fail(buf, pos, str(exc), out) from None
            body_end = body_start + n
            if body_end > end:
                self._keep(buf, pos, body_end - pos)
                return out
            out.append(Command(lines[0], headers, buf[body_start:body_end]))
            pos = body_end
        self._keep(buf, pos, 0)
        return out
