"""The call-control applications: answer, pre_answer, ring_ready, respond, hangup,
park, echo, sleep, set, export, info and log."""
from __future__ import annotations

from ..calls.answer import answer_channel, ring_ready
from ..calls.lifecycle import hangup
from ..model import causes
from ..model.channel import Channel
from .runner import AppRun, complete, pump


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
        exports = chan.var("export_vars", "")
        chan.set_var("export_vars", f"{exports},{name}" if exports else name)
        other = chan.bridge or chan.peer
        if other is not None and not other.dead:
            other.set_var(name, value)
    complete(chan, run)


def app_info(chan: Channel, run: AppRun) -> None:
    complete(chan, run)
