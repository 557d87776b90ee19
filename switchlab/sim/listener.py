"""The event-socket protocol of one client connection (``mod_event_socket``).

Reply texts, typos included, are FreeSWITCH's (``-ERR aready enabled.``,
``-ERR not loging``). A client that sends garbage or vanishes mid-frame only
loses its own connection; the problem is logged on ``switchlab.sim``.

Commands run in arrival order. A blocking ``api`` (e.g. ``originate``) holds
later commands and this connection's events until its response is written, as
FreeSWITCH's single listener thread does.
"""
from __future__ import annotations

import asyncio
import logging
import re
import uuid as uuidlib
from collections import deque
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from ..errors import ProtocolError
from ..wire import serialize
from ..wire.parser import Command, CommandParser
from .events import SimEvent
from .templates import EVENT_NAMES

if TYPE_CHECKING:
    from .channel import Channel
    from .host import EmulatedHost

log = logging.getLogger("switchlab.sim")

_EVENT_NAMES_UPPER = {n.upper(): n for n in EVENT_NAMES}
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
#: stop queueing events for a client whose socket buffer holds this many bytes (about
#: FreeSWITCH's listener queue of 100 000 events, MAX_QUEUE_LEN in mod_event_socket)
MAX_BUFFERED = 256 * 1024 * 1024
#: a client that lost more events than this in a row is disconnected (MAX_MISSED)
MAX_MISSED = 500


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


