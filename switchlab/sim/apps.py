"""Dialplan applications a channel can execute (from the dialplan, originate or sendmsg).

Each application fires CHANNEL_EXECUTE, does its work (possibly over time) and
fires CHANNEL_EXECUTE_COMPLETE; one sent with ``sendmsg`` is followed by a
PRIVATE_COMMAND event carrying the message's headers. ``park`` never
completes by itself: messages sent to a parked channel run inside the park,
as in FreeSWITCH.

Supported: answer, pre_answer, ring_ready, respond, hangup, park, playback,
record_session, stop_record_session, bridge, echo, sleep, set, export,
send_dtmf, info, log. Any other name is an invalid application: FreeSWITCH
logs it and hangs the channel up with ``DESTINATION_OUT_OF_ORDER``.
"""
from __future__ import annotations

import logging
import os
import re
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import causes, sip
from .callflow import answer_channel, hangup, ring_ready

if TYPE_CHECKING:
    from ..wire.parser import Command
    from .channel import Channel

log = logging.getLogger("switchlab.sim")


@dataclass
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


def _stack(chan: Channel) -> list[AppRun]:
    stack = chan.facts.get("_apps")
    if stack is None:
        stack = chan.facts["_apps"] = []
    return stack


def _sync_current(chan: Channel) -> None:
    stack = _stack(chan)
    chan.app = stack[-1].name if stack else None
    chan.app_data = stack[-1].data if stack else ""


# -- running applications ------------------------------------------------------------------
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
              loop_vars: bool = False) -> None:
    """Fire CHANNEL_EXECUTE and start application ``name``."""
    impl = APPS.get(name)
    host = chan.host
    if impl is None:
        host.log(3, "switch_core_session.c", "switch_core_session_execute_application_get_flags",
                 2689, f"Invalid Application {name}", chan, text_channel=0)
        log.info("%s: channel %s asked for unknown application %r; hanging it up",
                 host.hostname, chan.uuid, name)
        hangup(chan, "DESTINATION_OUT_OF_ORDER")
        return
    run = AppRun(name, data, event_uuid or sip.new_uuid(), source, on_done, list(lead or ()))
    if not chan.facts.get("_executed"):
        chan.facts["_executed"] = True
        chan.set_var("call_uuid", chan.vars.get("call_uuid", chan.uuid))
    if loop_vars:
        chan.set_var("current_loop", "1")
        chan.set_var("total_loops", "1")
    chan.set_var("current_application", name)
    if data:
        chan.set_var("current_application_data", data)
    chan.last_app = name
    chan.last_arg = data
    _stack(chan).append(run)
    _sync_current(chan)
    post = [("Application", name)]
    if data:
        post.append(("Application-Data", data))
    post.append(("Application-UUID", run.uuid))
    chan.fire("CHANNEL_EXECUTE", post=post)
    if source != "sendmsg" and name != "park":
        host.log(6, "switch_core_session.c", "switch_core_session_exec", 2907,
                 f"EXECUTE [depth=0] {chan.name} {name}({data})", chan, text_channel=1,
                 prefix=False)
    elif name == "park":
        host.log(6, "switch_core_session.c", "switch_core_session_exec", 2907,
                 f"EXECUTE [depth=0] {chan.name} park()", chan, text_channel=1, prefix=False)
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
    stack = _stack(chan)
    if run in stack:
        stack.remove(run)
    _sync_current(chan)
    resp = chan.vars.get("current_application_response", "_none_")
    post = [("Application", run.name)]
    if run.data:
        post.append(("Application-Data", run.data))
    post += [("Application-Response", resp), ("Application-UUID", run.uuid)]
    chan.fire("CHANNEL_EXECUTE_COMPLETE", post=post)
    if run.source == "sendmsg":
        chan.fire("PRIVATE_COMMAND", lead=run.lead, extended=False)
        chan.unset_var("current_loop")
        chan.unset_var("total_loops")
    if run.on_done is not None and not chan.dead:
        run.on_done()


