"""Events as the emulator builds them (server side), and their three wire formats.

(The client parses events with :mod:`switchlab.wire.events`; this module only
builds them.)

An event is assembled from cached, already URL-encoded pieces: the host's
constant headers and a per-tick date block (both kept by the
:class:`~.bus.EventBus`), the channel's data block and its variable block (both
cached by the channel until they change). Nothing is
built for an event no client subscribed to; see :meth:`EventBus.wants`.

Formats follow the transcripts: plain values URL-encoded, ``Content-Length``
before ``Content-Type``; JSON with every value a string, duplicate headers kept
(FreeSWITCH's cJSON prints both ``Hangup-Cause`` of a CHANNEL_HANGUP_COMPLETE);
XML with URL-encoded element texts.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...wire.serialize import event_xml
from ...wire.urlcodec import fs_url_encode_fast as enc

if TYPE_CHECKING:
    from .bus import EventBus
    from .channel import Channel

Pairs = list[tuple[str, str]]
#: headers given to an event (any sequence of name-value pairs)
Headers = Sequence[tuple[str, str]]


def plain_lines(pairs: Headers) -> str:
    """``Name: url-encoded value\\n`` lines."""
    return "".join([f"{k}: {enc(v)}\n" for k, v in pairs])


_json_str = json.JSONEncoder(ensure_ascii=False).encode


class SimEvent:
    """One event fired by an emulated host (rendered lazily, once per format)."""

    __slots__ = ("name", "bus", "seq", "stamp", "source", "lead", "pre", "chan", "post",
                 "extended", "body", "_plain_frame", "_frames", "_pairs", "unique_id")

    def __init__(self, bus: EventBus, name: str, seq: int, stamp: int,
                 source: tuple[str, str, str], lead: Headers = (),
                 pre: Headers = (), chan: Channel | None = None,
                 post: Headers = (), extended: bool = False,
                 body: str | None = None) -> None:
        self.name = name
        self.bus = bus
        self.seq = seq
        self.stamp = stamp
        self.source = source
        self.lead = lead
        self.pre = pre
        self.chan = chan
        self.post = post
        self.extended = extended
        self.body = body
        self._plain_frame: bytes | None = None
        self._frames: dict[str, bytes] | None = None  # json / xml, rarely asked for
        self._pairs: Pairs | None = None
        self.unique_id = chan.uuid if chan is not None else None

    # -- header access (filters) ------------------------------------------------
    def pairs(self) -> Pairs:
        """Every header, decoded, in wire order (body excluded)."""
        if self._pairs is None:
            out: Pairs = list(self.lead)
            out.extend(self.bus.core_pairs(self))
            out.extend(self.pre)
            if self.chan is not None:
                out.extend(self.chan.data_pairs())
            if self.chan is not None and self.extended:
                out.extend(self.chan.var_pairs())
            out.extend(self.post)
            self._pairs = out
        return self._pairs

    def get(self, name: str) -> str | None:
        """A header's decoded value (first occurrence, case-insensitive), or None."""
        if name == "Event-Name":
            return self.name
        if name == "Unique-ID" and self.unique_id is not None:
            return self.unique_id
        low = name.lower()
        for k, v in self.pairs():
            if k.lower() == low:
                return v
        return None

    # -- rendering ---------------------------------------------------------------
    def frame(self, fmt: str) -> bytes:
        """The whole frame for format ``plain``, ``json`` or ``xml`` (cached)."""
        if fmt == "plain":
            data = self._plain_frame
            if data is None:
                data = self._plain_frame = self._plain()
            return data
        frames = self._frames
        if frames is None:
            frames = self._frames = {}
        data = frames.get(fmt)
        if data is None:
            data = frames[fmt] = self._json() if fmt == "json" else self._xml()
        return data

    def _plain(self) -> bytes:
        parts = [""]  # the outer header goes first, once the length is known
        if self.lead:
            parts.append(plain_lines(self.lead))
        parts.append(self.bus.core_plain(self))
        if self.pre:
            parts.append(plain_lines(self.pre))
        chan = self.chan
        if chan is not None:
            chan.data_parts(parts)
            if self.extended:
                parts.append(chan.var_plain())
        if self.post:
            parts.append(plain_lines(self.post))
        if self.body:
            raw = self.body.encode("utf-8")
            parts.append(f"Content-Length: {len(raw)}\n\n")
            text = "".join(parts)
            data = text.encode("utf-8") + raw
            return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data
        parts.append("\n")
        size = 0
        for part in parts:  # a compiled loop: sum(map(len, parts)) is two generic calls
            size += len(part)
        # the headers are URL-encoded, hence ASCII: characters = bytes, one copy less
        parts[0] = f"Content-Length: {size}\nContent-Type: text/event-plain\n\n"
        text = "".join(parts)
        if not text.isascii():  # pragma: no cover - a value escaped encoding
            data = "".join(parts[1:]).encode("utf-8")
            return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data
        return text.encode()

    def _json(self) -> bytes:
        items = [f"{_json_str(k)}:{_json_str(v)}" for k, v in self.pairs()]
        if self.body:
            raw = self.body.encode("utf-8")
            items.append(f'"Content-Length":"{len(raw)}"')
            items.append(f'"_body":{_json_str(self.body)}')
        data = ("{" + ",".join(items) + "}").encode("utf-8")
        return b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(data) + data

    def _xml(self) -> bytes:
        body = self.body.encode("utf-8") if self.body else None
        return event_xml(self.pairs(), body)

    def __repr__(self) -> str:
        return f"<SimEvent {self.name} seq={self.seq} {self.unique_id or ''}>"
