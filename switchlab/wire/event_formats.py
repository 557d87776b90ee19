"""Full decoding of event bodies in FreeSWITCH's three formats (plain, JSON, XML).

:class:`~switchlab.wire.events.Event` reads single plain headers itself (its
hot path); the whole-event decodings it needs less often live here. Each
function takes the raw frame body and raises
:class:`~switchlab.errors.ProtocolError` (holding those bytes) when it does
not parse.

>>> plain_headers(b"Event-Name: API\\nX: a%20b", b"")
{'Event-Name': 'API', 'X': 'a b'}
"""
from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from ..errors import ProtocolError
from .urlcodec import _unquote_bytes, decode_value, fs_url_decode

__all__ = ["SEARCH_KEYS", "content_length", "json_pairs", "plain_header_list", "plain_headers",
           "search_key", "xml_headers", "xml_pairs"]

Pairs = list[tuple[str, str]]

#: name -> (``b"\\nName: "``, its length): what :class:`~switchlab.wire.events.Event`
#: searches a plain event for (names a header line can have only; see :func:`search_key`).
SEARCH_KEYS: dict[str, tuple[bytes, int]] = {}
_SEARCH_KEYS_MAX = 4096


def search_key(name: object) -> tuple[bytes, int] | None:
    """``b"\\nName: "`` for a name a header line can have (remembered in
    :data:`SEARCH_KEYS`), else None.

    >>> search_key("Unique-ID"), search_key("a: b"), search_key(3)
    ((b'\\nUnique-ID: ', 12), None, None)
    """
    # A name with a line break or ": " can never be a header name: lines are
    # split at the first ": ". U+FFFD may stand for any invalid byte.
    if not isinstance(name, str) or "\n" in name or ": " in name or "\ufffd" in name:
        return None
    try:
        key = b"\n" + name.encode("utf-8") + b": "
    except UnicodeEncodeError:
        return None
    if len(SEARCH_KEYS) >= _SEARCH_KEYS_MAX:
        SEARCH_KEYS.clear()
    entry = SEARCH_KEYS[name] = (key, len(key))
    return entry


class _Members(list[tuple[str, Any]]):
    """The members of one JSON object, in order, duplicates kept."""


def _keep_members(pairs: list[tuple[str, Any]]) -> _Members:
    return _Members(pairs)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "ARRAY::" + "|:".join(value)  # what plain events carry for arrays
    if isinstance(value, _Members):
        value = dict(value)
    return json.dumps(value)


def content_length(value: str | None, raw: bytes) -> int:
    """The event body's declared length (0 without one)."""
    if value is None:
        return 0
    if not (value.isascii() and value.isdigit()):
        raise ProtocolError(f"event body Content-Length {value[:40]!r} is not a number", raw)
    return int(value)


def _malformed(line: str, raw: bytes) -> ProtocolError:
    return ProtocolError(f"malformed event header line {line[:80]!r}: expected 'Name: value'", raw)


def plain_headers(block: bytes, raw: bytes) -> dict[str, str]:
    """Every header of a plain event's header ``block``, decoded; first occurrence wins."""
    allh: dict[str, str] = {}
    if not block:
        return allh
    if block.isascii():
        for line in block.decode("ascii").split("\n"):
            name, sep, value = line.partition(": ")
            if not sep:
                raise _malformed(line, raw)
            if name not in allh:
                allh[name] = value
        # Values are replaced in place (the size never changes while iterating).
        for name, value in allh.items():
            if "%" in value:
                allh[name] = _unquote_bytes(value.encode("ascii")).decode("utf-8", "replace")
        return allh
    for bline in block.split(b"\n"):
        bname, bsep, bvalue = bline.partition(b": ")
        if not bsep:
            raise _malformed(bline.decode("utf-8", "replace"), raw)
        name = bname.decode("utf-8", "replace")
        if name not in allh:
            allh[name] = decode_value(bvalue)
    return allh


def plain_header_list(block: bytes, raw: bytes) -> Pairs:
    """Every header of a plain header ``block`` in wire order, duplicates kept."""
    pairs = []
    for line in block.split(b"\n") if block else ():
        name, sep, value = line.partition(b": ")
        if not sep:
            raise _malformed(line.decode("utf-8", "replace"), raw)
        pairs.append((name.decode("utf-8", "replace"), decode_value(value)))
    return pairs


def json_pairs(raw: bytes) -> tuple[Pairs, bytes]:
    """Every header of a JSON event in wire order (duplicates kept), and the body.

    FreeSWITCH writes every value as a string, except array headers
    (``variable_DP_MATCH``), written as JSON arrays: they are returned as
    the text plain events carry, ``ARRAY::a|:b``.
    """
    try:
        members = json.loads(raw, object_pairs_hook=_keep_members)
    except ValueError as exc:
        raise ProtocolError(f"text/event-json body is not JSON: {exc}", raw) from None
    if not isinstance(members, _Members):
        raise ProtocolError("text/event-json body is not a JSON object", raw)
    out = []
    body = b""
    for name, value in members:
        if name == "_body":
            if isinstance(value, str) and not body:
                body = value.encode("utf-8")
            continue
        out.append((name, _json_text(value)))
    return out, body


def xml_pairs(raw: bytes) -> tuple[ElementTree.Element, Pairs]:
    """The parsed XML event and its headers in wire order (values URL-decoded)."""
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise ProtocolError(f"text/event-xml body is not XML: {exc}", raw) from None
    headers = root.find("headers")
    pairs = [(el.tag, fs_url_decode(el.text or "")) for el in
             (headers if headers is not None else ())]
    return root, pairs


def xml_headers(raw: bytes) -> tuple[dict[str, str], bytes]:
    """Headers (first occurrence wins) and body of an XML event."""
    root, pairs = xml_pairs(raw)
    allh: dict[str, str] = {}
    for name, value in pairs:
        allh.setdefault(name, value)
    body_el = root.find("body")
    body = (body_el.text or "").encode("utf-8") if body_el is not None else b""
    cl = root.findtext("Content-Length")
    if cl is not None and cl.strip().isdigit():
        # FreeSWITCH's XML pretty-printer indents the closing tag inside the
        # body text; the declared length is the real body.
        body = body[: int(cl)]
        allh.setdefault("Content-Length", cl.strip())
    return allh, body
