"""What an event-socket client subscribed to: event names, log levels and filters
(the server side's reading of ``event``, ``myevents``, ``log`` and ``filter``)."""
from __future__ import annotations

import re

from ..model.event_builder import SimEvent
from ..model.fsdata import EVENT_NAMES

#: upper-case event name -> FreeSWITCH's spelling
EVENT_NAMES_UPPER = {n.upper(): n for n in EVENT_NAMES}
#: events ``myevents`` turns on (mod_event_socket.c)
MYEVENTS_SET = (
    "CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE",
    "CHANNEL_DATA", "CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "DTMF",
    "NOTALK", "TALK",
)
_LOG_LEVELS = {"console": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4,
               "notice": 5, "info": 6, "debug": 7}


def parse_log_level(text: str) -> int | None:
    """FreeSWITCH's ``switch_log_str2level``: a number 0-7 or a level name."""
    text = text.strip()
    if text.isdigit():
        n = int(text)
        return n if 0 <= n <= 7 else None
    return _LOG_LEVELS.get(text.lower())


def _filter_match(value: str, pattern: str) -> bool:
    if pattern.startswith("/"):
        body = pattern[1:]
        end = body.rfind("/")
        flags = 0
        if end >= 0:
            if "i" in body[end + 1:]:
                flags |= re.IGNORECASE
            body = body[:end]
        try:
            return re.search(body, value, flags) is not None
        except re.error:
            return False
    return value.lower() == pattern.lower()


def passes_filters(filters: list[tuple[str, str]], ev: SimEvent) -> bool:
    """mod_event_socket's filter rule: some ``+`` filter matches and no ``-`` one does."""
    send = False
    for name, value in filters:
        hval = ev.get(name)
        if hval is None:
            continue
        comp = value
        pos = True
        i = 0
        while i < len(comp) and comp[i] in "+- ":
            if comp[i] == "+":
                pos = True
            elif comp[i] == "-":
                pos = False
            i += 1
        comp = comp[i:]
        if send and pos:
            continue
        if not comp:
            continue
        pattern = value if value.startswith("/") else comp
        if _filter_match(hval, pattern):
            if pos:
                send = True
            else:
                return False
    return send
