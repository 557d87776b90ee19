"""The ``bridge`` application: dial a new leg, bridge it to the channel when it answers,
report the failure cause when it does not.

When the dialled leg hangs up, the channel is unbridged and goes on with its
dialplan (``hangup_after_bridge=true`` hangs it up, ``park_after_bridge=true``
parks it).

FreeSWITCH's rules (switch_ivr_originate.c, switch_channel.c, mod_dptools.c
``audio_bridge_function``): while the originate runs, the calling channel carries
``CF_ORIGINATOR``, which moves an answered channel's call state ACTIVE -> RING_WAIT and
back to ACTIVE when the flag is cleared (switch_channel_set_flag_value /
switch_channel_clear_flag); the new leg's caller profile is a clone of the caller's and
the caller's is its originator profile (``Other-Type: originator``). A failed originate
leaves ``originate_disposition``, ``DIALSTATUS``, ``originate_causes``,
``originate_failed_cause`` and ``last_bridge_hangup_cause`` on the caller, and unless
``continue_on_fail`` is set (switch_channel_handle_cause) the caller hangs up with the
same cause; ``Application-Response`` stays ``_none_``.
"""
from __future__ import annotations

import time

from ...wire.dialstring import DialStringError, OriginateRequest, parse_call_url
from ..calls.answer import answer_channel
from ..calls.bridging import bridge_updates, link
from ..calls.lifecycle import hangup, unbridge
from ..calls.originate import Originate
from ..calls.sofia import start_sofia
from ..model import causes
from ..model.channel import Channel
from ..model.ports import Host
from ..model.sip import truthy
from .runner import AppRun, complete, start_app


class _BridgeLeg(Originate):
    """The B leg a ``bridge`` application dials: its answer bridges, its failure reports."""

    def __init__(self, host: Host, req: OriginateRequest, owner: Channel,
                 run: AppRun) -> None:
        super().__init__(host, req)
        self.owner = owner
        self.run = run
        self.originator = owner

    def succeed(self) -> None:
        leg = self.leg
        if self.done or leg is None:
            return
        self.deferred.resolve(f"+OK {leg.uuid}\n")
        owner = self.owner
        if owner.dead:
            hangup(leg, "ORIGINATOR_CANCEL")
            return
        clear_originator(owner)
        if not owner.answered:
            answer_channel(owner)
        link(owner, leg, dialled=True)
        owner.fire("CHANNEL_BRIDGE", pre=[("Bridge-A-Unique-ID", owner.uuid),
                                          ("Bridge-B-Unique-ID", leg.uuid)])
        leg.set_state("CS_EXCHANGE_MEDIA")
        self.host.later(self.host.tick(), bridge_updates, owner, leg, chan=owner)

    def fail(self, cause: str) -> None:
        super().fail(cause)
        owner = self.owner
        if owner.dead or self.run.finished:
            return
        clear_originator(owner)
        leg = self.leg
        if leg is not None:
            status = leg.get_var("sip_invite_failure_status")
            if status:  # sofia_handle_sip_r_invite tells the originator too
                phrase = leg.var("sip_invite_failure_phrase", "")
                owner.set_var("sip_invite_failure_status", status)
                owner.set_var("sip_invite_failure_phrase", phrase)
                owner.set_var("sip_hangup_phrase", phrase)
            owner.set_var("last_bridge_hangup_cause", cause)
            proto = leg.get_var("proto_specific_hangup_cause")
            if proto:
                owner.set_var("last_bridge_proto_specific_hangup_cause", proto)
        owner.set_var("originate_disposition", cause)
        owner.set_var("DIALSTATUS", causes.dialstatus(cause))
        if leg is not None:
            owner.set_var("originate_causes", f"{leg.uuid};{cause}")
        owner.set_var("originate_failed_cause", cause)
        owner.facts.pop("bridge_run", None)
        if truthy(owner.get_var("continue_on_fail")):
            complete(owner, self.run)
        else:
            hangup(owner, cause)


def set_originator(chan: Channel) -> None:
    """``CF_ORIGINATOR`` set: an answered channel waits for its callee (RING_WAIT)."""
    chan.facts["originator_callstate"] = chan.callstate
    if chan.answered and not chan.dead:
        chan.set_callstate("RING_WAIT")


def clear_originator(chan: Channel) -> None:
    """``CF_ORIGINATOR`` cleared: an answered channel is ACTIVE again."""
    if chan.facts.pop("originator_callstate", None) is not None and chan.answered \
            and not chan.dead and chan.callstate == "RING_WAIT":
        chan.set_callstate("ACTIVE")


def bridge_app(chan: Channel, run: AppRun) -> None:
    """``bridge <dial string>``: dial a new leg and bridge it to ``chan``."""
    host = chan.host
    try:
        variables, leg_vars, endpoint = parse_call_url(run.data.strip())
    except DialStringError as exc:
        chan.set_var("originate_disposition", exc.cause)
        complete(chan, run, exc.cause)
        return
    if endpoint.kind != "sofia" or endpoint.profile not in host.profiles:
        complete(chan, run, "CHAN_NOT_IMPLEMENTED")
        return
    req = OriginateRequest(variables, leg_vars, endpoint, raw=run.data)
    orig = _BridgeLeg(host, req, chan, run)
    chan.facts["bridge_run"] = run
    set_originator(chan)
    start_sofia(orig)
    leg = orig.leg
    if leg is not None:  # switch_ivr_originate remembers what it dialled on the caller
        chan.set_var("current_application_data", run.data)
        chan.set_var("current_application", run.name)
        chan.set_var("originate_signal_bond", leg.uuid)
        chan.set_var("originated_legs", f"{leg.uuid};{leg.profile.get('Callee-ID-Name', '')};"
                                        f"{leg.profile.get('Callee-ID-Number', '')}")
    if leg is not None and orig.timeout > 0:
        start_s = int(time.time())
        host.later(max(0.0, start_s + orig.timeout - time.time()), orig._timed_out, chan=leg)


def stop_bridge_app(chan: Channel, run: AppRun) -> None:
    """The bridging leg hung up while its bridge application ran."""
    unbridge(chan, chan.hangup_cause or "NORMAL_CLEARING")
    chan.facts.pop("bridge_run", None)


def bridge_app_ended(chan: Channel, run: AppRun, cause: str) -> None:
    """The dialled leg of a bridge application hung up: unbridge and go on."""
    if chan.dead or run.finished:
        return
    unbridge(chan, cause)
    chan.facts.pop("bridge_run", None)
    chan.bridge = None
    complete(chan, run)
    if truthy(chan.get_var("hangup_after_bridge")):
        hangup(chan, cause)
    elif truthy(chan.get_var("park_after_bridge")):
        start_app(chan, "park", "", "dialplan")
