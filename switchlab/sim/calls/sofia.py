"""A sofia outbound leg and the routing of its virtual INVITE: to an emulated host's
profile, to the DUT (whose :class:`~switchlab.sim.dut.CallPlan` drives the
replies), or nowhere (a closed loopback port).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ...wire.dialstring import Endpoint
from ..dut import CallPlan
from ..model import milestones as T
from ..model.milestones_bridge import OUT_BRIDGE_HEAD, OUT_BRIDGE_TAIL
from ..model import sip
from ..model.channel import Channel
from .answer import outbound_answered, outbound_early_media, outbound_progress
from .inbound import deliver_invite
from .legs import (caller_id, create_outbound_leg, log_new_channel, log_set_uuid,
                   originator_clone, outbound_profile)
from .lifecycle import refused, remote_bye
from .sofialog import log_nua_state

if TYPE_CHECKING:
    from .originate import Originate


def start_sofia(orig: Originate) -> None:
    host = orig.host
    req = orig.req
    ep = req.endpoint
    profile = host.profiles[ep.profile]
    uuid = req.var("origination_uuid") or sip.new_uuid()
    dest = ep.text.split("/", 2)[2]
    chan = Channel(host, uuid, f"sofia/{profile.name}/{dest}", "outbound", "sofia",
                   profile.name)
    orig.leg = chan
    chan.originate = orig
    cid_num, cid_name = caller_id(req)
    owner = orig.originator
    if owner is not None:  # the caller's caller-id unless the dial string overrides it
        cid_num = req.var("origination_caller_id_number") or owner.cid_num or cid_num
        cid_name = req.var("origination_caller_id_name") or owner.cid_name
    port = ep.port
    to_hostport = ep.hostport
    local_port = sip.media_port()
    f = chan.facts
    f.update(sip_ip=profile.ip, sip_port=profile.port, dest_user=ep.user, dest_host=ep.host,
             dest_port=port if port is not None else 5060, to_hostport=to_hostport,
             dest_url=f"sip:{ep.user}@{to_hostport}" if ep.user else f"sip:{to_hostport}",
             req_uri=f"{ep.user}@{to_hostport}" if ep.user else to_hostport,
             cid_num=cid_num, cid_name=cid_name or "", local_media_port=local_port,
             local_sdp=sip.fs_sdp(profile.ip, local_port, offer=True),
             call_id=sip.call_id(), from_tag=sip.sip_tag(), cseq=sip.cseq(),
             branch=sip.branch(), ssrc=sip.ssrc())
    if owner is not None:
        originator_clone(chan, owner, ep.user, cid_num, cid_name)
        try:
            max_forwards = int(owner.var("max_forwards", "70")) - 1
        except ValueError:
            max_forwards = 69
        f.update(originator=owner.uuid, max_forwards=max_forwards,
                 originator_sdp=owner.var("switch_r_sdp", ""))
    else:
        outbound_profile(chan, req, ep.user, cid_num, cid_name, "src/switch_ivr_originate.c")
    chan.facts["initial_profile"] = dict(chan.profile)
    chan.set_time("created", host.clock.now_us())
    chan.set_time("profile_created", chan.times["created"])
    host.add_channel(chan)
    profile.calls_out += 1
    # CHANNEL_OUTGOING .. CS_CONSUME_MEDIA, all in one tick
    chan.state_name = "CS_NONE"
    chan.state_num = 1
    chan.fire("CHANNEL_OUTGOING")
    log_new_channel(chan)
    chan.set_state("CS_INIT")
    log_set_uuid(chan, req)
    if owner is not None:
        create_outbound_leg(chan, req, OUT_BRIDGE_HEAD, OUT_BRIDGE_TAIL)
    else:
        create_outbound_leg(chan, req, T.OUT_CREATE_HEAD, T.OUT_CREATE_TAIL)
    if host.bus.log_max_level >= 6:
        host.log(6, "sofia_glue.c", "sofia_glue_do_invite", 1656,
                 f"{chan.name} sending invite call-id: (null)", chan)
    if host.bus.log_max_level >= 7:
        sdp = chan.facts.get("local_sdp") or "NO SDP PRESENT\n"
        host.log(7, "sofia_glue.c", "sofia_glue_do_invite", 1659,
                 f"{chan.name} sending invite version: 1.11.1-release  64bit\nLocal SDP:\n{sdp}",
                 chan)
    log_nua_state(chan, "calling", 0)  # sofia-sip: "INVITE sent"
    route_invite(chan, ep)


def route_invite(chan: Channel, ep: Endpoint) -> None:
    """Send the leg's INVITE: to an emulated host, to the DUT, or nowhere (closed port)."""
    host = chan.host
    net = host.emulator
    target_port = ep.port if ep.port is not None else 5060
    hop = ep.proxy or (ep.host, target_port)
    hop_target = net.find_profile(*hop)
    if hop_target is not None:
        thost, tprofile = hop_target
        host.later(0, deliver_invite, chan, thost, tprofile, None, chan=chan)
        return
    if net.is_closed(*hop):
        # nothing listens: ICMP port unreachable, sofia fails the INVITE at once
        host.later(0.02, refused, chan, 503, None, False, chan=chan)
        return
    plan = net.dut.plan(now=time.monotonic())
    chan.dut_call = True
    chan.facts.update(dut_plan=plan)
    final = net.find_profile(ep.host, target_port) if ep.proxy else None
    if final is not None and plan.kind not in ("fail", "blackhole"):
        thost, tprofile = final
        dut_peer_facts(chan, hop, fs_peer=True)
        host.later(plan.forward_at, deliver_invite, chan, thost, tprofile, hop, chan=chan)
        return
    dut_peer_facts(chan, hop, fs_peer=False)
    run_dut_plan(chan, plan)