def interrupt_app(chan: Channel) -> None:
    """The channel hung up: stop what runs (innermost first), with the matching events."""
    stack = _stack(chan)
    while stack:
        run = stack[-1]
        stop = STOPPERS.get(run.name)
        run.on_done = None
        if stop is not None:
            stop(chan, run)
        complete(chan, run)
    if chan.record is not None:
        _stop_recording(chan)


# -- sendmsg ---------------------------------------------------------------------------------
def queue_message(chan: Channel, cmd: Command) -> None:
    """A ``sendmsg`` for this channel (executed when the channel can take it)."""
    headers = {k.lower(): v for k, v in cmd.headers.items()}
    call_command = headers.get("call-command", "")
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
        chan.pending.append(("execute", app, arg, loops, headers.get("event-uuid"), lead))
    elif call_command == "hangup":
        chan.pending.append(("hangup", headers.get("hangup-cause", "NORMAL_CLEARING"), "", 1,
                             None, lead))
    else:
        return  # unicast, nomedia, xferext...: accepted and ignored
    chan.host.later(chan.host.tick(), pump, chan, chan=chan)


def _idle(chan: Channel) -> bool:
    stack = _stack(chan)
    return not stack or stack[-1].name in ("park", "echo")


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
    """One sendmsg execute, repeated ``loops`` times."""

    __slots__ = ("chan", "app", "arg", "loops", "event_uuid", "lead")

    def __init__(self, chan: Channel, app: str, arg: str, loops: int, event_uuid: str | None,
                 lead: list[tuple[str, str]]) -> None:
        self.chan, self.app, self.arg, self.loops = chan, app, arg, loops
        self.event_uuid, self.lead = event_uuid, lead

    def run(self) -> None:
        start_app(self.chan, self.app, self.arg, "sendmsg", on_done=self.again, lead=self.lead,
                  event_uuid=self.event_uuid, loop_vars=True)

    def again(self) -> None:
        self.loops -= 1
        chan = self.chan
        if self.loops > 0 and not chan.dead:
            self.run()
        else:
            chan.host.later(0, pump, chan, chan=chan)


# -- the applications ------------------------------------------------------------------------
def app_answer(chan: Channel, run: AppRun) -> None:
    answer_channel(chan)
    if chan.direction == "inbound":
        chan.set_var("endpoint_disposition", "ANSWER")
    complete(chan, run)


def app_pre_answer(chan: Channel, run: AppRun) -> None:
    answer_channel(chan, pre_answer=True)
    complete(chan, run)


def app_ring_ready(chan: Channel, run: AppRun) -> None:
    ring_ready(chan)
    complete(chan, run)


def app_respond(chan: Channel, run: AppRun) -> None:
    word = run.data.split(" ", 1)[0]
    code = int(word) if word.isdigit() else 0
    if code in (180, 181, 182):
        ring_ready(chan)
    elif code == 183:
        answer_channel(chan, pre_answer=True)
    elif 200 <= code < 300:
        answer_channel(chan)
    elif code >= 300 and not chan.answered:
        chan.facts["respond_code"] = code
        hangup(chan, causes.sip_to_cause(code))
        return
    complete(chan, run)


def app_hangup(chan: Channel, run: AppRun) -> None:
    cause = run.data.strip() or "NORMAL_CLEARING"
    hangup(chan, cause if causes.is_cause(cause) else "NORMAL_CLEARING")


def app_park(chan: Channel, run: AppRun) -> None:
    chan.parked = True
    chan.fire("CHANNEL_PARK")
    pump(chan)


def stop_park(chan: Channel, run: AppRun) -> None:
    if chan.parked:
        chan.parked = False
        chan.fire("CHANNEL_UNPARK")


def app_echo(chan: Channel, run: AppRun) -> None:
    pump(chan)


_TONE_SEGMENT = re.compile(r"%\(([^)]*)\)")


