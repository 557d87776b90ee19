"""The dialplan of the recorded servers (context ``switchio``, as switchio's conf).

A destination number starting with ``answer`` is answered, then parked; one
starting with ``outbound`` runs ``socket <address> async full`` and one starting
with ``outsync`` ``socket <address> full`` (FreeSWITCH connects to an outbound
event-socket server); anything else is only parked (not answered).

>>> [name for name, _ in answer_then_park("answer123")]
['answer', 'park']
>>> answer_then_park("outsync1", "127.0.0.1:8084")
[('socket', '127.0.0.1:8084 full')]
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model.channel import Channel


def answer_then_park(dest: str, socket_address: str = "127.0.0.1:8084"
                     ) -> list[tuple[str, str]]:
    """The applications the dialplan runs for ``dest``."""
    if dest.startswith("answer"):
        return [("answer", ""), ("park", "")]
    if dest.startswith("outbound"):
        return [("socket", f"{socket_address} async full")]
    if dest.startswith("outsync"):
        return [("socket", f"{socket_address} full")]
    return [("park", "")]


def dp_match(chan: Channel, expression: str, dest: str) -> None:
    """mod_dialplan_xml: a matching condition whose expression has a ``(`` sets
    ``DP_MATCH`` to its captures (``switch_capture_regex``: one value, or ``ARRAY::a|:b``)."""
    m = re.search(expression, dest)
    if m is None or "(" not in expression:
        return
    values = [m.group(0)] + [g or "" for g in m.groups()]
    chan.set_var("DP_MATCH", values[0] if len(values) == 1 else "ARRAY::" + "|:".join(values))


def dialplan_apps(chan: Channel, dest: str, context: str) -> list[tuple[str, str]]:
    """Route ``dest`` on ``chan`` (logs like mod_dialplan_xml) and return its applications."""
    name = chan.profile.get("Caller-ID-Name") or chan.profile.get("Caller-ID-Number", "")
    num = chan.profile.get("Caller-ID-Number", "")
    chan.host.log(6, "mod_dialplan_xml.c", "dialplan_hunt", 648,
                  f"Processing {name} <{num}>->{dest} in context {context}", chan)
    apps = answer_then_park(dest, chan.host.emulator.socket_address)
    if chan.bus.log_max_level >= 7:
        log_hunt(chan, dest, context, apps)
    if apps[0][0] == "park":
        dp_match(chan, chan.host.emulator.park_expression, dest)
    return apps


#: the context's extensions in order: (name, destination_number expression)
EXTENSIONS = (("answer", "^answer"), ("outbound", "^outbound"), ("outsync", "^outsync"),
              ("park", None))
_DP = "mod_dialplan_xml.c"


def log_hunt(chan: Channel, dest: str, context: str, apps: list[tuple[str, str]]) -> None:
    """mod_dialplan_xml's DEBUG lines (``dialplan-timestamps`` off: no prefix, text channel
    LOG_CLEAN): ``dialplan_hunt`` parses each extension until one matches (``parsing``),
    ``parse_exten`` tests its one condition (``Regex (FAIL)``/``(PASS)``, break on-false)
    and adds each action of the matching one (``Action app(data)``)."""
    log = chan.bus.log
    name = chan.name
    for ext, expression in EXTENSIONS:
        log(7, _DP, "dialplan_hunt", 705,
            f"Dialplan: {name} parsing [{context}->{ext}] continue=false", chan,
            text_channel=1, prefix=False)
        expr = expression or chan.host.emulator.park_expression
        passed = expression is None or dest.startswith(expression[1:])
        line, verdict = (419, "PASS") if passed else (430, "FAIL")
        log(7, _DP, "parse_exten", line,
            f"Dialplan: {name} Regex ({verdict}) [{ext}] destination_number({dest}) =~ "
            f"/{expr}/ break=on-false", chan, text_channel=1, prefix=False)
        if passed:
            for app, data in apps:
                log(7, _DP, "parse_exten", 566, f"Dialplan: {name} Action {app}({data}) ",
                    chan, text_channel=1, prefix=False)
            return
