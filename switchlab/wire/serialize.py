"""Server-side encoders: the bytes FreeSWITCH writes, for the emulator and tests.

Formats follow ``mod_event_socket.c`` and ``switch_event.c`` as recorded in the
transcripts: event frames put ``Content-Length`` before ``Content-Type``,
``api/response`` puts ``Content-Type`` first, values of plain and XML events
are URL-encoded, JSON values are strings with the body under ``_body``.

>>> api_response("+OK\\n")
b'Content-Type: api/response\\nContent-Length: 4\\n\\n+OK\\n'
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from .frames import (API_RESPONSE, AUTH_REQUEST, COMMAND_REPLY, DISCONNECT_NOTICE, EVENT_JSON,
                     EVENT_PLAIN, EVENT_XML, GOODBYE, LOG_DATA, RUDE_REJECTION)
from .urlcodec import fs_url_encode

Headers = Sequence[tuple[str, str]]

AUTH_REQUEST_FRAME = f"Content-Type: {AUTH_REQUEST}\n\n".encode()


def command_reply(reply_text: str, extra: Iterable[tuple[str, str]] = ()) -> bytes:
    """A ``command/reply`` frame (no body)."""
    lines = [f"Content-Type: {COMMAND_REPLY}", f"Reply-Text: {reply_text}"]
    lines.extend(f"{k}: {v}" for k, v in extra)
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def api_response(body: str | bytes) -> bytes:
    """An ``api/response`` frame carrying ``body`` verbatim."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return f"Content-Type: {API_RESPONSE}\nContent-Length: {len(data)}\n\n".encode() + data


def disconnect_notice(extra: Iterable[tuple[str, str]] = (), body: bytes = GOODBYE) -> bytes:
    """A ``text/disconnect-notice``; ``extra`` headers come before Content-Length."""
    lines = [f"Content-Type: {DISCONNECT_NOTICE}"]
    lines.extend(f"{k}: {v}" for k, v in extra)
    lines.append(f"Content-Length: {len(body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def rude_rejection(body: bytes = b"Access Denied, go away.\n") -> bytes:
    """What FreeSWITCH sends a client its ACL refuses, before closing."""
    return f"Content-Type: {RUDE_REJECTION}\nContent-Length: {len(body)}\n\n".encode() + body


def log_data(text: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """A ``log/data`` frame: headers continue after Content-Length."""
    data = text.encode("utf-8")
    lines = [f"Content-Type: {LOG_DATA}", f"Content-Length: {len(data)}"]
    lines.extend(f"{k}: {v}" for k, v in headers)
    return ("\n".join(lines) + "\n\n").encode("utf-8") + data


def _event_frame(content_type: str, body: bytes) -> bytes:
    return f"Content-Length: {len(body)}\nContent-Type: {content_type}\n\n".encode() + body


def event_plain_body(headers: Headers, body: bytes | None = None) -> bytes:
    """``switch_event_serialize``: ``Name: url-encoded value`` lines, then a blank
    line, or ``Content-Length`` + blank line + raw body. An empty value is
    written ``_undef_``, as FreeSWITCH does."""
    enc = fs_url_encode
    text = "".join([f"{k}: {enc(v) if v else '_undef_'}\n" for k, v in headers])
    if body:
        return f"{text}Content-Length: {len(body)}\n\n".encode("utf-8") + body
    return (text + "\n").encode("utf-8")


def event_plain(headers: Headers, body: bytes | None = None) -> bytes:
    """A whole ``text/event-plain`` frame."""
    return _event_frame(EVENT_PLAIN, event_plain_body(headers, body))


def _json_value(value: str) -> str:
    if value.startswith("ARRAY::"):
        # an array header: FreeSWITCH writes a JSON array where plain events
        # carry ``ARRAY::a|:b``
        return json.dumps(value[7:].split("|:"), ensure_ascii=False, separators=(",", ":"))
    return json.dumps(value, ensure_ascii=False)


def event_json(headers: Headers, body: bytes | None = None) -> bytes:
    """A whole ``text/event-json`` frame (cJSON's unformatted print: every
    header in order, duplicates included, values as strings, arrays as arrays)."""
    members = [f"{json.dumps(k, ensure_ascii=False)}:{_json_value(v)}" for k, v in headers]
    if body:
        members.append(f'"Content-Length":"{len(body)}"')
        members.append('"_body":' + json.dumps(body.decode("utf-8", "replace"), ensure_ascii=False))
    data = ("{" + ",".join(members) + "}").encode("utf-8")
    return _event_frame(EVENT_JSON, data)


def event_xml(headers: Headers, body: bytes | None = None) -> bytes:
    """A whole ``text/event-xml`` frame, with FreeSWITCH's pretty-printing quirks."""
    enc = fs_url_encode
    parts = ["<event>\n  <headers>\n"]
    parts.extend(f"    <{k}>{escape(enc(v))}</{k}>\n" for k, v in headers)
    parts.append("  </headers>\n")
    if body:
        parts.append(f"  <Content-Length>{len(body)}</Content-Length>\n")
        parts.append(f"  <body>{escape(body.decode('utf-8', 'replace'))}  </body>\n")
    parts.append("</event>\n")
    return _event_frame(EVENT_XML, "".join(parts).encode("utf-8"))


EVENT_ENCODERS = {"plain": event_plain, "json": event_json, "xml": event_xml}