def playback_ms(path: str) -> int:
    """How long ``path`` plays: tone_stream segments, silence_stream, or a local WAV."""
    if path.startswith("tone_stream://"):
        spec = path[len("tone_stream://"):]
        loops = 1
        m = re.search(r"(?:^|;)loops=(-?\d+)", spec) or re.search(r"^L=(\d+);", spec)
        if m:
            loops = max(1, int(m.group(1)))
        total = 0
        for seg in _TONE_SEGMENT.findall(spec):
            parts = [p.strip() for p in seg.split(",")]
            try:
                total += int(parts[0]) + (int(parts[1]) if len(parts) > 1 else 0)
            except ValueError:
                continue
        return total * loops if total else 1000
    if path.startswith("silence_stream://"):
        first = path[len("silence_stream://"):].split(",")[0]
        return int(first) if first.isdigit() and int(first) > 0 else 1000
    if os.path.isfile(path) and path.lower().endswith(".wav"):
        try:
            with wave.open(path, "rb") as w:
                return int(1000 * w.getnframes() / max(1, w.getframerate()))
        except (wave.Error, OSError):
            return 1000
    return 1000


def _file_type(path: str) -> str:
    if "://" in path:
        return path.split("://", 1)[0]
    return "native"


def app_playback(chan: Channel, run: AppRun) -> None:
    path = run.data
    ms = playback_ms(path)
    run.state.update(ms=ms, started=chan.host.clock.now_us())
    chan.set_var("current_application", "playback")
    post = [("Playback-File-Type", _file_type(path)), ("Playback-File-Path", path)]
    chan.fire("PLAYBACK_START", post=post)
    run.handle = chan.host.later(ms / 1000.0, _playback_done, chan, run, chan=chan)


