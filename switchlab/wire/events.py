"""Events: decoded lazily, exactly.

An :class:`Event` keeps the raw bytes of its frame body. A header is decoded
(URL-unescaped, for plain and XML events) only when it is read, and each value
is decoded on its own *after* the body was split into lines, so an encoded
newline (``%0A``) can never forge a header and the CR LF inside SDP values
survives.

>>> ev = Event.from_plain(b"Event-Name: API\\nX-Sdp: v=0%0D%0Ao=-\\n\\n")
>>> ev.name, ev["X-Sdp"]
('API', 'v=0\\r\\no=-')
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from xml.etree import ElementTree

from ..errors import ProtocolError
from .frames import EVENT_JSON, EVENT_PLAIN, EVENT_XML, Frame
from .urlcodec import fs_url_decode

_PLAIN, _JSON, _XML, _DECODED = 0, 1, 2, 3


class Event(Mapping[str, str]):
    """One FreeSWITCH event: a read-only mapping of header name to decoded value.

    Attributes filled by the connection: ``received`` (local ``time.monotonic()``
    when the frame was read) and ``host``.

    >>> ev = Event.from_headers({"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "1795691766132318"})
    >>> ev.name, ev.timestamp_us
    ('HEARTBEAT', 1795691766132318)
    """

    __slots__ = ("_raw", "_kind", "_hdr_end", "_decoded", "_all", "_body", "received", "host")

    def __init__(self, raw: bytes, kind: int) -> None:
        self._raw = raw
        self._kind = kind
        self._hdr_end = -1
        self._decoded: dict[str, str] = {}
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

    # -- decoding -----------------------------------------------------------
    def _plain_header_end(self) -> int:
        end = self._hdr_end
        if end < 0:
            raw = self._raw
            end = raw.find(b"\n\n")
            if end < 0:
                end = len(raw)
            self._hdr_end = end
        return end

    def _load_all(self) -> dict[str, str]:
        allh = self._all
        if allh is not None:
            return allh
        kind = self._kind
        if kind == _PLAIN:
            end = self._plain_header_end()
            text = self._raw[:end].decode("utf-8", "replace")
            allh = {}
            for line in text.split("\n"):
                name, sep, value = line.partition(": ")
                if not sep:
                    name, sep, value = line.partition(":")
                    if not sep:
                        raise ProtocolError(f"malformed event header line {line[:80]!r}", self._raw)
                if name not in allh:
                    allh[name] = fs_url_decode(value)
            if "Content-Length" in allh:
                n = int(allh["Content-Length"])
                self._body = self._raw[end + 2 : end + 2 + n]
            else:
                self._body = b""
        elif kind == _JSON:
            try:
                obj = json.loads(self._raw)
            except ValueError as exc:
                raise ProtocolError(f"text/event-json body is not JSON: {exc}", self._raw) from None
            if not isinstance(obj, dict):
                raise ProtocolError("text/event-json body is not a JSON object", self._raw)
            body = obj.pop("_body", None)
            allh = {k: v if isinstance(v, str) else json.dumps(v) for k, v in obj.items()}
            self._body = body.encode("utf-8") if isinstance(body, str) else b""
        else:
            allh = self._parse_xml()
        self._all = allh
        return allh

    def _parse_xml(self) -> dict[str, str]:
        try:
            root = ElementTree.fromstring(self._raw)
        except ElementTree.ParseError as exc:
            raise ProtocolError(f"text/event-xml body is not XML: {exc}", self._raw) from None
        allh: dict[str, str] = {}
        headers = root.find("headers")
        for el in headers if headers is not None else ():
            allh.setdefault(el.tag, fs_url_decode(el.text or ""))
        body_el = root.find("body")
        body = (body_el.text or "").encode("utf-8") if body_el is not None else b""
        cl = root.findtext("Content-Length")
        if cl is not None and cl.strip().isdigit():
            # FreeSWITCH's XML pretty-printer indents the closing tag inside the
            # body text; the declared length is the real body.
            body = body[: int(cl)]
            allh.setdefault("Content-Length", cl.strip())
        self._body = body
        return allh

    def _lookup(self, name: str) -> str | None:
        allh = self._all
        if allh is not None:
            return allh.get(name)
        if self._kind != _PLAIN:
            return self._load_all().get(name)
        got = self._decoded.get(name)
        if got is not None:
            return got
        raw = self._raw
        end = self._plain_header_end()
        key = name.encode("utf-8") + b": "
        if raw.startswith(key):
            start = len(key)
        else:
            i = raw.find(b"\n" + key, 0, end)
            if i < 0:
                return None
            start = i + 1 + len(key)
        stop = raw.find(b"\n", start, end + 1)
        if stop < 0:
            stop = end
        value = fs_url_decode(raw[start:stop].decode("utf-8", "replace"))
        self._decoded[name] = value
        return value

    # -- Mapping API --------------------------------------------------------
    def __getitem__(self, name: str) -> str:
        value = self._lookup(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self._lookup(name)
        return default if value is None else value

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
            end = self._plain_header_end()
            pairs = []
            for line in self._raw[:end].decode("utf-8", "replace").split("\n"):
                name, _, value = line.partition(": ")
                pairs.append((name, fs_url_decode(value)))
            return pairs
        if kind == _XML:
            root = ElementTree.fromstring(self._raw)
            headers = root.find("headers")
            return [(el.tag, fs_url_decode(el.text or "")) for el in
                    (headers if headers is not None else ())]
        return list(self._load_all().items())

    @property
    def body(self) -> bytes:
        """The event's own body (e.g. a BACKGROUND_JOB result), raw bytes."""
        if self._body is None:
            self._load_all()
        return self._body or b""

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
        value = self._lookup("Event-Date-Timestamp")
        return int(value) if value else None

    @property
    def sequence(self) -> int | None:
        value = self._lookup("Event-Sequence")
        return int(value) if value else None

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.uuid or self.job_uuid or ''}>"
