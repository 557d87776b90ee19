"""DEBUG (7) log lines of a channel's state machine, as FreeSWITCH 1.11.1 writes them.

Called by :meth:`~.channel.Channel.set_state` / ``set_callstate`` only when some
listener gets DEBUG lines (``fsctl loglevel debug`` + ``log debug``), so nothing is
formatted otherwise. Locations are the 1.11.1 sources' (file, function, line):

* ``switch_channel_perform_set_state``: ``(name) State Change OLD -> NEW`` at the
  caller of ``switch_channel_set_state`` (:data:`SET_STATE_AT`; a bridge's
  HIBERNATE / RESET / SOFT_EXECUTE / EXCHANGE_MEDIA in ``switch_ivr_bridge.c``);
* ``switch_channel_perform_set_running_state``: ``(name) Running State Change NEW
  (Cur n Tot m)`` at ``switch_core_session_run`` (``_destroy_state`` for CS_DESTROY);
* ``STATE_MACRO`` in ``switch_core_state_machine.c``: ``(name) State X``, the
  endpoint's handler (mod_sofia ``sofia_on_*``), the ``switch_core_standard_on_*``
  handler unless an earlier handler returned FALSE, ``(name) State X going to sleep``;
* ``switch_channel_perform_set_callstate``: ``(name) Callstate Change OLD -> NEW`` at
  the caller of ``switch_channel_set_callstate`` (:data:`CALLSTATE_AT`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .channel import Channel

DEBUG = 7
SM = "switch_core_state_machine.c"
_RUN = "switch_core_session_run"
_BR = "switch_ivr_bridge.c"
Where = tuple[str, str, int]

#: (new state, direction) -> the ``switch_channel_set_state`` call asking for it
SET_STATE_AT: dict[tuple[str, str], Where] = {
    ("CS_INIT", "outbound"): ("mod_sofia.c", "sofia_outgoing_channel", 5146),
    ("CS_INIT", "inbound"): ("sofia.c", "sofia_handle_sip_i_state", 7939),
    ("CS_INIT", "inbound-late"): ("sofia.c", "sofia_handle_sip_i_state", 7918),
    ("CS_ROUTING", "outbound"): (SM, "switch_core_standard_on_init", 48),
    ("CS_ROUTING", "inbound"): (SM, "switch_core_standard_on_init", 48),
    ("CS_CONSUME_MEDIA", "outbound"): ("switch_ivr_originate.c", "originate_on_routing", 67),
    ("CS_EXECUTE", "inbound"): (SM, "switch_core_standard_on_routing", 281),
    ("CS_EXECUTE", "outbound"): ("mod_commands.c", "originate_function", 5191),
    ("CS_REPORTING", "outbound"): (SM, _RUN, 616),
    ("CS_REPORTING", "inbound"): (SM, _RUN, 616),
    ("CS_DESTROY", "outbound"): (SM, _RUN, 607),
    ("CS_DESTROY", "inbound"): (SM, _RUN, 607),
    # either direction: the states only a bridge asks for (switch_ivr_bridge.c)
    ("CS_HIBERNATE", ""): (_BR, "switch_ivr_uuid_bridge", 2211),
    ("CS_RESET", ""): (_BR, "uuid_bridge_on_hibernate", 1142),
    ("CS_SOFT_EXECUTE", ""): (_BR, "uuid_bridge_on_reset", 1134),
    ("CS_EXCHANGE_MEDIA", ""): (_BR, "switch_ivr_multi_threaded_bridge", 1791),
}

#: state -> (function, line) of its ``STATE_MACRO`` invocation
MACRO_AT: dict[str, tuple[str, int]] = {
    "CS_INIT": (_RUN, 624), "CS_ROUTING": (_RUN, 640), "CS_RESET": (_RUN, 643),
    "CS_EXECUTE": (_RUN, 647), "CS_EXCHANGE_MEDIA": (_RUN, 650),
    "CS_SOFT_EXECUTE": (_RUN, 653), "CS_PARK": (_RUN, 656), "CS_CONSUME_MEDIA": (_RUN, 659),
    "CS_HIBERNATE": (_RUN, 662), "CS_HANGUP": ("switch_core_session_hangup_state", 846),
    "CS_REPORTING": ("switch_core_session_reporting_state", 932),
    "CS_DESTROY": ("switch_core_session_destroy_state", 745),
}

#: state -> (line, text after the name) of ``switch_core_standard_on_<state>``
STANDARD_AT: dict[str, tuple[int, str]] = {
    "CS_INIT": (40, "Standard INIT"), "CS_HANGUP": (59, "Standard HANGUP, cause: "),
    "CS_REPORTING": (168, "Standard REPORTING, cause: "), "CS_DESTROY": (175, "Standard DESTROY"),
    "CS_RESET": (182, "Standard RESET"), "CS_ROUTING": (230, "Standard ROUTING"),
    "CS_EXECUTE": (323, "Standard EXECUTE"), "CS_EXCHANGE_MEDIA": (391, "Standard EXCHANGE_MEDIA"),
    "CS_SOFT_EXECUTE": (397, "Standard SOFT_EXECUTE"), "CS_PARK": (403, "Standard PARK"),
    "CS_CONSUME_MEDIA": (411, "Standard CONSUME_MEDIA"),
    "CS_HIBERNATE": (417, "Standard HIBERNATE"),
}

#: state -> (function, line, text, with the name first) of mod_sofia's handler
SOFIA_AT: dict[str, tuple[str, int, str, bool]] = {
    "CS_INIT": ("sofia_on_init", 97, "SOFIA INIT", True),
    "CS_ROUTING": ("sofia_on_routing", 158, "SOFIA ROUTING", True),
    "CS_RESET": ("sofia_on_reset", 176, "SOFIA RESET", True),
    "CS_HIBERNATE": ("sofia_on_hibernate", 195, "SOFIA HIBERNATE", True),
    "CS_EXECUTE": ("sofia_on_execute", 213, "SOFIA EXECUTE", True),
    "CS_DESTROY": ("sofia_on_destroy", 380, "SOFIA DESTROY", True),
    "CS_EXCHANGE_MEDIA": ("sofia_on_exchange_media", 695, "SOFIA EXCHANGE_MEDIA", False),
    "CS_SOFT_EXECUTE": ("sofia_on_soft_execute", 701, "SOFIA SOFT_EXECUTE", False),
}

#: states whose handler in ``originate_state_handlers`` returns FALSE while the leg
#: is being originated, so ``switch_core_standard_on_*`` does not run
_ORIGINATE_SKIPS = ("CS_ROUTING", "CS_CONSUME_MEDIA")
#: states the emulator enters only in a bridge, whose switch_ivr_bridge.c handler returns
#: FALSE (``audio_bridge_on_exchange_media``, ``uuid_bridge_on_hibernate``)
_BRIDGE_SKIPS = ("CS_EXCHANGE_MEDIA", "CS_HIBERNATE")
#: ``uuid_bridge_state_handlers`` lines (after the endpoint's, before the standard handler)
_UUID_BRIDGE_AT: dict[str, tuple[str, int, str]] = {
    "CS_RESET": ("uuid_bridge_on_reset", 1127, "CUSTOM RESET"),
    "CS_SOFT_EXECUTE": ("uuid_bridge_on_soft_execute", 1152, "CUSTOM SOFT_EXECUTE"),
}

_CH = "switch_channel.c"
#: (new call state, direction) -> the ``switch_channel_set_callstate`` call
CALLSTATE_AT: dict[tuple[str, str], Where] = {
    ("RINGING", "inbound"): (_CH, "switch_channel_perform_set_running_state", 2400),
    ("RINGING", "outbound"): (_CH, "switch_channel_perform_mark_ring_ready_value", 3515),
    ("EARLY", ""): (_CH, "switch_channel_perform_mark_pre_answered", 3587),
    ("ACTIVE", ""): (_CH, "switch_channel_perform_mark_answered", 3914),
    ("RING_WAIT", ""): (_CH, "switch_channel_set_flag_value", 1974),
    ("HANGUP", ""): (SM, "switch_core_session_hangup_state", 844),
}


def _sleep(chan: Channel, state: str) -> None:
    func, line = MACRO_AT[state]
    chan.bus.log(DEBUG, SM, func, line, f"({chan.name}) State {state[3:]} going to sleep", chan)


def log_state(chan: Channel, old: str, new: str) -> None:
    """The DEBUG lines of ``old`` ending and ``new`` running (see the module doc)."""
    log = chan.bus.log
    name = chan.name
    direction = chan.direction
    if new == "CS_INIT" and direction == "inbound" and chan.codec is None:
        direction = "inbound-late"
    at = (SET_STATE_AT.get((new, direction)) or SET_STATE_AT.get((new, ""))) \
        if chan.kind == "sofia" else None
    late_sleep = old in ("CS_HANGUP", "CS_REPORTING")
    if late_sleep:  # the state change is asked for after the state's handler returned
        _sleep(chan, old)
    if at is not None:
        log(DEBUG, at[0], at[1], at[2], f"({name}) State Change {old} -> {new}", chan)
    if old in MACRO_AT and not late_sleep:
        _sleep(chan, old)
    host = chan.host
    run_func, run_line = ("switch_core_session_destroy_state", 735) if new == "CS_DESTROY" \
        else (_RUN, 581)
    log(DEBUG, SM, run_func, run_line,
        f"({name}) Running State Change {new} (Cur {len(host.channels)} "
        f"Tot {host.sessions_created})", chan)
    if new not in MACRO_AT:
        return
    func, line = MACRO_AT[new]
    log(DEBUG, SM, func, line, f"({name}) State {new[3:]}", chan)
    _driver(chan, new)
    custom = _UUID_BRIDGE_AT.get(new)
    if custom is not None:
        log(DEBUG, "switch_ivr_bridge.c", custom[0], custom[1], f"{name} {custom[2]}", chan)
    if new in STANDARD_AT and new not in _BRIDGE_SKIPS \
            and not (new in _ORIGINATE_SKIPS and chan.direction == "outbound"):
        sline, text = STANDARD_AT[new]
        if text.endswith(": "):
            text += chan.hangup_cause or "NORMAL_CLEARING"
        log(DEBUG, SM, "switch_core_standard_on_" + new[3:].lower(), sline, f"{name} {text}",
            chan)
    if new == "CS_DESTROY":
        _sleep(chan, new)


def _driver(chan: Channel, state: str) -> None:
    """mod_sofia's state handler (``sofia_event_handlers``)."""
    if chan.kind != "sofia":
        return
    log = chan.bus.log
    if state == "CS_HANGUP":
        cause = chan.hangup_cause or "NORMAL_CLEARING"
        log(DEBUG, "mod_sofia.c", "sofia_on_hangup", 469,
            f"Channel {chan.name} hanging up, cause: {cause}", chan)
        if chan.answered:
            log(DEBUG, "mod_sofia.c", "sofia_on_hangup", 541, f"Sending BYE to {chan.name}", chan)
        elif chan.direction == "outbound":
            log(DEBUG, "mod_sofia.c", "sofia_on_hangup", 555, f"Sending CANCEL to {chan.name}",
                chan)
        return
    spec = SOFIA_AT.get(state)
    if spec is not None:
        func, line, text, named = spec
        log(DEBUG, "mod_sofia.c", func, line, f"{chan.name} {text}" if named else text, chan)


def log_callstate(chan: Channel, old: str, new: str) -> None:
    """``(name) Callstate Change OLD -> NEW`` at the caller of ``switch_channel_set_callstate``."""
    at = CALLSTATE_AT.get((new, chan.direction)) or CALLSTATE_AT.get((new, ""))
    if at is not None and old != new and old != "HANGUP":
        chan.bus.log(DEBUG, at[0], at[1], at[2],
                     f"({chan.name}) Callstate Change {old} -> {new}", chan)
