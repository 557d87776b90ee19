"""Events: decoded lazily, exactly.

An :class:`Event` keeps the raw bytes of its frame body. A header is decoded
(URL-unescaped, for plain and XML events) only when it is read, and each value
is decoded on its own *after* the body was split into lines, so an encoded
newline (``%0A``) can never forge a header and the CR LF inside SDP values
survives.

Reading one header of a plain event costs a search of the raw bytes for
``\\nName: `` and the decoding of that one value; nothing else is decoded.
Whatever is read this way is exactly what the full decoding (``headers``,
iteration) gives: the first line named ``Name`` wins in both.

>>> ev = Event.from_plain(b"Event-Name: API\\nX-Sdp: v=0%0D%0Ao=-\\n\\n")
>>> ev.name, ev["X-Sdp"]
('API', 'v=0\\r\\no=-')
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ProtocolError
from .event_formats import (content_length, json_pairs, plain_header_list, plain_headers,
                            xml_headers, xml_pairs)
from .frames import EVENT_JSON, EVENT_PLAIN, EVENT_XML, Frame
from .urlcodec import _unquote_bytes

_PLAIN, _JSON, _XML, _DECODED = 0, 1, 2, 3

#: ``switch_event_serialize`` writes the body's Content-Length as the last header line.
_CL_FIRST = b"Content-Length: "
_CL_LINE = b"\nContent-Length: "

#: Events up to this size are searched whole by a lookup (cheaper than first
#: finding the end of their headers); larger ones (big job bodies) are not.
_UNBOUNDED_MAX = 32768

_MISS = object()
# name -> (b"Name: ", b"\nName: "), the byte patterns a lookup searches for.
_KEYS: dict[str, tuple[bytes, bytes] | None] = {}
_KEYS_MAX = 4096

# Escaped raw value -> decoded text. FreeSWITCH repeats most values over the
# events of a call (Channel-Name, the SDP variables, caller ids...), and
# un-escaping is the costliest part of a lookup: the same bytes are decoded once.
_VALUES: dict[bytes, str] = {}
_VALUES_MAX = 2048
_VALUE_MAX_LEN = 4096


def _decode_escaped(value: bytes) -> str:
    """``value`` (holding a ``%``) URL-unescaped and read as UTF-8, memoized."""
    text = _VALUES.get(value)
    if text is None:
        text = _unquote_bytes(value).decode("utf-8", "replace")
        if len(value) <= _VALUE_MAX_LEN:
            if len(_VALUES) >= _VALUES_MAX:
                _VALUES.clear()
            _VALUES[value] = text
    return text


def _search_keys(name: str) -> tuple[bytes, bytes] | None:
    keys = _KEYS.get(name, _MISS)
    if keys is not _MISS:
        return keys  # type: ignore[return-value]
    keys = None
    # A name with a line break or ": " can never be a header name: lines are
    # split at the first ": ".
    if isinstance(name, str) and "\n" not in name and ": " not in name and "\ufffd" not in name:
        try:
            first = name.encode("utf-8") + b": "
        except UnicodeEncodeError:
            first = None
        if first is not None:
            keys = (first, b"\n" + first)
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    _KEYS[name] = keys
    return keys


class Event(Mapping[str, str]):
    """One FreeSWITCH event: a read-only mapping of header name to decoded value.

    Attributes filled by the connection: ``received`` (local ``time.monotonic()``
    when the frame was read) and ``host``.

    >>> ev = Event.from_headers({"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "1795691766132318"})
    >>> ev.name, ev.timestamp_us
    ('HEARTBEAT', 1795691766132318)
    """

    __slots__ = ("_raw", "_kind", "_hdr_end", "_clean", "_decoded", "_all", "_body", "received",
                 "host")

    def __init__(self, raw: bytes, kind: int) -> None:
        self._raw = raw
        self._kind = kind
        self._hdr_end = -1
        # Lookups search a small event whole; the bytes before ``_clean`` are
        # known to be headers (-1: search only the header block).
        self._clean = 0 if len(raw) <= _UNBOUNDED_MAX else -1
        self._decoded: dict[str, str | None] = {}
        self._all: dict[str, str] | None = None
        self._body: bytes | None = None
        self.received: float = 0.0
        self.host: str | None = None

    # -- constructors -------------------------------------------------------
    @classmethod
    def from_plain(cls, body: bytes) -> Event:
        """An event from a ``text/event-plain`` frame body."""
        return cls(body, _PLAIN)

    @classmethod
    def from_json(cls, body: bytes) -> Event:
        """An event from a ``text/event-json`` frame body."""
        return cls(body, _JSON)

    @classmethod
    def from_xml(cls, body: bytes) -> Event:
        """An event from a ``text/event-xml`` frame body."""
        return cls(body, _XML)

    @classmethod
    def from_frame(cls, frame: Frame) -> Event:
        """An event from any event frame (plain, json or xml)."""
        ct = frame.content_type
        if ct == EVENT_PLAIN:
            return cls(frame.body, _PLAIN)
        if ct == EVENT_JSON:
            return cls(frame.body, _JSON)
        if ct == EVENT_XML:
            return cls(frame.body, _XML)
        raise ProtocolError(f"{ct!r} is not an event content type")

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], body: bytes | None = None) -> Event:
        """An event built from already decoded headers (tests, the emulator)."""
        ev = cls(b"", _DECODED)
        ev._all = dict(headers)
        ev._body = body or b""
        return ev

    # -- plain layout -------------------------------------------------------
    def _plain_header_end(self) -> int:
        """Offset where the header block ends (after its last line, before ``\\n``).

        FreeSWITCH writes ``Content-Length`` as the last header line when the
        event has a body: if that line is followed by a blank line, the block
        ends there and the body follows. Otherwise the block is everything but
        the trailing blank line. (Searching for the long ``\\nContent-Length: ``
        pattern is several times cheaper than for ``\\n\\n``.)
        """
        end = self._hdr_end
        if end >= 0:
            return end
        raw = self._raw
        if raw.startswith(_CL_FIRST):
            i = 0
        else:
            i = raw.find(_CL_LINE)
            if i >= 0:
                i += 1
        if i >= 0:
            j = raw.find(b"\n", i)
            if j >= 0 and raw[j + 1 : j + 2] == b"\n":
                self._hdr_end = j
                return j
        end = len(raw)
        while end > 0 and raw[end - 1] == 10:
            end -= 1
        self._hdr_end = end
        return end

    def _plain_body(self) -> bytes:
        end = self._plain_header_end()
        raw = self._raw
        n = content_length(self._lookup("Content-Length"), raw)
        if n == 0:
            return b""
        body = raw[end + 2 : end + 2 + n]
        if len(body) != n or raw[end : end + 2] != b"\n\n":
            raise ProtocolError(
                f"event declares a {n}-byte body but carries {len(body)} bytes after its headers",
                raw)
        return body

    # -- decoding -----------------------------------------------------------
    def _load_all(self) -> dict[str, str]:
        allh = self._all
        if allh is not None:
            return allh
        kind = self._kind
        if kind == _PLAIN:
            allh = plain_headers(self._raw[: self._plain_header_end()], self._raw)
            self._all = allh
            if self._body is None:
                self._body = self._plain_body()
            return allh
        if kind == _JSON:
            allh = {}
            for name, value in self._json_pairs():
                if name not in allh:
                    allh[name] = value
        else:
            allh, self._body = xml_headers(self._raw)
        self._all = allh
        return allh

    def _json_pairs(self) -> list[tuple[str, str]]:
        pairs, body = json_pairs(self._raw)
        if self._body is None:
            self._body = body
        return pairs

    def get(self, name: str, default: Any = None) -> Any:
        """The decoded value of header ``name`` (the first line of that name), or ``default``."""
        if self._kind:  # JSON, XML or already decoded headers: decoded whole
            allh = self._all
            return (allh if allh is not None else self._load_all()).get(name, default)
        # A plain event is searched, even once decoded whole (same values).
        cache = self._decoded
        got = cache.get(name, _MISS)
        if got is not _MISS:
            return default if got is None else got
        keys = _KEYS.get(name) or _search_keys(name)
        if keys is None:
            # U+FFFD may stand for any invalid byte of a name: only the full decoding knows
            return self._load_all().get(name, default) if "\ufffd" in name else default
        first, nl_key = keys
        raw = self._raw
        if raw.startswith(first):  # the first line (Event-Name, in FreeSWITCH's events)
            start = len(first)
            stop = raw.find(b"\n", start)
            if stop < 0:
                stop = len(raw)
        else:
            end = self._hdr_end
            if end < 0:
                clean = self._clean
                if clean >= 0:
                    # One pass over the event, shared by every lookup: the bytes
                    # before ``clean`` hold no Content-Length line, so a match
                    # there is a header; only the bytes after it are checked.
                    i = raw.find(nl_key)
                    if i < 0:
                        cache[name] = None
                        return default
                    if i <= clean or (raw.find(_CL_LINE, clean, i) < 0
                                      and (clean or not raw.startswith(_CL_FIRST))):
                        if i > clean:
                            self._clean = i
                        start = i + len(nl_key)
                        stop = raw.find(b"\n", start)
                        if stop < 0:
                            stop = len(raw)
                        value = raw[start:stop]
                        text = (_decode_escaped(value) if b"%" in value
                                else value.decode("utf-8", "replace"))
                        cache[name] = text
                        return text
                end = self._plain_header_end()
            i = raw.find(nl_key, 0, end)
            if i < 0:
                cache[name] = None
                return default
            start = i + len(nl_key)
            stop = raw.find(b"\n", start, end)
            if stop < 0:
                stop = end
        value = raw[start:stop]
        text = _decode_escaped(value) if b"%" in value else value.decode("utf-8", "replace")
        cache[name] = text
        return text

    #: the value of header ``name``, or None
    _lookup = get

    # -- Mapping API --------------------------------------------------------
    def __getitem__(self, name: str) -> str:
        value = self._lookup(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._load_all())

    def __len__(self) -> int:
        return len(self._load_all())

    @property
    def headers(self) -> dict[str, str]:
        """Every header, decoded (a copy)."""
        return dict(self._load_all())

    def header_list(self) -> list[tuple[str, str]]:
        """Every header in wire order, duplicates included (FreeSWITCH repeats
        some, e.g. ``Channel-Write-Codec-Name`` in CODEC events). Lookups by
        name return the first occurrence, as FreeSWITCH's own ESL does."""
        kind = self._kind
        if kind == _PLAIN:
            return plain_header_list(self._raw[: self._plain_header_end()], self._raw)
        if kind == _XML:
            return xml_pairs(self._raw)[1]
        if kind == _JSON:
            return self._json_pairs()
        return list(self._load_all().items())

    @property
    def body(self) -> bytes:
        """The event's own body (e.g. a BACKGROUND_JOB result), raw bytes."""
        body = self._body
        if body is None:
            if self._kind == _PLAIN:
                body = self._body = self._plain_body()
            else:
                self._load_all()
                body = self._body or b""
        return body

    @property
    def raw(self) -> bytes:
        """The frame body exactly as received."""
        return self._raw

    # -- well-known headers -------------------------------------------------
    @property
    def name(self) -> str:
        """``Event-Name``; for ``CUSTOM`` events, ``Event-Subclass`` is in :attr:`subclass`."""
        return self._lookup("Event-Name") or ""

    @property
    def subclass(self) -> str | None:
        return self._lookup("Event-Subclass")

    @property
    def uuid(self) -> str | None:
        """``Unique-ID`` (the channel), or None."""
        return self._lookup("Unique-ID")

    @property
    def job_uuid(self) -> str | None:
        return self._lookup("Job-UUID")

    @property
    def timestamp_us(self) -> int | None:
        """``Event-Date-Timestamp``: FreeSWITCH's clock in µs since the epoch."""
        return self._number("Event-Date-Timestamp")

    @property
    def sequence(self) -> int | None:
        return self._number("Event-Sequence")

    def _number(self, name: str) -> int | None:
        """Header ``name`` as a decimal number (None when absent or empty)."""
        value = self._lookup(name)
        if not value:
            return None
        if not (value.isascii() and value.isdigit()):
            raise ProtocolError(f"event header {name} {value[:40]!r} is not a decimal number",
                                self._raw)
        return int(value)

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.uuid or self.job_uuid or ''}>"
