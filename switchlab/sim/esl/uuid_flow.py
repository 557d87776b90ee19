"""The call-flow api commands of mod_commands: ``uuid_park``, ``uuid_transfer``,
``uuid_setvar_multi``, ``uuid_dump`` and ``sched_hangup``.

Replies follow the uuid_commands transcript (``+OK\\n``, ``-ERR No such
channel!\\n``); ``uuid_dump`` answers the channel's CHANNEL_DATA headers (plain
``Name: value`` lines, URL-encoded, or one JSON object). ``uuid_park`` and
``uuid_transfer`` stop what runs on the channel first (CHANNEL_UNPARK and the
EXECUTE_COMPLETE of ``park``), as ``switch_ivr_park_session`` /
``switch_ivr_session_transfer`` do.
"""
from __future__ import annotations

from collections.abc import Callable

from ..calls.dialplan import dialplan_apps
from ..calls.lifecycle import find_channel, hangup
from ..mod_dptools.runner import leave_apps, run_apps, start_app
from ..model import causes
from ..model.channel import Channel
from ..model.event_builder import SimEvent
from ..model.fsdata import SOURCES
from ..model.ports import Host

NO_SUCH = "-ERR No such channel!\n"


def _chan(host: Host, uuid: str) -> Channel | None:
    chan = find_channel(host, uuid)
    return None if chan is None or chan.dead else chan


def _target(host: Host, words: list[str], least: int, usage: str, at: int = 0,
            live: bool = True) -> Channel | str:
    """The channel named by ``words[at]``, or the reply to give (usage, no such channel)."""
    if len(words) < least:
        return usage
    chan = _chan(host, words[at]) if live else find_channel(host, words[at])
    return NO_SUCH if chan is None else chan


def api_uuid_park(host: Host, arg: str) -> str:
    chan = _target(host, arg.split(), 1, "-USAGE: <uuid>\n")
    if isinstance(chan, str):
        return chan
    leave_apps(chan)  # even a parked channel leaves its park and parks again
    start_app(chan, "park", "", "uuid_park")
    return "+OK\n"


def api_uuid_transfer(host: Host, arg: str) -> str:
    """``uuid_transfer <uuid> [-bleg|-both] <dest> [<dialplan>] [<context>]``."""
    words = arg.split()
    if len(words) > 1 and words[1] in ("-bleg", "-both"):
        leg = words.pop(1)
    else:
        leg = ""
    chan = _target(host, words, 2,
                   "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n")
    if isinstance(chan, str):
        return chan
    dest = words[1]
    context = words[3] if len(words) > 3 else host.emulator.context
    targets = [chan]
    other = chan.bridge
    if leg and other is not None and not other.dead:
        targets = [other] if leg == "-bleg" else [chan, other]
    for target in targets:
        host.later(0, _transfer, target, dest, context, chan=target)
    return "+OK\n"


def _transfer(chan: Channel, dest: str, context: str) -> None:
    if chan.dead:
        return
    leave_apps(chan)
    chan.set_profile(**{"Destination-Number": dest, "Context": context})
    chan.set_var("transfer_source", f"{chan.host.clock.now_us() // 1_000_000}:uuid_transfer")
    run_apps(chan, dialplan_apps(chan, dest, context), "dialplan")


def api_uuid_setvar_multi(host: Host, arg: str) -> str:
    words = arg.strip().split(" ", 1)
    chan = _target(host, words, 2, "-USAGE: <uuid> <var>=<value>;<var>=<value>...\n")
    if isinstance(chan, str):
        return chan
    for item in words[1].split(";"):
        name, sep, value = item.partition("=")
        if not sep or not name:
            continue
        if value:
            chan.set_var(name, value)
        else:
            chan.unset_var(name)
    return "+OK\n"


def api_uuid_dump(host: Host, arg: str) -> str:
    words = arg.split()
    chan = _target(host, words, 1, "-USAGE: <uuid> [format]\n", live=False)
    if isinstance(chan, str):
        return chan
    fmt = "json" if len(words) > 1 and words[1] == "json" else "plain"
    ev = SimEvent(host.bus, "CHANNEL_DATA", host.bus.next_seq(), host.clock.now_us(),
                  SOURCES.get("CHANNEL_DATA") or SOURCES["CUSTOM"], chan=chan, extended=True)
    body = ev.frame(fmt).split(b"\n\n", 1)[1].decode("utf-8")
    return body.rstrip("\n") + "\n" if fmt == "plain" else body


def api_sched_hangup(host: Host, arg: str) -> str:
    """``sched_hangup +<seconds> <uuid> [<cause>]`` (whole seconds, as the scheduler)."""
    words = arg.split()
    chan = _target(host, words, 2, "-USAGE: [+]<time> <uuid> [<cause>]\n", at=1)
    if isinstance(chan, str):
        return chan
    when = words[0]
    try:
        secs = int(when[1:]) if when.startswith("+") else int(when) - host.clock.now_us() // 10**6
    except ValueError:
        return "-USAGE: [+]<time> <uuid> [<cause>]\n"
    cause = words[2] if len(words) > 2 and causes.is_cause(words[2]) else "ALLOTTED_TIMEOUT"
    host.later(max(0, secs), _sched_hangup, chan, cause, chan=chan)
    return "+OK\n"


def _sched_hangup(chan: Channel, cause: str) -> None:
    if not chan.dead:
        hangup(chan, cause)


#: name -> implementation, merged into :data:`switchlab.sim.esl.api.API`
COMMANDS: dict[str, Callable[[Host, str], str]] = {
    "uuid_park": api_uuid_park,
    "uuid_transfer": api_uuid_transfer,
    "uuid_setvar_multi": api_uuid_setvar_multi,
    "uuid_dump": api_uuid_dump,
    "sched_hangup": api_sched_hangup,
}
