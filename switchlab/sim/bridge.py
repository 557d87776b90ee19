"""Bridging two legs: ``uuid_bridge`` and the ``bridge`` application.

As in the bridge transcript: ONE CHANNEL_BRIDGE and ONE CHANNEL_UNBRIDGE, both
on the originator (A) leg; the far SIP ends of bridged legs get CALL_UPDATE and
RECV_INFO (display update). When one bridged leg hangs up, the other follows
(unless ``park_after_bridge`` / ``hangup_after_bridge=false`` says otherwise
for a ``bridge`` application).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import sip
from .callflow import Originate, find_channel, hangup, start_sofia
from ..wire.dialstring import DialStringError, OriginateRequest, parse_call_url

if TYPE_CHECKING:
    from .apps import AppRun
    from .channel import Channel
    from .host import EmulatedHost


def _role(chan: Channel) -> str | None:
    return chan.facts.get("bridge_role")


# -- hooks called by callflow.hangup ---------------------------------------------------------
def before_hangup(chan: Channel, cause: str) -> None:
    """Variables set just before CHANNEL_HANGUP on a bridged leg."""
    if chan.bridge is None:
        return
    if _role(chan) == "originator":
        chan.set_var("last_bridge_role", "originator")
    else:
        chan.unset_var("bridge_to")
        chan.set_var("last_bridge_hangup_cause", cause)


def unbridge(chan: Channel, cause: str) -> None:
    """CHANNEL_UNBRIDGE on the originator leg."""
    other = chan.bridge
    if other is None or _role(chan) != "originator" or chan.facts.get("unbridged"):
        return
    chan.facts["unbridged"] = True
    chan.unset_var("bridge_to")
    chan.set_var("bridge_hangup_cause", cause)
    chan.fire("CHANNEL_UNBRIDGE", pre=[("Bridge-A-Unique-ID", chan.uuid),
                                       ("Bridge-B-Unique-ID", other.uuid)])


def partner_hangup(chan: Channel, cause: str) -> None:
    """``chan`` hung up: its bridge partner follows (or continues, for a bridge app)."""
    other = chan.bridge
    if other is None or other.dead:
        return
    host = chan.host
    run = other.facts.get("bridge_run")
    if run is not None and _role(other) == "originator":
        host.later(host.tick(), _bridge_app_ended, other, run, cause, chan=other)
        return
    host.later(host.tick(), hangup, other, cause, "bridge")


# -- uuid_bridge ---------------------------------------------------------------------------
def uuid_bridge(host: EmulatedHost, arg: str) -> str:
    """``uuid_bridge <uuid> <other_uuid>``."""
    parts = arg.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <other_uuid>\n"
    a = find_channel(host, parts[0])
    b = find_channel(host, parts[1])
    if a is None or b is None or a.dead or b.dead or a is b:
        return "-ERR Invalid uuid\n"
    tick = host.tick()
    host.later(tick, _transfer, a, b, True, chan=a)
    host.later(2 * tick, _transfer, b, a, False, chan=b)
    host.later(3 * tick, _join, a, b, chan=a)
    return f"+OK {parts[1]}\n"


def _leave_park(chan: Channel) -> None:
    from .apps import STOPPERS, _stack, complete
    stack = _stack(chan)
    while stack:
        run = stack[-1]
        run.on_done = None
        stop = STOPPERS.get(run.name)
        if stop is not None:
            stop(chan, run)
        complete(chan, run)


def _transfer(chan: Channel, other: Channel, first: bool) -> None:
    if chan.dead or other.dead:
        return
    now = chan.host.clock.now_us()
    history = f"{now // 1_000_000}:{sip.new_uuid()}:uuid_br:{other.uuid}"
    if first:
        chan.set_var("uuid_bridge", other.uuid)
    for name, value in (("bridge_channel", other.name), ("bridge_uuid", other.uuid),
                        ("signal_bond", other.uuid),
                        ("original_destination_number",
                         chan.profile.get("Destination-Number", "")),
                        ("original_caller_id_name", chan.cid_name),
                        ("original_caller_id_number", chan.cid_num),
                        ("transfer_history", history), ("transfer_source", history)):
        chan.set_var(name, value)
    chan.profile_index = "2"
    chan.set_time("profile_created", now)
    chan.set_profile(**{"Logical-Direction": "inbound", "Transfer-Source": history,
                        "Callee-ID-Number": other.profile.get("Orig-Caller-ID-Number", "")})
    chan.link_other("originatee" if first else "originator", other)
    chan.state_num = 8  # CS_HIBERNATE requested: the park loop sees it and ends
    chan.changed()
    _leave_park(chan)
    chan.set_state("CS_HIBERNATE")
    chan.set_state("CS_RESET")
    chan.set_state("CS_SOFT_EXECUTE")


def _join(a: Channel, b: Channel) -> None:
    if a.dead or b.dead:
        return
    host = a.host
    a.unset_var("uuid_bridge")
    a.fire("CHANNEL_EXECUTE", variant="uuid_bridge_a",
           post=[("Application", "uuid_bridge"), ("Application-Data", b.uuid)])
    b.set_var("call_uuid", b.vars.get("call_uuid", b.uuid))
    b.fire("CHANNEL_EXECUTE", variant="uuid_bridge_b",
           post=[("Application", "uuid_bridge"), ("Application-Data", a.uuid)])
    link(a, b)
    a.fire("CHANNEL_BRIDGE", pre=[("Bridge-A-Unique-ID", a.uuid),
                                  ("Bridge-B-Unique-ID", b.uuid)])
    b.set_state("CS_EXCHANGE_MEDIA")
    host.later(host.tick(), _bridge_updates, a, b, chan=a)


def link(a: Channel, b: Channel) -> None:
    """Tie ``a`` (originator) and ``b`` (originatee) together."""
    now = a.host.clock.now_us()
    a.bridge, b.bridge = b, a
    a.facts["bridge_role"] = "originator"
    b.facts["bridge_role"] = "originatee"
    a.set_time("bridged", now)
    b.set_time("bridged", now)
    a.link_other("originatee", b)
    b.link_other("originator", a)


def _sent_callee(chan: Channel, other: Channel) -> tuple[str, str]:
    num = other.profile.get("Orig-Caller-ID-Number") or other.cid_num
    return num, num


def _bridge_updates(a: Channel, b: Channel) -> None:
    for x, y in ((a, b), (b, a)):
        if x.dead:
            continue
        name, num = _sent_callee(x, y)
        if x is b:
            x.set_var("call_uuid", a.uuid)
        for var, value in (("bridge_to", y.uuid), ("last_bridge_to", y.uuid),
                           ("bridge_channel", y.name), ("bridge_uuid", y.uuid),
                           ("signal_bond", y.uuid), ("last_sent_callee_id_name", name),
                           ("last_sent_callee_id_number", num)):
            x.set_var(var, value)
        x.fire("CALL_UPDATE", variant="bridge", pre=[
            ("Direction", "SEND"), ("Sent-Callee-ID-Name", name),
            ("Sent-Callee-ID-Number", num), ("Bridged-To", y.uuid)])
    for x, y in ((a, b), (b, a)):
        far = x.peer
        if far is None or far.dead or far.kind != "sofia":
            continue
        _display_update(far, y)


def _display_update(far: Channel, other: Channel) -> None:
    """The far end of a bridged leg learns who it now talks to (UPDATE + INFO)."""
    num = other.profile.get("Orig-Caller-ID-Number") or other.cid_num
    far.set_profile(**{"Caller-ID-Name": num, "Caller-ID-Number": num})
    far.fire("CALL_UPDATE", variant="callee", pre=[("Direction", "RECV")])
    f = far.facts
    far.fire("RECV_INFO", extended=False, pre=[
        ("SIP-Content-Type", "message/update_display"), ("SIP-From-User", f.get("cid_num", "")),
        ("SIP-From-Host", f.get("from_host", f.get("sip_ip", ""))),
        ("SIP-To-User", f.get("dest_user", "")), ("SIP-To-Host", f.get("sip_ip", "")),
        ("SIP-Contact-User", "mod_sofia"), ("SIP-Contact-Host", f.get("peer_ip", ""))])


# -- the bridge application ---------------------------------------------------------------
class _BridgeLeg(Originate):
    """The B leg a ``bridge`` application dials: its answer bridges, its failure reports."""

    def __init__(self, host: EmulatedHost, req: OriginateRequest, owner: Channel,
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
            from .callflow import answer_channel
            answer_channel(owner)
        link(owner, leg)
        owner.fire("CHANNEL_BRIDGE", pre=[("Bridge-A-Unique-ID", owner.uuid),
                                          ("Bridge-B-Unique-ID", leg.uuid)])
        leg.set_state("CS_EXCHANGE_MEDIA")
        self.host.later(self.host.tick(), _bridge_updates, owner, leg, chan=owner)

    def fail(self, cause: str) -> None:
        super().fail(cause)
        owner = self.owner
        if not owner.dead and not self.run.finished:
            from .apps import complete
            owner.set_var("originate_disposition", cause)
            owner.set_var("DIALSTATUS", cause)
            owner.facts.pop("bridge_run", None)
            complete(owner, self.run, cause)


def bridge_app(chan: Channel, run: AppRun) -> None:
    """``bridge <dial string>``: dial a new leg and bridge it to ``chan``."""
    from .apps import complete
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


def _bridge_app_ended(chan: Channel, run: AppRun, cause: str) -> None:
    """The dialled leg of a bridge application hung up: unbridge and go on."""
    from .apps import complete, start_app
    from .sip import truthy
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


__all__ = ["uuid_bridge", "bridge_app", "before_hangup", "partner_hangup", "unbridge", "link"]