def _playback_vars(chan: Channel, ms: int) -> None:
    samples = ms * 8
    chan.set_var("playback_last_offset_pos", str(samples))
    chan.set_var("playback_seconds", str(ms // 1000))
    chan.set_var("playback_ms", str(ms))
    chan.set_var("playback_samples", str(samples))
    chan.media_ms += ms
    peer = chan.bridge or chan.peer
    if peer is not None:
        peer.facts["peer_media_ms"] = peer.facts.get("peer_media_ms", 0) + ms


def _playback_done(chan: Channel, run: AppRun) -> None:
    if chan.dead or run.finished:
        return
    run.handle = None
    _playback_vars(chan, run.state["ms"])
    path = run.data
    chan.fire("PLAYBACK_STOP", post=[("Playback-File-Type", _file_type(path)),
                                     ("Playback-File-Path", path), ("Playback-Status", "done")])
    complete(chan, run, "FILE PLAYED")


def stop_playback(chan: Channel, run: AppRun) -> None:
    played = (chan.host.clock.now_us() - run.state.get("started", 0)) // 1000
    _playback_vars(chan, max(0, min(int(played), run.state.get("ms", 0))))
    path = run.data
    chan.fire("PLAYBACK_STOP", post=[("Playback-File-Type", _file_type(path)),
                                     ("Playback-File-Path", path), ("Playback-Status", "break")])
    chan.set_var("current_application_response", "FILE PLAYED")


def app_record_session(chan: Channel, run: AppRun) -> None:
    path = run.data.split(" ", 1)[0]
    chan.record = (path, chan.host.clock.now_us())
    chan.set_var("current_application", "record_session")
    chan.fire("RECORD_START", post=[("Record-File-Path", path)])
    chan.fire("MEDIA_BUG_START", pre=[("Media-Bug-Function", "session_record"),
                                      ("Media-Bug-Target", path)])
    complete(chan, run)


def _stop_recording(chan: Channel) -> None:
    if chan.record is None:
        return
    path, started = chan.record
    chan.record = None
    ms = max(0, (chan.host.clock.now_us() - started) // 1000)
    samples = ms * 8
    chan.set_var("current_application", chan.app or "stop_record_session")
    chan.set_var("record_file_size", str(44 + samples * 2))
    chan.set_var("record_samples", str(samples))
    chan.set_var("record_seconds", str(ms // 1000))
    chan.set_var("record_ms", str(ms))
    chan.set_var("record_completion_cause", "success-maxtime")
    chan.fire("RECORD_STOP", post=[("Record-File-Path", path),
                                   ("Record-Completion-Cause", "success-maxtime")])
    chan.fire("MEDIA_BUG_STOP", pre=[("Media-Bug-Function", "session_record"),
                                     ("Media-Bug-Target", path)])


def app_stop_record_session(chan: Channel, run: AppRun) -> None:
    _stop_recording(chan)
    complete(chan, run)


def app_sleep(chan: Channel, run: AppRun) -> None:
    try:
        ms = max(0, int(run.data.strip() or "0"))
    except ValueError:
        ms = 0
    run.handle = chan.host.later(ms / 1000.0, complete, chan, run, chan=chan)


def _assign(text: str) -> tuple[str, str] | None:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        return None
    return name.strip(), value


def app_set(chan: Channel, run: AppRun) -> None:
    pair = _assign(run.data)
    if pair is not None:
        name, value = pair
        if value:
            chan.set_var(name, value)
        else:
            chan.unset_var(name)
    complete(chan, run)


def app_export(chan: Channel, run: AppRun) -> None:
    text = run.data
    local = True
    if text.startswith("nolocal:"):
        text, local = text[8:], False
    pair = _assign(text)
    if pair is not None:
        name, value = pair
        if local:
            chan.set_var(name, value)
        exports = chan.vars.get("export_vars", "")
        chan.set_var("export_vars", f"{exports},{name}" if exports else name)
        other = chan.bridge or chan.peer
        if other is not None and not other.dead:
            other.set_var(name, value)
    complete(chan, run)


def app_send_dtmf(chan: Channel, run: AppRun) -> None:
    digits = run.data.split("@", 1)[0].strip()
    chan.set_var("current_application", "send_dtmf")
    chan.set_var("last_dtmf_duration", "2000")
    peer = chan.bridge or chan.peer
    complete(chan, run)
    if peer is None or not digits:
        return
    host = chan.host
    for i, digit in enumerate(d for d in digits if d in "0123456789*#ABCDabcdwW"):
        if digit in "wW":
            continue
        host.later(0.28 + 0.52 * i, _dtmf_event, peer, digit.upper(), chan=peer)


def _dtmf_event(chan: Channel, digit: str) -> None:
    if chan.dead:
        return
    chan.dtmf_seen = True
    chan.fire("DTMF", post=[("DTMF-Digit", digit), ("DTMF-Duration", "2080"),
                            ("DTMF-Source", "RTP")])


def app_bridge(chan: Channel, run: AppRun) -> None:
    from .bridge import bridge_app
    bridge_app(chan, run)


def stop_bridge(chan: Channel, run: AppRun) -> None:
    from .bridge import stop_bridge_app
    stop_bridge_app(chan, run)


def app_info(chan: Channel, run: AppRun) -> None:
    complete(chan, run)


APPS: dict[str, Callable[[Channel, AppRun], None]] = {
    "answer": app_answer,
    "pre_answer": app_pre_answer,
    "ring_ready": app_ring_ready,
    "respond": app_respond,
    "hangup": app_hangup,
    "park": app_park,
    "echo": app_echo,
    "playback": app_playback,
    "record_session": app_record_session,
    "stop_record_session": app_stop_record_session,
    "sleep": app_sleep,
    "set": app_set,
    "export": app_export,
    "send_dtmf": app_send_dtmf,
    "bridge": app_bridge,
    "info": app_info,
    "log": app_info,
}

#: what to do with a running application when the channel hangs up (before its COMPLETE)
STOPPERS: dict[str, Callable[[Channel, AppRun], None]] = {
    "park": stop_park,
    "playback": stop_playback,
    "bridge": stop_bridge,
}
