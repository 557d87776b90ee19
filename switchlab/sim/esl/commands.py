"""The commands of an event-socket connection (``mod_event_socket``'s verbs).

Reply texts, typos included, are FreeSWITCH's (``-ERR aready enabled.``,
``-ERR not loging``). :func:`handle` runs one command; a blocking ``api``
returns an awaitable that the connection waits for before running the next.
"""
from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from ...wire import serialize
from ...wire.parser import Command
from ..model.fsdata import EVENT_NAMES
from ..mod_dptools.runner import queue_message
from .api import run_api
from .subscription import EVENT_NAMES_UPPER, MYEVENTS_SET, parse_log_level

if TYPE_CHECKING:
    from .server import EslServerProtocol

log = logging.getLogger("switchlab.sim")


def handle(srv: EslServerProtocol, cmd: Command) -> Awaitable[Any] | None:
    line = cmd.line
    low = line[:16].lower()  # only prefixes are compared (the longest: "divert_events")
    if low.startswith("exit") or line.startswith("..."):
        srv.reply("+OK bye")
        srv.close()
        return None
    if not srv.authed:
        handle_unauthed(srv, line)
        return None
    if low.startswith("bgapi "):  # the load-test verb first (no check below matches it)
        cmd_bgapi(srv, line[6:], cmd.headers)
        return None
    if low.startswith("filter "):
        cmd_filter(srv, line[7:])
        return None
    if srv.session is not None or low.startswith("myevents "):
        if low.startswith("myevents"):
            cmd_myevents(srv, line)
            return None
        if low.startswith("getvar"):
            _, _, name = line.partition(" ")
            srv.reply(srv.session.var(name.strip(), "") if srv.session else "")
            return None
    if low.startswith("divert_events"):
        srv.reply("-ERR not controlling a session.")
        return None
    if low.startswith("sendmsg"):
        cmd_sendmsg(srv, cmd)
        return None
    if low.startswith("sendevent"):
        cmd_sendevent(srv, cmd)
        return None
    if low.startswith("api "):
        return cmd_api(srv, line[4:])
    if low.startswith("log"):
        cmd_log(srv, line)
        return None
    if low.startswith("linger"):
        cmd_linger(srv, line)
        return None
    if low.startswith("nolinger"):
        if srv.session is not None:
            srv.linger = None
            srv.reply("+OK will not linger")
        else:
            srv.reply("-ERR not controlling a session")
        return None
    if low.startswith("nolog"):
        if srv.log_level is not None:
            srv.log_level = None
            srv.host.update_subscriptions()
            srv.reply("+OK no longer logging")
        else:
            srv.reply("-ERR not loging")
        return None
    if low.startswith("event"):
        cmd_event(srv, line)
        return None
    if low.startswith("nixevent"):
        cmd_nixevent(srv, line)
        return None
    if low.startswith("noevents"):
        if srv.events_on:
            srv.events_on = False
            srv.all_events = False
            srv.event_names.clear()
            srv.custom_subclasses.clear()
            srv.host.update_subscriptions()
            srv.reply("+OK no longer listening for events")
        else:
            srv.reply("-ERR not listening for events")
        return None
    srv.reply("-ERR command not found")
    return None

def handle_unauthed(srv: EslServerProtocol, line: str) -> None:
    if line.lower().startswith("auth "):
        if line[5:] == srv.host.emulator.password:
            srv.authed = True
            srv.reply("+OK accepted")
        else:
            log.info("%s: client %s gave a wrong password", srv.host.hostname, srv.peer)
            srv.reply("-ERR invalid")
            srv.close()
        return
    if line.lower().startswith("userauth "):
        srv.reply("-ERR invalid")
        srv.close()
        return
    srv.reply("-ERR command not found")

# -- individual commands ---------------------------------------------------------
def cmd_filter(srv: EslServerProtocol, rest: str) -> None:
    header_name = rest.lstrip(" ")
    header_name, sep, header_val = header_name.partition(" ")
    if header_name.lower() == "delete" and sep:
        name, sep2, val = header_val.partition(" ")
        if name.lower() == "all":
            srv.filters.clear()
        elif sep2:
            srv.filters = [(n, v) for n, v in srv.filters if not (n == name and v == val)]
        else:
            srv.filters = [(n, v) for n, v in srv.filters if n != name]
        srv.reply(f"+OK filter deleted. [{name}][{val}]")
        return
    if sep:
        if header_name.lower() == "add":
            header_name, _, header_val = header_val.partition(" ")
        srv.filters.append((header_name, header_val))
        srv.reply(f"+OK filter added. [{header_name}]=[{header_val}]")
        return
    srv.reply("-ERR invalid syntax")

def set_event_name(srv: EslServerProtocol, word: str, on: bool) -> bool:
    name = EVENT_NAMES_UPPER.get(word.upper())
    if name is None:
        return False
    if name == "ALL":
        srv.all_events = on
        if not on:
            srv.event_names.clear()
    elif on:
        srv.event_names.add(name)
    else:
        if srv.all_events:
            srv.all_events = False
            srv.event_names = {n for n in EVENT_NAMES if n != "ALL"}
        srv.event_names.discard(name)
    return True

