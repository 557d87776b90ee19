"""Events: decoded lazily, exactly.

An :class:`Event` keeps the raw bytes of its frame body. A header is decoded
(URL-unescaped, for plain and XML events) only when it is read, and each value
is decoded on its own *after* the body was split into lines, so an encoded
newline (``%0A``) can never forge a header and the CR LF inside SDP values
survives.

Reading one header of a plain event costs one search of the raw bytes for
``\\nName: `` and the decoding of that one value; nothing else is decoded.
Whatever is read this way is exactly what the full decoding (``headers``,
iteration) gives: the first line named ``Name`` wins in both.

>>> ev = Event.from_plain(b"Event-Name: API\\nX-Sdp: v=0%0D%0Ao=-\\n\\n")
>>> ev.name, ev["X-Sdp"]
('API', 'v=0\\r\\no=-')
"""
from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from ..errors import ProtocolError
from .event_formats import (SEARCH_KEYS, content_length, json_pairs, plain_header_list,
                            plain_headers, search_key, xml_headers, xml_pairs)
from .frames import EVENT_JSON, EVENT_PLAIN, EVENT_XML, Frame
from .urlcodec import DECODED_MEMO, decode_escaped

_PLAIN, _JSON, _XML, _DECODED, _BIG = 0, 1, 2, 3, 4

#: ``switch_event_serialize`` writes the body's Content-Length as the last header
#: line; a plain event's bytes are kept behind a ``\n``, so every line starts with one.
_CL_LINE = b"\nContent-Length: "
_CL_LEN = len(_CL_LINE)

# The lookup's search keys, typed here: mypyc compiles this module alone, seeing the
# imports of the others as Any (a typed dict and tuple make the lookup's fast path).
_KEYS: dict[str, tuple[bytes, int]] = SEARCH_KEYS

#: Plain events up to this size are searched whole by a lookup; a larger one
#: (a big job result) is searched in its header block only.
SCAN_WHOLE_MAX = 32768

# Escaped raw value -> decoded text (urlcodec.DECODED_MEMO, typed here like _KEYS).
_VALUES: dict[bytes, str] = DECODED_MEMO


