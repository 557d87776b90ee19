"""Bridging two legs: ``uuid_bridge`` and the linking shared with the ``bridge``
application (:mod:`switchlab.sim.mod_dptools.bridge`).

As in the bridge transcript: ONE CHANNEL_BRIDGE and ONE CHANNEL_UNBRIDGE, both
on the originator (A) leg; the far SIP ends of bridged legs get CALL_UPDATE and
RECV_INFO (display update). What happens when a bridged leg hangs up is in
:mod:`.lifecycle`.
"""
from __future__ import annotations

from ..model import sip
from ..model.channel import Channel
from ..model.ports import Host
from .hooks import HOOKS
from .lifecycle import find_channel


def uuid_bridge(host: Host, arg: str) -> str:
    """``uuid_bridge <uuid> <other_uuid>``."""
    parts = arg.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <other_uuid>\n"
    a = find_channel(host, parts[0])
    b = find_channel(host, parts[1])
    if a is None or b is None or a.dead or b.dead or a is b:
        return "-ERR Invalid uuid\n"
    # switch_ivr_uuid_bridge steps both caller profiles (switch_channel_step_caller_profile:
    # the logical direction of a channel that hit the dialplan is inbound) and clones each
    # as the other's originator/originatee profile before it copies caller ids
    clones = {}
    for chan in (a, b):
        clone = dict(chan.profile)
        if chan.hit_dialplan:
            clone["Logical-Direction"] = "inbound"
        clones[chan.uuid] = clone
    tick = host.tick()
    host.later(tick, _transfer, a, b, True, clones[b.uuid], chan=a)
    host.later(2 * tick, _transfer, b, a, False, clones[a.uuid], chan=b)
    host.later(3 * tick, _join, a, b, chan=a)
    return f"+OK {parts[1]}\n"


def _transfer(chan: Channel, other: Channel, first: bool, clone: dict[str, str]) -> None:
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
    chan.set_profile(**{"Logical-Direction": "inbound", "Transfer-Source": history})
    if first:  # the originator takes the originatee's callee id
        chan.set_profile(**{"Callee-ID-Name": clone.get("Callee-ID-Name", ""),
                            "Callee-ID-Number": clone.get("Callee-ID-Number", "")})
    else:  # the originatee leaves the dialplan (CF_DIALPLAN cleared: logical outbound)
        chan.hit_dialplan = False
        if chan.direction == "outbound":
            chan.set_profile(**{"Logical-Direction": "outbound"})
    chan.link_other("originatee" if first else "originator", other, profile=clone)
    chan.state_num = 8  # CS_HIBERNATE requested: the park loop sees it and ends
    HOOKS.leave_apps(chan)  # the park loop ends
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
    b.set_var("call_uuid", b.var("call_uuid", b.uuid))
    b.fire("CHANNEL_EXECUTE", variant="uuid_bridge_b",
           post=[("Application", "uuid_bridge"), ("Application-Data", a.uuid)])
    link(a, b, cloned=True)
    a.fire("CHANNEL_BRIDGE", pre=[("Bridge-A-Unique-ID", a.uuid),
                                  ("Bridge-B-Unique-ID", b.uuid)])
    b.set_state("CS_EXCHANGE_MEDIA")
    host.later(host.tick(), bridge_updates, a, b, chan=a)


def link(a: Channel, b: Channel, dialled: bool = False, cloned: bool = False) -> None:
    """Tie ``a`` (originator) and ``b`` (originatee) together. ``dialled``: ``b`` was
    originated by ``a`` (``bridge``): it already has its originator profile, and ``a``
    gets a clone of ``b``'s (switch_ivr_originate: a clone carries no channel times).
    ``cloned``: both have their profiles already (``uuid_bridge``)."""
    now = a.host.clock.now_us()
    a.bridge, b.bridge = b, a
    a.facts["bridge_role"] = "originator"
    b.facts["bridge_role"] = "originatee"
    a.set_time("bridged", now)
    b.set_time("bridged", now)
    if cloned:
        return
    a.link_other("originatee", b, times=not dialled)
    if not dialled:
        b.link_other("originator", a)


def _sent_callee(chan: Channel, other: Channel) -> tuple[str, str]:
    """What ``chan`` tells its far end it now talks to (the bridge's display update,
    ``sofia_send_callee_id``): the originatee shows its callee id, the originator its
    caller id; an empty name is the number."""
    p = other.profile
    if other.facts.get("bridge_role") == "originatee":
        num = p.get("Callee-ID-Number", "")
        name = p.get("Callee-ID-Name", "")
    else:
        num = p.get("Caller-ID-Number", "")
        name = p.get("Caller-ID-Name", "")
    return name or num, num


def bridge_updates(a: Channel, b: Channel) -> None:
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
        _display_update(far, *_sent_callee(x, y))


def _display_update(far: Channel, name: str, num: str) -> None:
    """The far end of a bridged leg learns who it now talks to (UPDATE + INFO)."""
    far.set_profile(**{"Caller-ID-Name": name, "Caller-ID-Number": num})
    far.fire("CALL_UPDATE", variant="callee", pre=[("Direction", "RECV")])
    f = far.facts
    far.fire("RECV_INFO", extended=False, pre=[
        ("SIP-Content-Type", "message/update_display"), ("SIP-From-User", f.get("cid_num", "")),
        ("SIP-From-Host", f.get("from_host", f.get("sip_ip", ""))),
        ("SIP-To-User", f.get("dest_user", "")), ("SIP-To-Host", f.get("sip_ip", "")),
        ("SIP-Contact-User", "mod_sofia"), ("SIP-Contact-Host", f.get("peer_ip", ""))])


# -- the bridge application ---------------------------------------------------------------