def cmd_event(srv: EslServerProtocol, line: str) -> None:
    words = line.split(" ")[1:]
    keys = 0
    custom = False
    for i, word in enumerate(words):
        if not word:
            continue
        if i == 0 and word.lower() in ("plain", "xml", "json"):
            srv.fmt = word.lower()
            continue
        if custom:
            srv.custom_subclasses.add(word)
            continue
        if set_event_name(srv, word, True):
            keys += 1
            if word.upper() == "CUSTOM":
                custom = True
    if not keys:
        srv.reply("-ERR no keywords supplied")
        return
    srv.events_on = True
    srv.host.update_subscriptions()
    srv.reply(f"+OK event listener enabled {srv.fmt}")

def cmd_nixevent(srv: EslServerProtocol, line: str) -> None:
    words = line.split(" ")[1:]
    keys = 0
    custom = False
    for word in words:
        if not word:
            continue
        if custom:
            srv.custom_subclasses.discard(word)
            continue
        if word.upper() == "CUSTOM":
            keys += 1
            custom = True
            continue
        if set_event_name(srv, word, False):
            keys += 1
    if not keys:
        srv.reply("-ERR no keywords supplied")
        return
    srv.events_on = True
    srv.host.update_subscriptions()
    srv.reply("+OK events nixed")

def cmd_myevents(srv: EslServerProtocol, line: str) -> None:
    if srv.myevents:
        srv.reply("-ERR aready enabled.")
        return
    if srv.session is None:
        rest = line[9:].strip() if len(line) > 9 else ""
        uuid, _, fmt = rest.partition(" ")
        chan = srv.host.channels.get(uuid)
        if chan is None or chan.destroyed:
            srv.reply("-ERR invalid uuid")
            return
        srv.session = chan
        chan.holders.add(srv)
    for name in MYEVENTS_SET:
        srv.event_names.add(name)
    srv.myevents = True
    srv.events_on = True
    low = line.lower()
    if "xml" in low:
        srv.fmt = "xml"
    if "json" in low:
        srv.fmt = "json"
    srv.host.update_subscriptions()
    srv.reply("+OK Events Enabled")

def cmd_linger(srv: EslServerProtocol, line: str) -> None:
    if srv.session is None:
        srv.reply("-ERR not controlling a session")
        return
    arg = line[7:].strip() if len(line) > 7 and line[6] == " " else ""
    if arg:
        try:
            srv.linger = int(arg)
        except ValueError:
            srv.linger = 0
        srv.reply(f"+OK will linger {srv.linger} seconds")
    else:
        srv.linger = -1
        srv.reply("+OK will linger")

def cmd_log(srv: EslServerProtocol, line: str) -> None:
    level_s = line[3:]
    if level_s:
        level_s = level_s[1:]
    level = parse_log_level(level_s) if level_s else 7
    if level is None:
        srv.reply("-ERR invalid log level")
        return
    srv.log_level = level
    srv.host.update_subscriptions()
    srv.reply(f"+OK log level {level_s} [{level}]")

def cmd_sendmsg(srv: EslServerProtocol, cmd: Command) -> None:
    uuid = cmd.line[7:].strip()
    if not uuid:
        uuid = cmd.headers.get("session-id", "") or (srv.session.uuid if srv.session else "")
    chan = srv.host.channels.get(uuid)
    if chan is None or chan.destroyed:
        srv.reply(f"-ERR invalid session id [{uuid}]")
        return
    queue_message(chan, cmd)
    srv.reply("+OK")

def cmd_sendevent(srv: EslServerProtocol, cmd: Command) -> None:
    name = cmd.line[9:].strip() or "CUSTOM"
    event_uuid = str(uuidlib.uuid4())
    known = EVENT_NAMES_UPPER.get(name.upper(), "CUSTOM")
    pairs = [(k, v) for k, v in cmd.headers.items() if k.lower() != "content-length"]
    pairs.append(("Event-UUID", event_uuid))
    body = cmd.body.decode("utf-8", "replace") if cmd.body else None
    srv.host.bus.fire(known, post=pairs, body=body)
    srv.reply(f"+OK {event_uuid}")

def cmd_api(srv: EslServerProtocol, rest: str) -> Awaitable[Any] | None:
    name, _, arg = rest.partition(" ")
    # events the command causes reach this client after its response, as in FreeSWITCH
    srv.hold()
    try:
        api_ev, result = run_api(srv.host, name, arg)
    except Exception:
        srv.unhold()
        raise
    if isinstance(result, str):
        held = srv.unhold()
        srv.write(serialize.api_response(result or "-ERR no reply\n"))
        if held:
            srv.release_held(held)
        if api_ev is not None:
            srv.host.bus.dispatch(api_ev)
        return None

    async def wait() -> None:
        text = await result
        srv.write(serialize.api_response(text or "-ERR no reply\n"))
        if api_ev is not None:
            # the held events go out first (they were queued before the API event)
            held = srv.unhold()
            if held:
                srv.release_held(held)
            srv.host.bus.dispatch(api_ev)
    return wait()


def cmd_bgapi(srv: EslServerProtocol, rest: str, headers: dict[str, str]) -> None:
    name, _, arg = rest.partition(" ")
    job = headers.get("Job-UUID") or headers.get("job-uuid") or str(uuidlib.uuid4())
    srv.reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)])
    api_ev, result = run_api(srv.host, name, arg)
    host = srv.host

    def finish(text: str) -> None:
        if api_ev is not None:
            host.bus.dispatch(api_ev)
        post = [("Job-UUID", job), ("Job-Command", name)]
        if arg:
            post.append(("Job-Command-Arg", arg))
        host.fire("BACKGROUND_JOB", post=post, body=text or "-ERR no reply\n")

    if isinstance(result, str):
        host.later(0, finish, result)
    else:
        result.add_done_callback(finish)