class Event:
    """One FreeSWITCH event: a read-only mapping of header name to decoded value
    (a registered :class:`~collections.abc.Mapping`, with its whole API).

    Attributes filled by the connection: ``received`` (local ``time.monotonic()``
    when the frame was read) and ``host``.

    >>> ev = Event.from_headers({"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "1795691766132318"})
    >>> ev.name, ev.timestamp_us
    ('HEARTBEAT', 1795691766132318)
    """

    # _raw: a plain event's bytes behind a b"\n" (see from_wire), else the body as received.
    # _clean >= 0: the bytes before it hold no Content-Length line (a match there
    # is a header); < 0: the header block is known to end at -2 - _clean.
    # _head (big plain events only): an Event of the header block alone.
    __slots__ = ("_raw", "_kind", "_clean", "_decoded", "_all", "_body", "_head", "received",
                 "host")
    _head: Event

    def __init__(self, raw: bytes, received: float = 0.0, host: str | None = None,
                 kind: int = _PLAIN) -> None:
        self._raw = raw
        self._kind = kind
        self._clean = 0
        self._decoded: dict[str, str | None] = {}
        self._all: dict[str, str] | None = None
        self._body: bytes | None = None
        self.received = received
        self.host = host

    # -- constructors -------------------------------------------------------
    @classmethod
    def from_wire(cls, data: bytes) -> Event:
        """An event from ``b"\\n"`` + a ``text/event-plain`` frame body, as
        :meth:`FrameParser.feed_mixed <switchlab.wire.FrameParser.feed_mixed>`
        gives it (the byte before a frame body is the blank line's ``\\n``)."""
        if len(data) <= SCAN_WHOLE_MAX:
            return cls(data)
        ev = cls(data, kind=_BIG)
        end = ev._header_end()
        ev._head = cls(data[:end] + b"\n")
        return ev

    @classmethod
    def from_plain(cls, body: bytes) -> Event:
        """An event from a ``text/event-plain`` frame body."""
        return cls.from_wire(b"\n" + body)

    @classmethod
    def from_json(cls, body: bytes) -> Event:
        """An event from a ``text/event-json`` frame body."""
        return cls(body, kind=_JSON)

    @classmethod
    def from_xml(cls, body: bytes) -> Event:
        """An event from a ``text/event-xml`` frame body."""
        return cls(body, kind=_XML)

    @classmethod
    def from_frame(cls, frame: Frame) -> Event:
        """An event from any event frame (plain, json or xml)."""
        ct = frame.content_type
        if ct == EVENT_PLAIN:
            return cls.from_plain(frame.body)
        if ct == EVENT_JSON:
            return cls(frame.body, kind=_JSON)
        if ct == EVENT_XML:
            return cls(frame.body, kind=_XML)
        raise ProtocolError(f"{ct!r} is not an event content type")

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], body: bytes | None = None) -> Event:
        """An event built from already decoded headers (tests, the emulator)."""
        ev = cls(b"", kind=_DECODED)
        ev._all = dict(headers)
        ev._body = body or b""
        return ev

    # -- plain layout -------------------------------------------------------
    def _header_end(self) -> int:
        """Offset in ``_raw`` where the header block ends (the ``\\n`` ending its
        last line, or the end of the bytes).

        FreeSWITCH writes ``Content-Length`` as the last header line when the
        event has a body: if that line is followed by a blank line, the block
        ends there and the body follows. Otherwise the block is everything but
        the trailing blank line.
        """
        clean = self._clean
        if clean < 0:
            return -2 - clean
        raw = self._raw
        i = raw.find(_CL_LINE, clean)
        if i >= 0:
            j = raw.find(b"\n", i + 1)
            if j >= 0 and raw[j + 1 : j + 2] == b"\n":
                self._clean = -2 - j
                return j
        end = len(raw)
        while end > 1 and raw[end - 1] == 10:
            end -= 1
        self._clean = -2 - end
        return end

    def _plain_body(self) -> bytes:
        end = self._header_end()
        raw = self._raw
        try:
            n = content_length(self.get("Content-Length"), b"")
        except ProtocolError as exc:
            exc.data = raw[1:]
            raise
        if n == 0:
            return b""
        body = raw[end + 2 : end + 2 + n]
        if len(body) != n or raw[end : end + 2] != b"\n\n":
            raise ProtocolError(
                f"event declares a {n}-byte body but carries {len(body)} bytes after its headers",
                raw[1:])
        return body

    # -- decoding -----------------------------------------------------------
    def _load_all(self) -> dict[str, str]:
        allh = self._all
        if allh is not None:
            return allh
        kind = self._kind
        if kind == _PLAIN or kind == _BIG:
            raw = self._raw
            allh = plain_headers(raw[1 : self._header_end()], raw[1:])
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

    def get(self, name: Any, default: Any = None) -> Any:
        """The decoded value of header ``name`` (the first line of that name), or ``default``."""
        # (name: Any, not str: a compiled method refuses other types, a mapping's get gives default)
        if self._kind:  # JSON, XML, decoded headers, a big plain event
            return self._get_other(name, default)
        # A plain event is searched, even once decoded whole (same values).
        cache = self._decoded
        if name in cache:  # (operators, not method calls: this is the hottest line)
            got = cache[name]
            return default if got is None else got
        try:
            key, start = _KEYS[name]
        except KeyError:
            return self._get_odd(name, default)
        raw = self._raw
        i = raw.find(key)
        clean = self._clean
        if i > clean:
            # Past the bytes known to be headers: a header if no body starts before
            # it. One pass over the event, shared by every lookup (none is needed
            # when the bytes in between are too few to hold a Content-Length line).
            if clean >= 0 and (i - clean < _CL_LEN or raw.find(_CL_LINE, clean, i) < 0):
                self._clean = i
            elif i >= self._header_end():
                i = -1  # the first match is in the body
        if i < 0:
            cache[name] = None
            return default
        start += i
        stop = raw.find(b"\n", start)
        value = raw[start:stop] if stop >= 0 else raw[start:]
        if 37 in value:  # "%"
            text = _VALUES.get(value) or decode_escaped(value)
        else:
            try:  # (no arguments: the cheapest call; invalid UTF-8 is rare)
                text = value.decode()
            except UnicodeDecodeError:
                text = value.decode("utf-8", "replace")
        cache[name] = text
        return text

    def _get_odd(self, name: Any, default: Any) -> Any:
        """A lookup of a name not searched before, or that no header line can have."""
        if search_key(name) is not None:
            return self.get(name, default)
        # U+FFFD may stand for any invalid byte of a name: only the full decoding knows
        if isinstance(name, str) and "\ufffd" in name:
            return self._load_all().get(name, default)
        return default

    def _get_other(self, name: Any, default: Any) -> Any:
        if self._kind == _BIG:
            if isinstance(name, str) and "\ufffd" in name:  # see _get_odd
                return self._load_all().get(name, default)
            return self._head.get(name, default)
        allh = self._all
        return (allh if allh is not None else self._load_all()).get(name, default)

    # -- Mapping API --------------------------------------------------------
    def __getitem__(self, name: Any) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._load_all())

    def __len__(self) -> int:
        return len(self._load_all())

    # (written out rather than inherited: a compiled class with a Python base
    # class gets a __weakref__ slot that mypyc's generated clear frees wrongly)
    def keys(self) -> KeysView[str]:
        return KeysView(self)

    def items(self) -> ItemsView[str, str]:
        return ItemsView(self)

    def values(self) -> ValuesView[str]:
        return ValuesView(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self._load_all() == dict(other.items())  # (the full decoding: no lookup per name)

    __hash__ = None  # type: ignore[assignment]  # a mapping: not hashable

    @property
    def headers(self) -> dict[str, str]:
        """Every header, decoded (a copy)."""
        return dict(self._load_all())

    def header_list(self) -> list[tuple[str, str]]:
        """Every header in wire order, duplicates included (FreeSWITCH repeats
        some, e.g. ``Channel-Write-Codec-Name`` in CODEC events). Lookups by
        name return the first occurrence, as FreeSWITCH's own ESL does."""
        kind = self._kind
        if kind == _PLAIN or kind == _BIG:
            raw = self._raw
            return plain_header_list(raw[1 : self._header_end()], raw[1:])
        if kind == _XML:
            return xml_pairs(self._raw)[1]
        if kind == _JSON:
            return self._json_pairs()
        return list(self._load_all().items())

    def lacks(self, fragment: bytes) -> bool:
        """True when this is a plain event none of whose bytes hold ``fragment``:
        then no header line holds it either, so one search rules out every name
        containing it. False means "maybe" (always, for JSON, XML and decoded events).

        >>> ev = Event.from_plain(b"Event-Name: API\\n\\n")
        >>> ev.lacks(b"_status: "), ev.lacks(b"t-Name: ")
        (True, False)
        """
        kind = self._kind
        return (kind == _PLAIN or kind == _BIG) and fragment not in self._raw

    @property
    def body(self) -> bytes:
        """The event's own body (e.g. a BACKGROUND_JOB result), raw bytes."""
        body = self._body
        if body is None:
            if self._kind == _PLAIN or self._kind == _BIG:
                body = self._body = self._plain_body()
            else:
                self._load_all()
                body = self._body or b""
        return body

    @property
    def raw(self) -> bytes:
        """The frame body exactly as received."""
        kind = self._kind
        return self._raw[1:] if kind == _PLAIN or kind == _BIG else self._raw

    # -- well-known headers -------------------------------------------------
    @property
    def name(self) -> str:
        """``Event-Name``; for ``CUSTOM`` events, ``Event-Subclass`` is in :attr:`subclass`."""
        return self.get("Event-Name", "")

    @property
    def subclass(self) -> str | None:
        return self.get("Event-Subclass")

    @property
    def uuid(self) -> str | None:
        """``Unique-ID`` (the channel), or None."""
        return self.get("Unique-ID")

    @property
    def job_uuid(self) -> str | None:
        return self.get("Job-UUID")

    @property
    def timestamp_us(self) -> int | None:
        """``Event-Date-Timestamp``: FreeSWITCH's clock in µs since the epoch."""
        return self._number("Event-Date-Timestamp")

    @property
    def sequence(self) -> int | None:
        return self._number("Event-Sequence")

    def _number(self, name: str) -> int | None:
        """Header ``name`` as a decimal number (None when absent or empty)."""
        value = self.get(name)
        if not value:
            return None
        if not (value.isascii() and value.isdigit()):
            raise ProtocolError(f"event header {name} {value[:40]!r} is not a decimal number",
                                self.raw)
        return int(value)

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.uuid or self.job_uuid or ''}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled and copied as what it was made from (a compiled class has no default)."""
        return (_rebuilt, (self._raw, self._kind, self._all if self._kind == _DECODED else None,
                           self._body, self.received, self.host))


def _rebuilt(raw: bytes, kind: int, decoded: dict[str, str] | None, body: bytes | None,
             received: float, host: str | None) -> Event:
    """The event :meth:`Event.__reduce__` describes (its lookups are done again)."""
    if decoded is not None:
        ev = Event.from_headers(decoded, body)
    else:
        ev = Event.from_wire(raw) if kind == _PLAIN or kind == _BIG else Event(raw, kind=kind)
    ev.received, ev.host = received, host
    return ev


Mapping.register(Event)
