"""The call-flow api commands of mod_commands: ``uuid_park`` and ``uuid_transfer``
(``uuid_setvar_multi``, ``uuid_dump`` and ``sched_hangup`` are in :mod:`.uuid_api`).

Replies follow the uuid_commands transcript (``+OK\\n``, ``-ERR No such
channel!\\n``). ``uuid_park`` and
``uuid_transfer`` stop what runs on the channel first (CHANNEL_UNPARK and the
EXECUTE_COMPLETE of ``park``), as ``switch_ivr_park_session`` /
``switch_ivr_session_transfer`` do.
"""
from __future__ import annotations

from collections.abc import Callable

from ..calls.dialplan import dialplan_apps
from ..calls.lifecycle import find_channel
from ..mod_dptools.runner import leave_apps, run_apps, start_app
from ..model.channel import Channel
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


#: name -> implementation, merged into :data:`switchlab.sim.esl.api.API`
COMMANDS: dict[str, Callable[[Host, str], str]] = {
    "uuid_park": api_uuid_park,
    "uuid_transfer": api_uuid_transfer,
}
