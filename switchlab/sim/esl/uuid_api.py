"""More of mod_commands' uuid api family: ``uuid_setvar_multi``, ``uuid_dump`` and
``sched_hangup``, plus the COMMAND event ``uuid_broadcast`` queues (switch_ivr_async.c).

Texts and rules follow FreeSWITCH 1.11 (mod_commands.c ``uuid_setvar_multi_function``,
``uuid_dump_function``, ``sched_hangup_function``; switch_ivr_async.c
``switch_ivr_schedule_hangup``, ``switch_ivr_broadcast``; switch_scheduler.c): a gone
uuid answers ``-ERR No such channel!``; ``uuid_dump`` renders the channel as a
CHANNEL_DATA event (plain: URL-encoded ``Name: value`` lines and a blank line; ``json``:
one object, no newline); ``sched_hangup +N`` runs when epoch second ``now + N`` begins
(the scheduler has whole-second resolution) and fires ADD_SCHEDULE / DEL_SCHEDULE.
"""
from __future__ import annotations

from ...wire.parser import Command
from ..calls.lifecycle import find_channel, hangup
from ..mod_dptools.runner import queue_message
from ..model import causes
from ..model.channel import Channel
from ..model.event_builder import Pairs, SimEvent
from ..model.ports import Host

NO_CHANNEL = "-ERR No such channel!\n"


def channel_arg(host: Host, words: list[str], need: int, at: int,
                usage: str) -> Channel | str:
    """The live channel whose uuid is ``words[at]``, or the reply to give: ``usage`` when
    fewer than ``need`` words came, ``-ERR No such channel!`` for an unknown uuid."""
    if len(words) < need:
        return usage
    chan = find_channel(host, words[at])
    return NO_CHANNEL if chan is None else chan


def api_uuid_setvar_multi(host: Host, arg: str) -> str:
    """``uuid_setvar_multi <uuid> a=1;b=2``: each ``name=value`` set (empty value unsets)."""
    uuid, _, assignments = arg.strip().partition(" ")
    if not uuid or not assignments:
        return "-USAGE: <uuid> <var>=<value>;<var>=<value>...\n"
    chan = find_channel(host, uuid)
    if chan is None:
        return NO_CHANNEL
    for item in assignments.split(";"):
        name, sep, value = item.partition("=")
        if not name or not sep:
            continue
        if value:
            chan.set_var(name, value)
        else:
            chan.unset_var(name)
    return "+OK\n"


def api_uuid_dump(host: Host, arg: str) -> str:
    """``uuid_dump <uuid> [json]``: the channel as a CHANNEL_DATA event."""
    words = arg.split() or [""]
    chan = find_channel(host, words[0])
    if chan is None:
        return NO_CHANNEL if words[0] else "-USAGE: <uuid> [format]\n"
    bus = host.bus
    ev = SimEvent(bus, "CHANNEL_DATA", bus.next_seq(), host.clock.now_us(),
                  ("mod_commands.c", "uuid_dump_function", "6495"), chan=chan, extended=True)
    fmt = words[1].lower() if len(words) > 1 else "plain"
    if fmt not in ("json", "xml"):
        fmt = "plain"
    frame = ev.frame(fmt)
    return frame.split(b"\n\n", 1)[1].decode("utf-8")


def api_sched_hangup(host: Host, arg: str) -> str:
    """``sched_hangup [+]<time> <uuid> [<cause>]`` (switch_ivr_schedule_hangup)."""
    words = arg.split()
    chan = channel_arg(host, words, 2, 1, "-USAGE: [+]<time> <uuid> [cause]\n")
    if isinstance(chan, str):
        return chan
    when_text = words[0]
    try:
        when = int(when_text.lstrip("+") or "0")
    except ValueError:
        when = 0
    now_us = host.clock.now_us()
    if when_text.startswith("+"):
        when += now_us // 1_000_000
    cause = words[2] if len(words) > 2 and causes.is_cause(words[2]) else "ALLOTTED_TIMEOUT"
    task = _schedule_event(host, "ADD_SCHEDULE", chan, when, None)
    host.later(max(0.0, when - now_us / 1e6), _run_sched_hangup, host, chan, cause, when, task)
    return "+OK\n"


def _schedule_event(host: Host, name: str, chan: Channel, when: int,
                    task_id: int | None) -> int:
    if task_id is None:
        task_id = host.sched_task_id = host.sched_task_id + 1
    host.fire(name, post=[("Task-ID", str(task_id)), ("Task-Desc", "switch_ivr_schedule_hangup"),
                          ("Task-Group", chan.uuid), ("Task-Runtime", str(when))])
    return task_id


def _run_sched_hangup(host: Host, chan: Channel, cause: str, when: int, task: int) -> None:
    """The scheduler thread runs the task (the hangup), then deletes it (DEL_SCHEDULE)."""
    if not chan.dead:
        hangup(chan, cause)
    _schedule_event(host, "DEL_SCHEDULE", chan, when, task)


def broadcast_lead(host: Host, msg: Pairs) -> Pairs:
    """switch_ivr_broadcast queues a COMMAND event: its own core headers (numbered and
    stamped now) then the message; FreeSWITCH later fires that same event as
    PRIVATE_COMMAND, so it leads with them."""
    bus = host.bus
    ev = SimEvent(bus, "COMMAND", bus.next_seq(), host.clock.now_us(),
                  ("switch_ivr_async.c", "switch_ivr_broadcast", "5732"))
    return list(bus.core_pairs(ev)) + list(msg)


def queue_broadcast(host: Host, chan: Channel, app: str, data: str) -> None:
    """Queue ``app(data)`` on ``chan`` the way ``uuid_broadcast`` does."""
    msg = [("call-command", "execute"), ("execute-app-name", app), ("execute-app-arg", data),
           ("event-lock", "true"), ("lead-frames", "5")]
    queue_message(chan, Command(f"sendmsg {chan.uuid}", dict(msg)),
                  lead=broadcast_lead(host, msg))
