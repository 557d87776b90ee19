"""Running dialplan applications on a channel (from the dialplan, originate or sendmsg).

Each application fires CHANNEL_EXECUTE, does its work (possibly over time) and
fires CHANNEL_EXECUTE_COMPLETE; one sent with ``sendmsg`` is followed by a
PRIVATE_COMMAND event carrying the message's headers, if the channel had media
when the message was taken (``switch_ivr_park`` destroys the message of a
channel without media instead of firing it). ``park`` never
completes by itself: messages sent to a parked channel run inside the park,
as in FreeSWITCH. Any name not in :data:`APPS` is an invalid application:
FreeSWITCH logs it and hangs the channel up with ``DESTINATION_OUT_OF_ORDER``.

The applications themselves register in :data:`APPS` (and, if a hangup must
stop them, :data:`STOPPERS`); see :mod:`switchlab.sim.mod_dptools`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..calls.lifecycle import hangup
from ..model import causes, sip
from ..model.channel import Channel
from ..model.expand import expand

if TYPE_CHECKING:
    from ...wire.parser import Command

log = logging.getLogger("switchlab.sim")


@dataclass(slots=True)
class AppRun:
    """One application running on a channel."""

    name: str
    data: str
    uuid: str
    source: str
    on_done: Callable[[], None] | None = None
    lead: list[tuple[str, str]] = field(default_factory=list)
    handle: Any = None
    state: dict[str, Any] = field(default_factory=dict)
    finished: bool = False


AppFn = Callable[[Channel, AppRun], None]
#: application name -> implementation (filled by the application modules' registration)
APPS: dict[str, AppFn] = {}
#: what to do with a running application when the channel hangs up (before its COMPLETE)
STOPPERS: dict[str, AppFn] = {}
#: run after the applications of a hung-up channel are stopped (e.g. end a recording)
CLEANUPS: list[Callable[[Channel], None]] = []


def app_stack(chan: Channel) -> list[AppRun]:
    """The applications running on ``chan``, innermost last."""
    return chan.app_stack


def _sync_current(chan: Channel) -> None:
    stack = chan.app_stack
    chan.app = stack[-1].name if stack else None
    chan.app_data = stack[-1].data if stack else ""


class _Sequence:
    """Applications run one after the other (a class, not a closure: no reference cycle)."""

    __slots__ = ("chan", "todo", "source")

    def __init__(self, chan: Channel, apps: list[tuple[str, str]], source: str) -> None:
        self.chan = chan
        self.todo = list(apps)
        self.source = source

    def step(self) -> None:
        chan = self.chan
        if chan.dead:
            return
        if not self.todo:
            # the extension / the originate's application is over: FreeSWITCH hangs up
            if not chan.pending:
                hangup(chan, "NORMAL_CLEARING")
            else:
                pump(chan)
            return
        name, data = self.todo.pop(0)
        start_app(chan, name, data, self.source, on_done=self.step)


def run_apps(chan: Channel, apps: list[tuple[str, str]], source: str) -> None:
    """Run ``apps`` one after the other on ``chan``."""
    _Sequence(chan, apps, source).step()


def start_app(chan: Channel, name: str, data: str, source: str,
              on_done: Callable[[], None] | None = None,
              lead: list[tuple[str, str]] | None = None, event_uuid: str | None = None,
              loop_vars: bool = False, private: bool = True) -> None:
    """Fire CHANNEL_EXECUTE and start application ``name`` (``private``: a sendmsg
    that ends with a PRIVATE_COMMAND event)."""
    impl = APPS.get(name)
    host = chan.host
    if impl is None:
        host.log(3, "switch_core_session.c", "switch_core_session_execute_application_get_flags",
                 2689, f"Invalid Application {name}", chan, text_channel=0)
        log.info("%s: channel %s asked for unknown application %r; hanging it up",
                 host.hostname, chan.uuid, name)
        hangup(chan, "DESTINATION_OUT_OF_ORDER")
        return
    data = expand(data, chan.get_var, host.global_vars)
    run = AppRun(name, data, event_uuid or sip.new_uuid(), source, on_done, list(lead or ()))
    if not private:
        run.state["no_private"] = True
    if not chan.facts.get("_executed"):
        chan.facts["_executed"] = True
        chan.set_var("call_uuid", chan.var("call_uuid", chan.uuid))
    if loop_vars:
        chan.set_var("current_loop", "1")
        chan.set_var("total_loops", "1")
    chan.unset_var("current_application_response")  # each application sets its own
    chan.set_var("current_application", name)
    if data:
        chan.set_var("current_application_data", data)
    elif chan.has_var("current_application_data"):
        chan.unset_var("current_application_data")  # as FreeSWITCH: no stale data
    chan.last_app = name
    chan.last_arg = data
    chan.app_stack.append(run)
    _sync_current(chan)
    post = [("Application", name)]
    if data:
        post.append(("Application-Data", data))
    post.append(("Application-UUID", run.uuid))
    chan.fire("CHANNEL_EXECUTE", post=post)
    # switch_core_session_exec sets current_application again after CHANNEL_EXECUTE (just
    # before the application function): it moves behind current_application_data
    chan.set_var("current_application", name)
    if (source != "sendmsg" or name == "park") and host.bus.log_max_level >= 6:
        host.log(6, "switch_core_session.c", "switch_core_session_exec", 2907,
                 f"EXECUTE [depth=0] {chan.name} {name}({'' if name == 'park' else data})",
                 chan, text_channel=1, prefix=False)
    impl(chan, run)


def complete(chan: Channel, run: AppRun, response: str | None = None) -> None:
    """Fire CHANNEL_EXECUTE_COMPLETE (and PRIVATE_COMMAND for sendmsg), then go on."""
    if run.finished:
        return
    run.finished = True
    if run.handle is not None:
        run.handle.cancel()
        run.handle = None
    if response is not None:
        chan.set_var("current_application_response", response)
    stack = chan.app_stack
    if run in stack:
        stack.remove(run)
    _sync_current(chan)
    resp = chan.var("current_application_response", "_none_")
    post = [("Application", run.name)]
    if run.data:
        post.append(("Application-Data", run.data))
    post += [("Application-Response", resp), ("Application-UUID", run.uuid)]
    chan.fire("CHANNEL_EXECUTE_COMPLETE", post=post)
    if run.source == "sendmsg":
        if not run.state.get("no_private"):
            chan.fire("PRIVATE_COMMAND", lead=run.lead, extended=False)
        chan.unset_var("current_loop")
        chan.unset_var("total_loops")
    if run.on_done is not None and not chan.dead:
        run.on_done()


def leave_apps(chan: Channel) -> None:
    """Stop what runs on ``chan`` (innermost first), with the matching events."""
    stack = chan.app_stack
    while stack:
        run = stack[-1]
        run.on_done = None
        stop = STOPPERS.get(run.name)
        if stop is not None:
            stop(chan, run)
        complete(chan, run)


def interrupt_app(chan: Channel) -> None:
    """The channel hung up: stop what runs, then the cleanups (a recording ends)."""
    leave_apps(chan)
    for cleanup in CLEANUPS:
        cleanup(chan)


Message = tuple[str, str, str, int, "str | None", list[tuple[str, str]]]


def parse_message(cmd: Command, lead: list[tuple[str, str]] | None = None) -> Message | None:
    """A ``sendmsg``'s ``(kind, app or cause, arg, loops, event uuid, lead headers)``;
    None for the call-commands that are accepted and ignored (unicast, nomedia, ...).
    ``lead``: the headers its PRIVATE_COMMAND starts with (default: the command's own)."""
    headers = {k.lower(): v for k, v in cmd.headers.items()}
    call_command = headers.get("call-command", "")
    if lead is None:
        lead = [("Command", cmd.line)] + [(k, v) for k, v in cmd.headers.items()
                                          if k.lower() != "content-length"]
    if call_command == "execute":
        app = headers.get("execute-app-name", "")
        arg = headers.get("execute-app-arg", "")
        if not arg and cmd.body:
            arg = cmd.body.decode("utf-8", "replace").strip("\n")
        try:
            loops = max(1, int(headers.get("loops", "1")))
        except ValueError:
            loops = 1
        return ("execute", app, arg, loops, headers.get("event-uuid"), lead)
    if call_command == "hangup":
        return ("hangup", headers.get("hangup-cause", "NORMAL_CLEARING"), "", 1, None, lead)
    return None


def queue_message(chan: Channel, cmd: Command,
                  lead: list[tuple[str, str]] | None = None) -> None:
    """A ``sendmsg`` for this channel (executed when the channel can take it)."""
    msg = parse_message(cmd, lead)
    if msg is None:
        return  # unicast, nomedia, xferext...: accepted and ignored
    chan.pending.append(msg)
    chan.host.later(chan.host.tick(), pump, chan, chan=chan)


def _idle(chan: Channel) -> bool:
    stack = chan.app_stack
    # an async outbound ``socket`` parks the channel: messages run inside it
    return not stack or stack[-1].name in ("park", "echo") or (
        stack[-1].name == "socket" and chan.parked)


def pump(chan: Channel) -> None:
    """Run the next queued sendmsg if the channel is free to (parked or idle)."""
    if chan.dead or not chan.pending or not _idle(chan):
        return
    if chan.state_name not in ("CS_EXECUTE", "CS_SOFT_EXECUTE", "CS_EXCHANGE_MEDIA", "CS_PARK"):
        return
    kind, app, arg, loops, event_uuid, lead = chan.pending.pop(0)
    if kind == "hangup":
        hangup(chan, app if causes.is_cause(app) else "NORMAL_CLEARING")
        return
    _Message(chan, app, arg, loops, event_uuid, lead).run()


class _Message:
    """One sendmsg execute, repeated ``loops`` times; then the next queued message, or
    ``on_end()`` (a sync outbound socket runs its messages itself: ``source`` "socket")."""

    __slots__ = ("chan", "app", "arg", "loops", "event_uuid", "lead", "source", "on_end",
                 "media_up")

    def __init__(self, chan: Channel, app: str, arg: str, loops: int, event_uuid: str | None,
                 lead: list[tuple[str, str]], source: str = "sendmsg",
                 on_end: Callable[[], None] | None = None) -> None:
        self.chan, self.app, self.arg, self.loops = chan, app, arg, loops
        self.event_uuid, self.lead = event_uuid, lead
        self.source, self.on_end = source, on_end
        self.media_up = chan.answered or chan.early

    def run(self) -> None:
        start_app(self.chan, self.app, self.arg, self.source, on_done=self.again, lead=self.lead,
                  event_uuid=self.event_uuid, loop_vars=True, private=self.media_up)

    def again(self) -> None:
        self.loops -= 1
        chan = self.chan
        if self.loops > 0 and not chan.dead:
            self.run()
        elif self.on_end is not None:
            chan.unset_var("current_loop")
            chan.unset_var("total_loops")
            self.on_end()
        else:
            chan.host.later(0, pump, chan, chan=chan)


def run_message(chan: Channel, msg: Message, source: str, on_end: Callable[[], None]) -> None:
    """Run an ``execute`` message now (not queued); ``on_end()`` once its loops are done."""
    _kind, app, arg, loops, event_uuid, lead = msg
    _Message(chan, app, arg, loops, event_uuid, lead, source, on_end).run()
