"""``loopback/<exten>``: two legs on one host, the B leg running the dialplan.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...wire.dialstring import Endpoint
from ..model import milestones as T
from ..model import sip
from ..model.channel import Channel
from .dialplan import dialplan_apps
from .hooks import HOOKS
from .legs import (
    L16,
    caller_id,
    create_outbound_leg,
    fire_codecs,
    log_new_channel,
    log_set_uuid,
    outbound_profile,
)

if TYPE_CHECKING:
    from .originate import Originate


def start_loopback(orig: Originate) -> None:
    host = orig.host
    req = orig.req
    ep = req.endpoint
    exten = ep.user
    tail = ep.text.split("/")[-1]
    a_uuid = req.var("origination_uuid") or sip.new_uuid()
    b_uuid = sip.new_uuid()
    a = Channel(host, a_uuid, f"loopback/{exten}/{ep.context}-a" if ep.context != "default"
                else f"loopback/{exten}-a", "outbound", "loopback")
    b = Channel(host, b_uuid, f"loopback/{exten}-b", "inbound", "loopback")
    a.peer, b.peer = b, a
    orig.leg = a
    a.originate = orig
    cid_num, cid_name = caller_id(req)
    a.facts.update(peer_uuid=b_uuid, cid_num=cid_num)
    b.facts.update(peer_uuid=a_uuid, cid_num=cid_num)
    now = host.clock.now_us()
    for leg in (a, b):
        leg.set_time("created", now)
        leg.set_time("profile_created", now)
    host.add_channel(a)
    host.add_channel(b)
    a.state_name = b.state_name = "CS_NONE"
    fire_codecs(a, L16, read_variant="read")
    a.name = f"loopback/{exten}-a"
    a.facts["chan_name"] = a.name
    outbound_profile(a, req, exten, cid_num, cid_name, "mod_loopback", context=ep.context,
                     callee_number=tail, dialplan="xml")
    a.facts["initial_profile"] = dict(a.profile)
    a.state_num = 1
    a.fire("CHANNEL_OUTGOING")
    log_new_channel(a)
    a.set_state("CS_INIT")
    log_set_uuid(a, req)
    fire_codecs(b, L16, read_variant="read")
    create_outbound_leg(a, req, T.LOOP_A_CREATE, T.LOOP_A_CREATE_TAIL)
    b.set_profile(**{
        "Direction": "inbound", "Logical-Direction": "inbound", "Dialplan": "xml",
        "Caller-ID-Name": cid_name or "", "Caller-ID-Number": cid_num,
        "Orig-Caller-ID-Name": cid_name or "", "Orig-Caller-ID-Number": cid_num,
        "Callee-ID-Name": "Outbound Call", "Callee-ID-Number": tail, "ANI": cid_num,
        "Destination-Number": exten, "Unique-ID": b_uuid, "Source": "mod_loopback",
        "Context": ep.context, "Channel-Name": b.name,
    })
    host.later(host.tick(), _loopback_b_run, b, ep, chan=b)
    b.set_state("CS_INIT")
    b.apply(T.LOOP_B_CREATE)


def _loopback_b_run(b: Channel, ep: Endpoint) -> None:
    if b.dead:
        return
    b.state_num = 2
    b.fire("CHANNEL_CREATE")
    b.state_name = "CS_ROUTING"
    b.set_callstate("RINGING")
    b.set_state("CS_ROUTING")
    b.set_state("CS_EXECUTE")
    HOOKS.run_apps(b, dialplan_apps(b, ep.user, ep.context), "dialplan")
