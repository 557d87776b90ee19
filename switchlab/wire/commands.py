"""Encoders for the commands a client sends to ``mod_event_socket``.

Every function returns the exact bytes to write. Values are checked first: a
line break (or, where the grammar forbids it, whitespace) inside a value would
let it end the command early and smuggle a second one, so it raises
:class:`~switchlab.errors.CommandError` instead of being sent.

>>> api("status")
b'api status\\n\\n'
>>> bgapi("originate loopback/1 &park()", job_uuid="j1")
b'bgapi originate loopback/1 &park()\\nJob-UUID: j1\\n\\n'
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import CommandError
from .validate import check_line, check_uuid, check_var_name, check_word

EVENT_FORMATS = ("plain", "json", "xml")


def _utf8(what: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CommandError(f"{what} cannot be encoded as UTF-8 ({exc.reason}); "
                           "remove lone surrogate characters") from None


def _frame(*lines: str) -> bytes:
    """The bytes of a command made of ``lines`` (already checked): each on its own
    line, then the blank line that ends it."""
    return _utf8("command", "\n".join(lines) + "\n\n")


def command(line: str, headers: Mapping[str, str] | None = None, body: bytes | None = None) -> bytes:
    """Any command: first line, optional headers, optional body (adds Content-Length).

    ``mod_event_socket`` reads a header as ``name:value`` and skips the spaces
    after the colon, so a value starting with a space could not arrive intact
    and is refused; so is a ``Content-Length`` header (the encoder adds it for
    ``body``: another one would make FreeSWITCH read the next command as a body).
    """
    check_line("command", line)
    if not line:
        raise CommandError("command line is empty; FreeSWITCH would skip it and read the "
                           "next command's lines as this one's")
    parts = [line]
    for name, value in (headers or {}).items():
        check_word("header name", name)
        if ":" in name:
            raise CommandError(f"header name {name!r} must not contain ':'")
        if name.lower() == "content-length":
            raise CommandError("do not pass a Content-Length header: give the body instead "
                               "and its length is added")
        value = check_line(f"header {name}", str(value))
        if value.startswith(" "):
            raise CommandError(f"header {name} value {value[:60]!r} starts with a space, which "
                               "FreeSWITCH strips; strip it or send the value as a body")
        parts.append(f"{name}: {value}")
    if body:
        if not isinstance(body, (bytes, bytearray)):
            raise CommandError(f"body must be bytes, not {type(body).__name__}")
        if b"\x00" in body:
            raise CommandError("body contains a NUL byte, where FreeSWITCH would cut it; remove it")
        parts.append(f"Content-Length: {len(body)}")
        return _frame(*parts) + bytes(body)
    return _frame(*parts)


def auth(password: str) -> bytes:
    """``auth <password>`` (the password itself must be one line). Errors never
    quote the password."""
    try:
        check_line("password", password)
    except CommandError:
        raise CommandError("the password contains a line break or NUL byte, which cannot be "
                           "sent on the event socket; check the password") from None
    return _utf8("password", f"auth {password}\n\n")


def api(cmd: str) -> bytes:
    """``api <cmd>``: run an API command, answer in an ``api/response``."""
    if not check_line("api command", cmd).strip():
        raise CommandError("api command is empty; give e.g. 'status'")
    return _frame(f"api {cmd}")  # command()'s checks: the line was checked above


def bgapi(cmd: str, job_uuid: str | None = None) -> bytes:
    """``bgapi <cmd>`` with an optional client-chosen ``Job-UUID``."""
    if not check_line("bgapi command", cmd).strip():
        raise CommandError("bgapi command is empty; give e.g. 'originate ...'")
    if job_uuid is None:
        return _frame(f"bgapi {cmd}")
    # command()'s checks: the line was checked above, and a word is a valid header
    # value (no line break, no leading space)
    return _frame(f"bgapi {cmd}", f"Job-UUID: {check_word('Job-UUID', job_uuid)}")


def event(names: Iterable[str] = ("ALL",), fmt: str = "plain") -> bytes:
    """``event <fmt> <names...>``: subscribe (``fmt`` is plain, json or xml)."""
    if fmt not in EVENT_FORMATS:
        raise CommandError(f"event format {fmt!r} is not one of {', '.join(EVENT_FORMATS)}")
    words = _with_subclasses(check_word("event name", n) for n in names)
    if not words:
        raise CommandError("no event names given; use ['ALL'] for everything")
    return command(f"event {fmt} {' '.join(words)}")


def _with_subclasses(words: Iterable[str]) -> list[str]:
    """Event names with CUSTOM subclasses (``mod_bert::in_sync``) put after ``CUSTOM``,
    where FreeSWITCH reads them.

    >>> _with_subclasses(["DTMF", "mod_bert::in_sync", "CHANNEL_ANSWER"])
    ['DTMF', 'CHANNEL_ANSWER', 'CUSTOM', 'mod_bert::in_sync']
    """
    words = list(words)
    subs = [w for w in words if "::" in w]
    if not subs:
        return words
    return [w for w in words if "::" not in w and w.upper() != "CUSTOM"] + ["CUSTOM", *subs]


def nixevent(names: Iterable[str]) -> bytes:
    """``nixevent <names...>``: unsubscribe some events."""
    words = _with_subclasses(check_word("event name", n) for n in names)
    if not words:
        raise CommandError("nixevent needs at least one event name")
    return command(f"nixevent {' '.join(words)}")


def noevents() -> bytes:
    return b"noevents\n\n"


def filter_add(header: str, value: str) -> bytes:
    """``filter <header> <value>`` (value may contain spaces, not line breaks).

    ``delete`` and ``add`` are refused as header names: FreeSWITCH reads
    ``filter delete ...`` / ``filter add ...`` as sub-commands.
    """
    if isinstance(header, str) and header.lower() in ("delete", "add"):
        raise CommandError(f"filter header {header!r} would be read as 'filter {header.lower()} "
                           "...' by FreeSWITCH; use filter_delete() to remove a filter")
    return command(f"filter {check_word('filter header', header)} {check_line('filter value', value)}")


def filter_delete(header: str, value: str | None = None) -> bytes:
    """``filter delete <header> [<value>]``."""
    line = f"filter delete {check_word('filter header', header)}"
    if value is not None:
        line += f" {check_line('filter value', value)}"
    return command(line)


def myevents(uuid: str | None, fmt: str | None = "plain") -> bytes:
    """``myevents <uuid> [<fmt>]``: attach the socket to one session
    (``fmt=None`` sends no format: FreeSWITCH then uses plain). On an outbound
    socket ``uuid=None``: the controlled session.

    >>> myevents(None, None), myevents(None)
    (b'myevents\\n\\n', b'myevents plain\\n\\n')
    """
    line = "myevents" if uuid is None else f"myevents {check_uuid(uuid)}"
    if fmt is None:
        return command(line)
    if fmt not in EVENT_FORMATS:
        raise CommandError(f"event format {fmt!r} is not one of {', '.join(EVENT_FORMATS)}")
    return command(f"{line} {fmt}")


def linger(seconds: int | None = None) -> bytes:
    """``linger [seconds]``: keep the socket open after the session hangs up."""
    return b"linger\n\n" if seconds is None else command(f"linger {int(seconds)}")


def nolinger() -> bytes:
    return b"nolinger\n\n"


def log(level: int | str = 7) -> bytes:
    return command(f"log {check_word('log level', str(level))}")


def nolog() -> bytes:
    return b"nolog\n\n"


def exit_() -> bytes:
    """``exit``: FreeSWITCH answers ``+OK bye``, sends a disconnect notice and closes."""
    return b"exit\n\n"


def sendmsg(uuid: str | None, headers: Mapping[str, str], body: bytes | None = None) -> bytes:
    """``sendmsg <uuid>`` with its headers (``call-command``, ...); ``uuid=None``
    on an outbound socket: the controlled session."""
    line = "sendmsg" if uuid is None else f"sendmsg {check_uuid(uuid)}"
    return command(line, headers, body)


def connect() -> bytes:
    """``connect``: the first command on an outbound socket (the reply is the channel data)."""
    return b"connect\n\n"


def divert_events(on: bool = True) -> bytes:
    """``divert_events on|off`` (outbound socket)."""
    return b"divert_events on\n\n" if on else b"divert_events off\n\n"


def getvar(name: str) -> bytes:
    """``getvar <name>`` (outbound socket): the reply text is the value itself."""
    return command(f"getvar {check_var_name(name)}")


def execute(uuid: str | None, app: str, arg: str = "", event_lock: bool = False,
            loops: int = 1, event_uuid: str | None = None) -> bytes:
    """``sendmsg`` with ``call-command: execute`` for dialplan application ``app``.

    An argument with a line break (or a leading space, which a header would
    lose) is sent as a ``text/plain`` body, as FreeSWITCH allows, so it cannot
    be read as further headers.

    >>> execute("u1", "playback", "tone_stream://%(100,0,440)")
    b'sendmsg u1\\ncall-command: execute\\nexecute-app-name: playback\\nexecute-app-arg: tone_stream://%(100,0,440)\\n\\n'
    """
    headers = {"call-command": "execute", "execute-app-name": check_word("app name", app)}
    body = None
    if not isinstance(arg, str):
        raise CommandError(f"application argument must be a str, not {type(arg).__name__}")
    if "\n" in arg or "\r" in arg or arg.startswith(" "):
        headers["content-type"] = "text/plain"
        body = _utf8("application argument", arg)
    elif arg:
        headers["execute-app-arg"] = arg
    if loops != 1:
        headers["loops"] = str(int(loops))
    if event_lock:
        headers["event-lock"] = "true"
    if event_uuid:
        headers["Event-UUID"] = check_word("Event-UUID", event_uuid)
    return sendmsg(uuid, headers, body)


def hangup(uuid: str | None, cause: str = "NORMAL_CLEARING") -> bytes:
    """``sendmsg`` with ``call-command: hangup``."""
    return sendmsg(uuid, {"call-command": "hangup", "hangup-cause": check_word("cause", cause)})
