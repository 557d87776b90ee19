"""An INVITE arrives at an emulated host's sofia profile: the inbound leg.
"""
from __future__ import annotations

from ..model import milestones as T
from ..model import sip
from ..model.channel import Channel
from ..model.ports import Host, Profile
from .dialplan import dialplan_apps
from .hooks import HOOKS
from .legs import fire_codecs, log_new_channel
from .sofialog import log_negotiate, log_nua_state


def deliver_invite(caller: Channel, host: Host, profile: Profile,
                   via: tuple[str, int] | None) -> None:
    """An INVITE from ``caller`` arrives at ``host``'s ``profile``: create the inbound leg."""
    if caller.dead:
        return
    cf = caller.facts
    uuid = sip.new_uuid()
    cid_num = cf["cid_num"]
    from_host = cf["sip_ip"]
    chan = Channel(host, uuid, f"sofia/{profile.name}/{cid_num}@{from_host}", "inbound",
                   "sofia", profile.name)
    peer_ip, peer_port = via if via is not None else (cf["sip_ip"], cf["sip_port"])
    local_port = sip.media_port()
    chan.facts.update(
        sip_ip=profile.ip, sip_port=profile.port, cid_num=cid_num, from_host=from_host,
        call_id=cf["call_id"], peer_ip=peer_ip, peer_port=peer_port,
        invite_stamp=host.clock.now_us(), from_tag=cf["from_tag"], branch=sip.branch(),
        branch2=sip.branch(), dest_user=cf["dest_user"], remote_sdp=sip.remote_view(
            cf["local_sdp"]), remote_media_port=cf["local_media_port"],
        local_media_port=local_port, local_sdp=sip.fs_sdp(profile.ip, local_port, offer=False),
        ssrc=sip.ssrc(), to_tag=sip.sip_tag(), cseq=cf["cseq"])
    cid_name = cf.get("cid_name") or cid_num
    chan.peer = caller
    caller.peer = chan
    host.add_channel(chan)
    profile.calls_in += 1
    chan.fire("CHANNEL_STATE")
    log_new_channel(chan)
    chan.set_profile(**{
        "Direction": "inbound", "Logical-Direction": "inbound", "Username": cid_num,
        "Dialplan": "XML", "Caller-ID-Name": cid_name, "Caller-ID-Number": cid_num,
        "Orig-Caller-ID-Name": cid_name, "Orig-Caller-ID-Number": cid_num,
        "Network-Addr": peer_ip, "ANI": cid_num, "Destination-Number": cf["dest_user"],
        "Unique-ID": uuid, "Source": "mod_sofia", "Context": host.emulator.context,
        "Channel-Name": chan.name,
    })
    chan.facts["initial_profile"] = dict(chan.profile)
    chan.set_time("created", host.clock.now_us())
    chan.set_time("profile_created", chan.times["created"])
    late = profile.late_negotiation
    log_nua_state(chan, "received", 100, chan.facts["remote_sdp"])
    if not late:  # the offer is negotiated at once: the codecs are set before CS_INIT
        log_negotiate(chan, chan.facts["remote_sdp"])
        fire_codecs(chan)
    chan.set_state("CS_INIT")
    chan.apply(T.IN_CREATE_HEAD_LATE if late else T.IN_CREATE_HEAD)
    for name, value in caller.var_items():
        if name[:6] == "sip_h_":  # custom headers of the INVITE
            chan.set_var(name, value)
    chan.apply(T.IN_CREATE_TAIL_LATE if late else T.IN_CREATE_TAIL)
    chan.state_num = 2
    chan.fire("CHANNEL_CREATE")
    chan.state_name = "CS_ROUTING"
    chan.set_callstate("RINGING")
    chan.set_state("CS_ROUTING")
    if host.bus.log_max_level >= 6:
        host.log(6, "sofia.c", "sofia_handle_sip_i_invite", 10472,
                 f"{chan.name} receiving invite from {peer_ip}:{peer_port} version: "
                 f"1.11.1-release  64bit call-id: {cf['call_id']}", chan)
    # the caller now knows who answers for this INVITE
    cf.update(peer_ip=profile.ip if via is None else via[0],
              peer_port=profile.port if via is None else via[1], peer_media_ip=profile.ip,
              contact_params="transport=udp", contact_user=cf["dest_user"],
              recover_contact=f"<sip:{cf['dest_user']}@{profile.ip}:{profile.port};"
                              "transport=udp>",
              out_via=f"SIP/2.0/UDP {cf['sip_ip']}:{cf['sip_port']};rport={cf['sip_port']};"
                      f"branch={cf['branch']}",
              to_tag=chan.facts["to_tag"], remote_sdp=sip.remote_view(chan.facts["local_sdp"]),
              remote_media_port=local_port, dtmf_type="rfc2833", fs_peer=True)
    chan.set_state("CS_EXECUTE")
    HOOKS.run_apps(chan, dialplan_apps(chan, cf["dest_user"], host.emulator.context), "dialplan")
