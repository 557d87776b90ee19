"""Events as the emulator builds them, and their three wire formats.

An event is assembled from cached, already URL-encoded pieces: the host's
constant headers, a per-tick date block, the channel's data block and its
variable block (both cached by the channel until they change). Nothing is
built for an event no client subscribed to; see :meth:`EmulatedHost.wants`.

Formats follow the transcripts: plain values URL-encoded, ``Content-Length``
before ``Content-Type``; JSON with every value a string, duplicate headers kept
(FreeSWITCH's cJSON prints both ``Hangup-Cause`` of a CHANNEL_HANGUP_COMPLETE);
XML with URL-encoded element texts.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..wire.serialize import event_xml
from ..wire.urlcodec import fs_url_encode

if TYPE_CHECKING:
    from .channel import Channel
    from .host import EmulatedHost

Pairs = list[tuple[str, str]]

_UNSAFE = "\r\n #&+:;<=>?@[\\]^`{|}\""
#: ASCII translation table: unsafe characters and controls -> %XX ('%' handled apart)
_TABLE = {c: f"%{c:02X}" for c in range(0x20)}
_TABLE.update({ord(ch): f"%{ord(ch):02X}" for ch in _UNSAFE})
_TABLE[0x7F] = "%7F"
_LONE_PERCENT = re.compile(r"%(?![0-9A-F]{2})")
#: unsafe ASCII characters but '%' -> escape; replacing only the ones present (found with
#: a set intersection) beats translate() with an expanding table by far
_ESCAPES = {chr(c): esc for c, esc in _TABLE.items()}
_UNSAFE_CHARS = frozenset(_ESCAPES)
#: the unsafe characters checked one by one; the other (control) ones with one regex scan
_COMMON_UNSAFE = tuple("\r\n" + _UNSAFE[2:])
_RARE_UNSAFE = re.compile("[" + re.escape("".join(sorted(_UNSAFE_CHARS - set(_COMMON_UNSAFE))))
                          + "]")
_ENC_CACHE: dict[str, str] = {}
_ENC_CACHE_MAX = 100_000


def enc(value: str) -> str:
    """``fs_url_encode``, fast: memo for short values, ``str.translate`` for ASCII.

    Same result as :func:`switchlab.wire.fs_url_encode` for every input (an
    already valid ``%XX`` is kept, a lone ``%`` becomes ``%25``).
    """
    hit = _ENC_CACHE.get(value)
    if hit is not None:
        return hit
    if _NEEDS_ENCODING.search(value) is None:
        return value
    if value.isascii():
        out = value
        if "%" in out:
            out = _LONE_PERCENT.sub("%25", out)  # first: the other escapes add valid %XX
        for ch in _COMMON_UNSAFE:  # 'in' is a fast scan; rarely many of them are present
            if ch in out:
                out = out.replace(ch, _ESCAPES[ch])
        if _RARE_UNSAFE.search(out) is not None:
            for ch in _UNSAFE_CHARS.intersection(out):
                out = out.replace(ch, _ESCAPES[ch])
    else:
        out = fs_url_encode(value)
    if len(value) < 128:
        if len(_ENC_CACHE) >= _ENC_CACHE_MAX:
            _ENC_CACHE.clear()
        _ENC_CACHE[value] = out
    return out


_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '#%&+:;<=>?@[\\]^`{|}"')
#: one negated character class: twice as fast to scan as the equivalent alternation
_NEEDS_ENCODING = re.compile(f"[^{re.escape(_SAFE)}]")
#: ``needs_encoding(value)`` is None when :func:`enc` would return ``value`` unchanged
needs_encoding = _NEEDS_ENCODING.search


def seed(raw: str, encoded: str) -> None:
    """Tell :func:`enc` the encoding of a long value computed elsewhere (an SDP)."""
    if len(_ENC_CACHE) >= _ENC_CACHE_MAX:
        _ENC_CACHE.clear()
    _ENC_CACHE[raw] = encoded


def plain_lines(pairs: Pairs) -> str:
    """``Name: url-encoded value\\n`` lines."""
    return "".join([f"{k}: {enc(v)}\n" for k, v in pairs])


_json_str = json.JSONEncoder(ensure_ascii=False).encode


class SimEvent:
    """One event fired by an emulated host (rendered lazily, once per format)."""

    __slots__ = ("name", "host", "seq", "stamp", "source", "lead", "pre", "chan", "post",
                 "extended", "body", "_frames", "_pairs", "unique_id")

    def __init__(self, host: EmulatedHost, name: str, seq: int, stamp: int,
                 source: tuple[str, str, str], lead: Pairs = (),  # type: ignore[assignment]
                 pre: Pairs = (), chan: Channel | None = None,  # type: ignore[assignment]
                 post: Pairs = (), extended: bool = False,  # type: ignore[assignment]
                 body: str | None = None) -> None:
        self.name = name
        self.host = host
        self.seq = seq
        self.stamp = stamp
        self.source = source
        self.lead = lead
        self.pre = pre
        self.chan = chan
        self.post = post
        self.extended = extended
        self.body = body
        self._frames: dict[str, bytes] = {}
        self._pairs: Pairs | None = None
        self.unique_id = chan.uuid if chan is not None else None

    # -- header access (filters) ------------------------------------------------
    def pairs(self) -> Pairs:
        """Every header, decoded, in wire order (body excluded)."""
        if self._pairs is None:
            out: Pairs = list(self.lead)
            out.extend(self.host.core_pairs(self))
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
        data = self._frames.get(fmt)
        if data is None:
            if fmt == "plain":
                data = self._plain()
            elif fmt == "json":
                data = self._json()
            else:
                data = self._xml()
            self._frames[fmt] = data
        return data

    def _plain(self) -> bytes:
        parts = [""]  # the outer header goes first, once the length is known
        if self.lead:
            parts.append(plain_lines(self.lead))
        parts.append(self.host.core_plain(self))
        if self.pre:
            parts.append(plain_lines(self.pre))
        chan = self.chan
        if chan is not None:
            parts.append(chan.data_plain())
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
        # the headers are URL-encoded, hence ASCII: characters = bytes, one copy less
        parts[0] = f"Content-Length: {sum(map(len, parts))}\nContent-Type: text/event-plain\n\n"
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