class Listener(asyncio.Protocol):
    """One inbound event-socket connection to an emulated host."""

    def __init__(self, host: EmulatedHost) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.parser = CommandParser()
        self.authed = False
        self.closed = False
        self.fmt = "plain"
        self.events_on = False
        self.all_events = False
        self.event_names: set[str] = set()
        self.custom_subclasses: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.myevents = False
        self.session: Channel | None = None
        self.linger: int | None = None
        self.lingering = False
        self.log_level: int | None = None
        self.lost_events = 0
        self._busy = False
        self._backlog: deque[Command] = deque()
        self._held: list[bytes] | None = None
        self._out: list[bytes] = []

    # -- asyncio.Protocol -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = f"{peer[0]}:{peer[1]}"
        self.host.add_listener(self)
        self._write(serialize.AUTH_REQUEST_FRAME)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            commands = self.parser.feed(data)
        except ProtocolError as exc:
            log.warning("%s: client %s sent bytes that are not event-socket commands (%s); "
                        "closing that connection only", self.host.hostname, self.peer, exc)
            self.close(notice=False)
            return
        for cmd in commands:
            if self.closed:
                return
            if self._busy:
                self._backlog.append(cmd)
            else:
                self._run(cmd)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.parser.pending:
            log.warning("%s: client %s went away in the middle of a command (%d bytes "
                        "unread)", self.host.hostname, self.peer, self.parser.pending)
        elif exc is not None:
            log.info("%s: client %s connection lost: %s", self.host.hostname, self.peer, exc)
        self._teardown()

    # -- output ----------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        """Write in order after whatever events are queued for this loop iteration."""
        t = self.transport
        if t is not None and not self.closed and not t.is_closing():
            if self._out:
                self._flush()
            t.write(data)

    def _queue_out(self, data: bytes) -> None:
        """Events are gathered and written once per loop iteration (fewer syscalls)."""
        out = self._out
        out.append(data)
        if len(out) == 1:
            self.host.loop.call_soon(self._flush)
        elif len(out) >= 64:
            self._flush()

    def _flush(self) -> None:
        out = self._out
        if not out:
            return
        self._out = []
        t = self.transport
        if t is not None and not self.closed and not t.is_closing():
            t.writelines(out)  # uvloop: one writev, no joined copy

    def reply(self, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        self._write(serialize.command_reply(text, extra or ()))

    def deliver(self, ev: SimEvent) -> None:
        """Queue an event for this client if its subscription and filters let it through."""
        if self.closed or not self.events_on:
            return
        name = ev.name
        if not self.all_events and name not in self.event_names:
            return
        if name == "CUSTOM" and self.custom_subclasses and not self.all_events:
            sub = ev.get("Event-Subclass")
            if sub not in self.custom_subclasses:
                return
        if self.filters and not self._passes_filters(ev):
            return
        if self.myevents:
            session = self.session
            if ev.unique_id is None or (session is not None and ev.unique_id != session.uuid):
                return
        t = self.transport
        if t is None or t.is_closing():
            return
        if t.get_write_buffer_size() > MAX_BUFFERED:
            self.lost_events += 1
            if self.lost_events == 1:
                log.warning("%s: client %s reads too slowly; dropping events",
                            self.host.hostname, self.peer)
            elif self.lost_events > MAX_MISSED:
                log.error("%s: client %s lost %d events; disconnecting it (as FreeSWITCH "
                          "kills a listener whose queue stays full)",
                          self.host.hostname, self.peer, self.lost_events)
                t.abort()
            return
        if self.lost_events:
            log.critical("%s: client %s: lost [%d] events!", self.host.hostname, self.peer,
                         self.lost_events)
            self.lost_events = 0
        data = ev.frame(self.fmt)
        if self._held is not None:
            self._held.append(data)
        else:
            self._queue_out(data)

    def deliver_log(self, text: str, headers: list[tuple[str, str]]) -> None:
        self._emit(serialize.log_data(text, headers))

    def _emit(self, data: bytes) -> None:
        """Write now, or after the response of the api command running now."""
        if self._held is not None:
            self._held.append(data)
        else:
            self._write(data)

    def _passes_filters(self, ev: SimEvent) -> bool:
        send = False
        for name, value in self.filters:
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

    # -- lifecycle -------------------------------------------------------------------
    def close(self, notice: bool = True) -> None:
        """Send the disconnect notice (if asked) and close the socket."""
        if self.closed:
            return
        if notice:
            extra: list[tuple[str, str]] = []
            if self.session is not None:
                extra = [("Controlled-Session-UUID", self.session.uuid),
                         ("Content-Disposition", "disconnect")]
            self._write(serialize.disconnect_notice(extra))
        if self.transport is not None:
            self.transport.close()
        self._teardown()

    def _teardown(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        self.host.remove_listener(self)
        session, self.session = self.session, None
        if session is not None:
            from .callflow import release_session
            release_session(session, self)

    def session_down(self, chan: Channel) -> None:
        """The controlled session hung up: linger notice, or disconnect."""
        if self.closed or chan is not self.session:
            return
        if self.linger is not None:
            if not self.lingering:
                self.lingering = True
                self._emit(serialize.disconnect_notice(
                    [("Controlled-Session-UUID", chan.uuid), ("Content-Disposition", "linger"),
                     ("Channel-Name", chan.name), ("Linger-Time", str(self.linger))],
                    body=b""))
                if self.linger >= 0:
                    self.host.later(float(self.linger), self.close)
        else:
            self.host.later(self.host.tick(), self.close)

    # -- command processing --------------------------------------------------------
    def _run(self, cmd: Command) -> None:
        try:
            pending = self._handle(cmd)
        except Exception:
            log.exception("%s: command %r from %s failed inside the emulator",
                          self.host.hostname, cmd.line[:80], self.peer)
            self.reply("-ERR command failed")
            return
        if pending is not None:
            self._busy = True
            if self._held is None:
                self._held = []
            self.host.loop.create_task(self._finish(pending))

    async def _finish(self, pending: Awaitable[Any]) -> None:
        try:
            await pending
        except Exception:
            log.exception("%s: blocking command from %s failed", self.host.hostname, self.peer)
        finally:
            held, self._held = self._held, None
            if held and not self.closed:
                self._write(b"".join(held))
            self._busy = False
            while self._backlog and not self._busy and not self.closed:
                self._run(self._backlog.popleft())

    def _handle(self, cmd: Command) -> Awaitable[Any] | None:
        line = cmd.line
        low = line.lower()
        if low.startswith("exit") or line.startswith("..."):
            self.reply("+OK bye")
            self.close()
            return None
        if not self.authed:
            return self._handle_unauthed(line)
        if low.startswith("filter "):
            self._cmd_filter(line[7:])
            return None
        if self.session is not None or low.startswith("myevents "):
            if low.startswith("myevents"):
                self._cmd_myevents(line)
                return None
            if low.startswith("getvar"):
                _, _, name = line.partition(" ")
                self.reply(self.session.vars.get(name.strip(), "") if self.session else "")
                return None
        if low.startswith("divert_events"):
            self.reply("-ERR not controlling a session.")
            return None
        if low.startswith("sendmsg"):
            self._cmd_sendmsg(cmd)
            return None
        if low.startswith("sendevent"):
            self._cmd_sendevent(cmd)
            return None
        if low.startswith("api "):
            return self._cmd_api(line[4:])
        if low.startswith("bgapi "):
            self._cmd_bgapi(line[6:], cmd.headers)
            return None
        if low.startswith("log"):
            self._cmd_log(line)
            return None
        if low.startswith("linger"):
            self._cmd_linger(line)
            return None
        if low.startswith("nolinger"):
            if self.session is not None:
                self.linger = None
                self.reply("+OK will not linger")
            else:
                self.reply("-ERR not controlling a session")
            return None
        if low.startswith("nolog"):
            if self.log_level is not None:
                self.log_level = None
                self.host.update_subscriptions()
                self.reply("+OK no longer logging")
            else:
                self.reply("-ERR not loging")
            return None
        if low.startswith("event"):
            self._cmd_event(line)
            return None
        if low.startswith("nixevent"):
            self._cmd_nixevent(line)
            return None
        if low.startswith("noevents"):
            if self.events_on:
                self.events_on = False
                self.all_events = False
                self.event_names.clear()
                self.custom_subclasses.clear()
                self.host.update_subscriptions()
                self.reply("+OK no longer listening for events")
            else:
                self.reply("-ERR not listening for events")
            return None
        self.reply("-ERR command not found")
        return None

    def _handle_unauthed(self, line: str) -> None:
        if line.lower().startswith("auth "):
            if line[5:] == self.host.emulator.password:
                self.authed = True
                self.reply("+OK accepted")
            else:
                log.info("%s: client %s gave a wrong password", self.host.hostname, self.peer)
                self.reply("-ERR invalid")
                self.close()
            return
        if line.lower().startswith("userauth "):
            self.reply("-ERR invalid")
            self.close()
            return
        self.reply("-ERR command not found")

    # -- individual commands ---------------------------------------------------------
    def _cmd_filter(self, rest: str) -> None:
        header_name = rest.lstrip(" ")
        header_name, sep, header_val = header_name.partition(" ")
        if header_name.lower() == "delete" and sep:
            name, sep2, val = header_val.partition(" ")
            if name.lower() == "all":
                self.filters.clear()
            elif sep2:
                self.filters = [(n, v) for n, v in self.filters if not (n == name and v == val)]
            else:
                self.filters = [(n, v) for n, v in self.filters if n != name]
            self.reply(f"+OK filter deleted. [{name}][{val}]")
            return
        if sep:
            if header_name.lower() == "add":
                header_name, _, header_val = header_val.partition(" ")
            self.filters.append((header_name, header_val))
            self.reply(f"+OK filter added. [{header_name}]=[{header_val}]")
            return
        self.reply("-ERR invalid syntax")

    def _set_event_name(self, word: str, on: bool) -> bool:
        name = _EVENT_NAMES_UPPER.get(word.upper())
        if name is None:
            return False
        if name == "ALL":
            self.all_events = on
            if not on:
                self.event_names.clear()
        elif on:
            self.event_names.add(name)
        else:
            if self.all_events:
                self.all_events = False
                self.event_names = {n for n in EVENT_NAMES if n != "ALL"}
            self.event_names.discard(name)
        return True

    def _cmd_event(self, line: str) -> None:
        words = line.split(" ")[1:]
        keys = 0
        custom = False
        for i, word in enumerate(words):
            if not word:
                continue
            if i == 0 and word.lower() in ("plain", "xml", "json"):
                self.fmt = word.lower()
                continue
            if custom:
                self.custom_subclasses.add(word)
                continue
            if self._set_event_name(word, True):
                keys += 1
                if word.upper() == "CUSTOM":
                    custom = True
        if not keys:
            self.reply("-ERR no keywords supplied")
            return
        self.events_on = True
        self.host.update_subscriptions()
        self.reply(f"+OK event listener enabled {self.fmt}")

    def _cmd_nixevent(self, line: str) -> None:
        words = line.split(" ")[1:]
        keys = 0
        custom = False
        for word in words:
            if not word:
                continue
            if custom:
                self.custom_subclasses.discard(word)
                continue
            if word.upper() == "CUSTOM":
                keys += 1
                custom = True
                continue
            if self._set_event_name(word, False):
                keys += 1
        if not keys:
            self.reply("-ERR no keywords supplied")
            return
        self.events_on = True
        self.host.update_subscriptions()
        self.reply("+OK events nixed")

    def _cmd_myevents(self, line: str) -> None:
        if self.myevents:
            self.reply("-ERR aready enabled.")
            return
        if self.session is None:
            rest = line[9:].strip() if len(line) > 9 else ""
            uuid, _, fmt = rest.partition(" ")
            chan = self.host.channels.get(uuid)
            if chan is None or chan.destroyed:
                self.reply("-ERR invalid uuid")
                return
            self.session = chan
            chan.holders.add(self)
        for name in MYEVENTS_SET:
            self.event_names.add(name)
        self.myevents = True
        self.events_on = True
        low = line.lower()
        if "xml" in low:
            self.fmt = "xml"
        if "json" in low:
            self.fmt = "json"
        self.host.update_subscriptions()
        self.reply("+OK Events Enabled")

    def _cmd_linger(self, line: str) -> None:
        if self.session is None:
            self.reply("-ERR not controlling a session")
            return
        arg = line[7:].strip() if len(line) > 7 and line[6] == " " else ""
        if arg:
            try:
                self.linger = int(arg)
            except ValueError:
                self.linger = 0
            self.reply(f"+OK will linger {self.linger} seconds")
        else:
            self.linger = -1
            self.reply("+OK will linger")

    def _cmd_log(self, line: str) -> None:
        level_s = line[3:]
        if level_s:
            level_s = level_s[1:]
        level = parse_log_level(level_s) if level_s else 7
        if level is None:
            self.reply("-ERR invalid log level")
            return
        self.log_level = level
        self.host.update_subscriptions()
        self.reply(f"+OK log level {level_s} [{level}]")

    def _cmd_sendmsg(self, cmd: Command) -> None:
        uuid = cmd.line[7:].strip()
        if not uuid:
            uuid = cmd.headers.get("session-id", "") or (self.session.uuid if self.session else "")
        chan = self.host.channels.get(uuid)
        if chan is None or chan.destroyed:
            self.reply(f"-ERR invalid session id [{uuid}]")
            return
        from .apps import queue_message
        queue_message(chan, cmd)
        self.reply("+OK")

    def _cmd_sendevent(self, cmd: Command) -> None:
        name = cmd.line[9:].strip() or "CUSTOM"
        event_uuid = str(uuidlib.uuid4())
        known = _EVENT_NAMES_UPPER.get(name.upper(), "CUSTOM")
        pairs = [(k, v) for k, v in cmd.headers.items() if k.lower() != "content-length"]
        pairs.append(("Event-UUID", event_uuid))
        body = cmd.body.decode("utf-8", "replace") if cmd.body else None
        self.host.fire(known, post=pairs, body=body)
        self.reply(f"+OK {event_uuid}")

    def _cmd_api(self, rest: str) -> Awaitable[Any] | None:
        from .api import run_api
        name, _, arg = rest.partition(" ")
        # events the command causes reach this client after its response, as in FreeSWITCH
        self._held = []
        try:
            api_ev, result = run_api(self.host, name, arg)
        except Exception:
            self._held = None
            raise
        if isinstance(result, str):
            held, self._held = self._held, None
            self._write(serialize.api_response(result or "-ERR no reply\n"))
            if held:
                self._write(b"".join(held))
            if api_ev is not None:
                self.host.dispatch(api_ev)
            return None

        async def wait() -> None:
            text = await result
            self._write(serialize.api_response(text or "-ERR no reply\n"))
            if api_ev is not None:
                # the held events go out first (they were queued before the API event)
                held, self._held = self._held, None
                if held:
                    self._write(b"".join(held))
                self.host.dispatch(api_ev)
        return wait()

    def _cmd_bgapi(self, rest: str, headers: dict[str, str]) -> None:
        from .api import run_api
        name, _, arg = rest.partition(" ")
        job = headers.get("Job-UUID") or headers.get("job-uuid") or str(uuidlib.uuid4())
        self.reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)])
        api_ev, result = run_api(self.host, name, arg)
        host = self.host

        def finish(text: str) -> None:
            if api_ev is not None:
                host.dispatch(api_ev)
            post = [("Job-UUID", job), ("Job-Command", name)]
            if arg:
                post.append(("Job-Command-Arg", arg))
            host.fire("BACKGROUND_JOB", post=post, body=text or "-ERR no reply\n")

        if isinstance(result, str):
            host.later(0, finish, result)
        else:
            result.add_done_callback(finish)
