"""The ``bridge`` application: dial a new leg, bridge it to the channel when it answers,
report the failure cause when it does not.

When the dialled leg hangs up, the channel is unbridged and goes on with its
dialplan (``hangup_after_bridge=true`` hangs it up, ``park_after_bridge=true``
parks it).
"""
from __future__ import annotations

import time

from ...wire.dialstring import DialStringError, OriginateRequest, parse_call_url
from ..calls.answer import answer_channel
from ..calls.bridging import bridge_updates, link
from ..calls.lifecycle import hangup, unbridge
from ..calls.originate import Originate
from ..calls.sofia import start_sofia
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

    def succeed(self) -> None:
        leg = self.leg
        if self.done or leg is None:
            return
        self.deferred.resolve(f"+OK {leg.uuid}\n")
        owner = self.owner
        if owner.dead:
            hangup(leg, "ORIGINATOR_CANCEL")
            return
        if not owner.answered:
            answer_channel(owner)
        link(owner, leg)
        owner.fire("CHANNEL_BRIDGE", pre=[("Bridge-A-Unique-ID", owner.uuid),
                                          ("Bridge-B-Unique-ID", leg.uuid)])
        leg.set_state("CS_EXCHANGE_MEDIA")
        self.host.later(self.host.tick(), bridge_updates, owner, leg, chan=owner)

    def fail(self, cause: str) -> None:
        super().fail(cause)
        owner = self.owner
        if not owner.dead and not self.run.finished:
            owner.set_var("originate_disposition", cause)
            owner.set_var("DIALSTATUS", cause)
            owner.facts.pop("bridge_run", None)
            complete(owner, self.run, cause)


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
    variables.setdefault("origination_caller_id_number", chan.cid_num or "0000000000")
    req = OriginateRequest(variables, leg_vars, endpoint, raw=run.data)
    orig = _BridgeLeg(host, req, chan, run)
    chan.facts["bridge_run"] = run
    start_sofia(orig)
    leg = orig.leg
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
    if truthy(chan.vars.get("hangup_after_bridge")):
        hangup(chan, cause)
    elif truthy(chan.vars.get("park_after_bridge")):
        start_app(chan, "park", "", "dialplan")
