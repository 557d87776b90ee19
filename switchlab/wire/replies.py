"""Api and job reply bodies (``+OK ...``, ``-ERR <cause>``, ``-USAGE: ...``), sans I/O.

The one reading of what FreeSWITCH's api commands answer, shared by
:class:`~switchlab.errors.APIError` (built by :func:`api_error`), the
client's ``Job`` and the call recorder:

* ``+OK[ text]``: success; ``text`` is what follows (an originate's uuid).
* ``-ERR <cause>``: failure; ``text`` is the cause (``USER_BUSY``). FreeSWITCH
  also writes ``-ERROR`` (``uuid_answer`` of an unknown uuid): the marker is
  then the word ``ERROR`` and the text what follows it, else ``ERROR``. An
  ``-ERR`` without text gives ``UNKNOWN_ERROR``, so a cause is never empty.
* ``-USAGE: <syntax>``: failure (wrong arguments); ``text`` is the body
  without its leading ``-`` (``USAGE: <uuid> [cause]``).
* anything else: neither; the text of a command that has no ``+OK`` (``status``).

>>> parse_reply("+OK 3d4bb68e\\n")
Reply(kind='ok', text='3d4bb68e')
>>> parse_reply("-ERROR\\n"), parse_reply("-ERR USER_BUSY\\n").text
(Reply(kind='err', text='ERROR'), 'USER_BUSY')
>>> parse_reply("-USAGE: <uuid>\\n")
Reply(kind='usage', text='USAGE: <uuid>')
"""
from __future__ import annotations

from typing import Final, NamedTuple

from ..errors import APIError
from .event_formats import json_pairs, plain_headers

OK: Final = "ok"
ERR: Final = "err"
USAGE: Final = "usage"
OTHER: Final = "other"

#: the cause given to an ``-ERR`` that names none
UNKNOWN_ERROR: Final = "UNKNOWN_ERROR"

#: body prefixes that mean failure (a quick test before :func:`parse_reply`)
ERROR_PREFIXES: Final = ("-ERR", "-USAGE")


class Reply(NamedTuple):
    """A parsed reply body: ``kind`` (``ok``, ``err``, ``usage``, ``other``) and ``text``."""

    kind: str
    text: str

    @property
    def failed(self) -> bool:
        """True for ``-ERR``/``-ERROR``/``-USAGE`` bodies."""
        return self.kind == ERR or self.kind == USAGE


def parse_reply(body: str | bytes) -> Reply:
    """Read an api/bgapi body (str or bytes; surrounding whitespace ignored)."""
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    text = text.strip()
    if text.startswith("+OK"):
        return Reply(OK, text[3:].strip())
    if text.startswith("-ERR"):
        if text.startswith("-ERROR"):
            return Reply(ERR, text[6:].strip() or "ERROR")
        return Reply(ERR, text[4:].strip() or UNKNOWN_ERROR)
    if text.startswith("-USAGE"):
        return Reply(USAGE, text[1:])
    return Reply(OTHER, text)


def is_error(body: str) -> bool:
    """True when ``body`` is a failure reply, as :func:`parse_reply` says (cheap: a prefix test).

    >>> is_error("-ERR no reply\\n"), is_error("UP 0 years")
    (True, False)
    """
    if body.startswith(ERROR_PREFIXES):
        return True
    return body[:1].isspace() and body.lstrip().startswith(ERROR_PREFIXES)


def api_error(command: str, body: str) -> APIError:
    """The :class:`~switchlab.errors.APIError` for a failed ``command`` whose reply is ``body``.

    >>> api_error("uuid_answer x", "-ERROR\\n").text
    'ERROR'
    """
    return APIError(command, body, parse_reply(body).text)


def originate_outcome(body: str | bytes) -> tuple[bool, str | None]:
    """``(ok, cause)`` of an originate job: only ``+OK`` is a success, and a
    body that is neither ``+OK`` nor an error is a failure named by its text.

    >>> originate_outcome("+OK 3d4bb68e\\n"), originate_outcome(b"-ERROR\\n")
    ((True, None), (False, 'ERROR'))
    """
    reply = parse_reply(body)
    if reply.kind == OK:
        return True, None
    return False, reply.text or UNKNOWN_ERROR


def channel_dump(body: str) -> dict[str, str]:
    """The headers of a ``uuid_dump`` body: plain ``Name: value`` lines (URL-encoded
    values) or, for ``uuid_dump <uuid> json``, one JSON object; first occurrence wins.

    >>> channel_dump("Event-Name: CHANNEL_DATA\\nvariable_x: a%20b\\n")
    {'Event-Name': 'CHANNEL_DATA', 'variable_x': 'a b'}
    >>> channel_dump('{"Event-Name":"CHANNEL_DATA","variable_x":"a b"}')["variable_x"]
    'a b'
    """
    raw = body.encode("utf-8")
    if body.lstrip().startswith("{"):
        out: dict[str, str] = {}
        for name, value in json_pairs(raw)[0]:
            out.setdefault(name, value)
        return out
    return plain_headers(raw.strip(b"\n"), raw)
