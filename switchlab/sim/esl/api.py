"""The api commands (``api``/``bgapi``; mod_commands), with FreeSWITCH's exact output texts.

Trailing newlines and error texts follow the api_catalog transcript: e.g.
``uuid_exists`` answers ``true``/``false`` without a newline, ``uuid_kill`` of an
unknown uuid ``-ERR No such channel!\\n``, ``uuid_answer`` of one ``-ERROR\\n``.
An unknown command gets ``-ERR <cmd> Command not found!\\n`` and fires no API
event.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

from ...wire.parser import Command
from ..calls.answer import answer_channel
from ..calls.bridging import uuid_bridge
from ..calls.lifecycle import find_channel, hangup
from ..calls.originate import originate
from ..mod_dptools.runner import queue_message
from ..model import causes
from ..model.bus import LOG_LEVEL_NAMES, log_level_number
from ..model.channel import Channel
from ..model.deferred import Deferred
from ..model.event_builder import SimEvent
from ..model.fsdata import FS_VERSION
from ..model.ports import Host
from .show import show
from .uuid_api import (api_sched_hangup, api_uuid_dump, api_uuid_setvar_multi, channel_arg,
                       queue_broadcast)
from .uuid_flow import COMMANDS as UUID_FLOW

ApiResult: TypeAlias = "str | Deferred"
ApiFn = Callable[[Host, str], ApiResult]

MODULES = frozenset({
    "mod_sofia", "mod_event_socket", "mod_commands", "mod_dptools", "mod_loopback",
    "mod_dialplan_xml", "mod_tone_stream", "mod_sndfile", "mod_native_file", "mod_console",
    "mod_logfile", "mod_expr", "mod_db", "mod_hash", "mod_spandsp", "mod_bert",
})


def api_status(host: Host, arg: str) -> str:
    sps = host.sessions_per_sec()
    return (f"UP {host.uptime_text()}\n"
            "FreeSWITCH (Version 1.11.1-release  64bit) is ready\n"
            f"{host.sessions_since_startup} session(s) since startup\n"
            f"{len(host.channels)} session(s) - peak {host.peak_sessions}, "
            f"last 5min {host.peak_sessions} \n"
            f"{sps} session(s) per Sec out of max {host.sps_max}, peak {host.peak_sps}, "
            f"last 5min {host.peak_sps} \n"
            f"{host.max_sessions} session(s) max\n"
            "min idle cpu 0.00/98.57\n"
            "Current Stack Size/Max 240K/8192K\n")


def api_version(host: Host, arg: str) -> str:
    return f"FreeSWITCH Version {FS_VERSION} ( 64bit)\n"


def api_uptime(host: Host, arg: str) -> str:
    return f"{host.uptime_us() // 1_000_000}\n"


def api_global_getvar(host: Host, arg: str) -> str:
    name = arg.strip()
    if not name:
        return "".join(f"{k}={v}\n" for k, v in host.global_vars.items())
    return host.global_vars.get(name, "")


def api_global_setvar(host: Host, arg: str) -> str:
    name, _, value = arg.partition("=")
    if not name.strip():
        return "-USAGE: <var>=<value>\n"
    host.global_vars[name.strip()] = value
    return "+OK\n"


def api_eval(host: Host, arg: str) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: host.global_vars.get(m.group(1), ""), arg)


def api_hostname(host: Host, arg: str) -> str:
    return host.hostname


def api_echo(host: Host, arg: str) -> str:
    return arg


def api_module_exists(host: Host, arg: str) -> str:
    return "true" if arg.strip() in MODULES else "false"


def api_reloadxml(host: Host, arg: str) -> str:
    return "+OK [Success]\n"


def api_fsctl(host: Host, arg: str) -> str:
    words = arg.split()
    if not words:
        return "-ERR Invalid command\n"
    cmd = words[0].lower()
    if cmd == "max_sessions":
        if len(words) > 1 and words[1].isdigit():
            host.max_sessions = int(words[1])
        return f"+OK max sessions: {host.max_sessions}\n"
    if cmd == "sps":
        if len(words) > 1 and words[1].isdigit():
            host.sps_max = int(words[1])
        return f"+OK sessions per second: {host.sps_max}\n"
    if cmd == "loglevel":
        # mod_commands ctl_function: a digit is atoi'd, a name goes through
        # switch_log_str2level; no argument is -1 = DISABLE (SCSC_LOGLEVEL sets it)
        wanted = log_level_number(words[1]) if len(words) > 1 else -1
        if wanted is None:
            return "-ERR syntax error, log level not set!\n"
        level = host.bus.set_core_log_level(wanted)
        return f"+OK log level: {LOG_LEVEL_NAMES.get(level, 'DISABLE')} [{level}]\n"
    return "-ERR INVALID COMMAND\n"


def api_uuid_exists(host: Host, arg: str) -> str:
    return "true" if find_channel(host, arg.strip()) is not None else "false"


def api_uuid_kill(host: Host, arg: str) -> str:
    words = arg.split()
    if not words:
        return "-USAGE: <uuid> [cause]\n"
    chan = find_channel(host, words[0])
    if chan is None:
        return "-ERR No such channel!\n"
    cause = words[1] if len(words) > 1 and causes.is_cause(words[1]) else "NORMAL_CLEARING"
    hangup(chan, cause)
    return "+OK\n"


def api_uuid_answer(host: Host, arg: str) -> str:
    chan = find_channel(host, arg.strip())
    if chan is None or chan.dead:
        return "-ERROR\n"
    answer_channel(chan)
    return "+OK\n"


def api_uuid_pre_answer(host: Host, arg: str) -> str:
    chan = find_channel(host, arg.strip())
    if chan is None or chan.dead:
        return "-ERROR\n"
    answer_channel(chan, pre_answer=True)
    return "+OK\n"


def api_uuid_setvar(host: Host, arg: str) -> str:
    words = arg.split(" ", 2)
    if len(words) < 2:
        return "-USAGE: <uuid> <var> [value]\n"
    chan = find_channel(host, words[0])
    if chan is None:
        return "-ERR No such channel!\n"
    if len(words) > 2 and words[2] != "":
        chan.set_var(words[1], words[2])
    else:
        chan.unset_var(words[1])
    return "+OK\n"


def api_uuid_getvar(host: Host, arg: str) -> str:
    words = arg.split()
    chan = channel_arg(host, words, 2, 0, "-USAGE: <uuid> <var>\n")
    return chan if isinstance(chan, str) else chan.var(words[1], "_undef_")


def api_uuid_broadcast(host: Host, arg: str) -> str:
    words = arg.split()
    if len(words) < 2:
        return "-USAGE: <uuid> <path> [aleg|bleg|both]\n"
    chan = find_channel(host, words[0])
    if chan is None or chan.dead:
        return "-ERR Invalid UUID\n"
    path = words[1]
    app, _, data = path.partition("::")
    if not data:
        app, data = "playback", path
    targets = [chan]
    leg = words[2].lower() if len(words) > 2 else "aleg"
    other = chan.bridge or chan.peer
    if leg in ("bleg", "both") and other is not None and other.host is host:
        targets = [other] if leg == "bleg" else [chan, other]
    for target in targets:
        queue_broadcast(host, target, app, data)
    return "+OK Message sent\n"


def api_uuid_send_dtmf(host: Host, arg: str) -> str:
    words = arg.split()
    if len(words) < 2:
        return "-USAGE: <uuid> <dtmf_data>\n"
    chan = find_channel(host, words[0])
    if chan is None:
        return "-ERR no such session\n"
    _queue_execute(chan, "send_dtmf", words[1])
    return "+OK Success\n"


def _queue_execute(chan: Channel, app: str, data: str) -> None:
    """Queue ``app(data)`` on ``chan`` as an ESL ``sendmsg`` execute would."""
    queue_message(chan, Command(f"sendmsg {chan.uuid}", {
        "call-command": "execute", "execute-app-name": app, "execute-app-arg": data}))


def api_hupall(host: Host, arg: str) -> str:
    words = arg.split()
    cause = words[0] if words and causes.is_cause(words[0]) else "MANAGER_REQUEST"
    var = words[1] if len(words) > 2 else None
    value = words[2] if len(words) > 2 else None
    for chan in list(host.channels.values()):
        if chan.dead:
            continue
        if var is not None and chan.get_var(var) != value:
            continue
        hangup(chan, cause)
    if var is not None:
        return f"+OK hangup all channels matching [{var}]=[{value}] with cause: {cause}\n"
    return f"+OK hangup all channels with cause {cause}\n"


def api_show(host: Host, arg: str) -> str:
    return show(host, arg)


def api_sofia(host: Host, arg: str) -> str:
    words = arg.split()
    if not words or words[0] != "status":
        if words and words[0] in ("profile", "xmlstatus", "global", "loglevel", "tracelevel"):
            return "+OK\n"
        return "-ERR Usage: sofia status [profile <name>]\n"
    if len(words) >= 3 and words[1] == "profile":
        profile = host.profiles.get(words[2])
        if profile is None:
            return "Invalid Profile!\n"
        return sofia_profile_status(host, profile.name)
    sep = "=" * 97
    lines = [f"{'Name':>25}\t{'   Type'}\t  {'Data':>40}\tState", sep]
    for name in sorted(host.profiles):
        p = host.profiles[name]
        inuse = sum(1 for c in host.channels.values()
                    if c.profile_name == name and not c.destroyed)
        lines.append(f"{name:>25}\tprofile\t  {p.url:>40}\tRUNNING ({inuse})")
    lines.append(sep)
    lines.append(f"{len(host.profiles)} profiles 0 aliases")
    return "\n".join(lines) + "\n"


def sofia_profile_status(host: Host, name: str) -> str:
    p = host.profiles[name]
    rows = [
        ("Name", name), ("Domain Name", "N/A"), ("Auto-NAT", "false"),
        ("DBName", f"sofia_reg_{name}"), ("Pres Hosts", ""), ("Dialplan", "XML"),
        ("Context", host.emulator.context), ("Challenge Realm", "auto_to"),
        ("RTP-IP", p.ip), ("Ext-RTP-IP", p.ip), ("SIP-IP", p.ip), ("Ext-SIP-IP", p.ip),
        ("URL", p.url), ("BIND-URL", f"{p.url};maddr={p.ip};transport=udp,tcp"),
        ("HOLD-MUSIC", "N/A"), ("OUTBOUND-PROXY", "N/A"), ("CODECS IN", "PCMU,PCMA"),
        ("CODECS OUT", "PCMU,PCMA"), ("TEL-EVENT", "101"), ("DTMF-MODE", "rfc2833"),
        ("CNG", "13"), ("SESSION-TO", "0"), ("MAX-DIALOG", "3000"),
        ("MAX-RECV-RPS", "1000"), ("NOMEDIA", "false"), ("LATE-NEG", "false"),
        ("PROXY-MEDIA", "false"), ("AGGRESSIVENAT", "false"), ("CALLS-IN", str(p.calls_in)),
        ("FAILED-CALLS-IN", str(p.failed_in)), ("CALLS-OUT", str(p.calls_out)),
        ("FAILED-CALLS-OUT", str(p.failed_out)), ("REGISTRATIONS", "0"),
    ]
    return "=" * 97 + "\n" + "".join(f"{k:<17}\t{v}\n" for k, v in rows)


def api_originate(host: Host, arg: str) -> ApiResult:
    return originate(host, arg)


API: dict[str, ApiFn] = {
    "status": api_status,
    "version": api_version,
    "uptime": api_uptime,
    "global_getvar": api_global_getvar,
    "global_setvar": api_global_setvar,
    "eval": api_eval,
    "hostname": api_hostname,
    "echo": api_echo,
    "module_exists": api_module_exists,
    "reloadxml": api_reloadxml,
    "fsctl": api_fsctl,
    "show": api_show,
    "originate": api_originate,
    "uuid_exists": api_uuid_exists,
    "uuid_kill": api_uuid_kill,
    "uuid_answer": api_uuid_answer,
    "uuid_pre_answer": api_uuid_pre_answer,
    "uuid_bridge": lambda host, arg: uuid_bridge(host, arg),
    "uuid_setvar": api_uuid_setvar,
    "uuid_getvar": api_uuid_getvar,
    "uuid_broadcast": api_uuid_broadcast,
    "uuid_setvar_multi": api_uuid_setvar_multi,
    "uuid_dump": api_uuid_dump,
    "sched_hangup": api_sched_hangup,
    "uuid_send_dtmf": api_uuid_send_dtmf,
    "hupall": api_hupall,
    "sofia": api_sofia,
}
API.update(UUID_FLOW)


def run_api(host: Host, name: str, arg: str) -> tuple[SimEvent | None, ApiResult]:
    """Run api ``name``: returns the API event to fire when done, and the result.

    The API event is created (sequence number, timestamp) when the command
    starts and delivered when it completes, as FreeSWITCH does.
    """
    fn = API.get(name) or host.extra_api.get(name)
    if fn is None:
        return None, f"-ERR {name} Command not found!\n"
    post = [("API-Command", name)]
    if arg:
        post.append(("API-Command-Argument", arg))
    ev = host.bus.make_event("API", post=post)
    return ev, fn(host, arg)