def dut_peer_facts(chan: Channel, hop: tuple[str, int], fs_peer: bool) -> None:
    f = chan.facts
    ip, port = hop
    f.update(peer_ip=ip, peer_port=port, peer_media_ip=ip, contact_params="transport=UDP",
             contact_user="nobody", recover_contact=f"<sip:{ip}:{port};transport=UDP>",
             out_via=f"SIP/2.0/UDP {f['sip_ip']}:{f['sip_port']};rport;branch={f['branch']}",
             to_tag=sip.sipp_tag(chan.session_id), remote_sdp=sip.dut_sdp(ip),
             remote_media_port=6000, dtmf_type="info", fs_peer=fs_peer)


def run_dut_plan(chan: Channel, plan: CallPlan) -> None:
    """Drive the outbound leg through the DUT's planned 180/183/200 or failure."""
    host = chan.host
    if plan.kind == "fail":
        host.later(plan.fail_at or 0.0, refused, chan, plan.sip_code, plan.reason_q850, True,
                   chan=chan)
        return
    if plan.kind == "blackhole":  # no reply ever: sofia's transaction times out
        host.later(plan.fail_at or 0.0, refused, chan, plan.sip_code, None, False, chan=chan)
        return
    if plan.ringing_at is not None:
        host.later(plan.ringing_at, outbound_progress, chan, chan=chan)
    if plan.early_media_at is not None:
        host.later(plan.early_media_at, outbound_early_media, chan, chan=chan)
    if plan.kind == "answer":
        host.later(plan.answer_at or 0.0, dut_answer, chan, plan, chan=chan)
    else:
        host.later(plan.fail_at or 0.0, refused, chan, plan.sip_code, None, True, chan=chan)


def dut_answer(chan: Channel, plan: CallPlan) -> None:
    if chan.dead:
        return
    chan.host.emulator.dut.answered()
    outbound_answered(chan)
    if plan.hangup_after is not None:
        chan.host.later(plan.hangup_after, remote_bye, chan, "NORMAL_CLEARING", chan=chan)
