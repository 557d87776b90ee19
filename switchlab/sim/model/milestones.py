"""Pure data: the channel variables FreeSWITCH sets, in its order, at each step of a call.

Taken from the recorded transcripts (``tests/data/fs-wire``): ``OUT_CREATE_HEAD``,
``IN_CREATE_HEAD``, ``IN_ANSWER_MEDIA``, ... Values are templates over a
channel's *facts* (``{uuid}``, ``{sip_ip}``, ...). FreeSWITCH moves a variable
to the end of the list whenever it is set again, even to the same value;
replaying these lists in order with that rule reproduces the header order of
every recorded event.
"""
from __future__ import annotations

from typing import Final

from .fsdata import SIP_ALLOW, SOFIA_UA
from .template import variables

# -- sofia outbound leg --------------------------------------------------------
#: before the originate's own {variables}
OUT_CREATE_HEAD: Final = variables("""
direction=outbound
is_outbound=true
uuid={uuid}
call_uuid={uuid}
session_id={session_id}
sip_local_network_addr={sip_ip}
sip_profile_name={profile}
video_media_flow=disabled
text_media_flow=disabled
channel_name={chan_name}
sip_destination_url={dest_url}
""")

#: after the originate's own {variables}
OUT_CREATE_TAIL: Final = variables("""
originate_early_media=true
originate_endpoint=sofia
rtp_use_codec_string=PCMU,PCMA
local_media_ip={sip_ip}
local_media_port={local_media_port}
advertised_media_ip={sip_ip}
audio_media_flow=sendrecv
rtp_local_sdp_str={local_sdp}
sip_outgoing_contact_uri=<sip:mod_sofia@{sip_ip}:{sip_port}>
sip_req_uri={req_uri}
sip_to_host={to_hostport}
sip_from_host={sip_ip}
sofia_profile_name={profile}
recovery_profile_name={profile}
sofia_profile_url=sip:mod_sofia@{sip_ip}:{sip_port}
""")

#: where a reply came from
REPLY_NET: Final = variables("""
sip_local_network_addr={sip_ip}
sip_reply_host={peer_ip}
sip_reply_port={peer_port}
sip_network_ip={peer_ip}
sip_network_port={peer_port}
""")

#: headers a FreeSWITCH peer sends (sipp sends neither)
PEER_SOFIA_HEADERS: Final = variables(f"""
sip_user_agent={SOFIA_UA}
sip_allow={SIP_ALLOW}
""")

#: the dialog as learnt from a provisional/final reply
REPLY_DIALOG: Final = variables("""
sip_recover_contact={recover_contact}
sip_full_via={out_via}
sip_recover_via={out_via}
sip_full_from=<sip:{cid_num}@{sip_ip}>;tag={from_tag}
sip_full_to=<sip:{dest_user}@{to_hostport}>;tag={to_tag}
sip_from_user={cid_num}
sip_from_uri={cid_num}@{sip_ip}
sip_from_host={sip_ip}
sip_to_user={dest_user}
sip_to_port={dest_port}
sip_to_uri={dest_user}@{to_hostport}
sip_to_host={dest_host}
sip_contact_params={contact_params}
sip_contact_user={contact_user}
sip_contact_port={peer_port}
sip_contact_uri={contact_user}@{peer_ip}:{peer_port}
sip_contact_host={peer_ip}
sip_to_tag={to_tag}
sip_from_tag={from_tag}
sip_cseq={cseq}
sip_call_id={call_id}
""")

REMOTE_SDP: Final = variables("switch_r_sdp={remote_sdp}")
EP_CODEC: Final = variables("ep_codec_string=CORE_PCM_MODULE.PCMU@8000h@20i@64000b")

#: the far end's offer as read from its SDP (both sofia legs, this order)
REMOTE_OFFER: Final = variables("""
rtp_use_codec_string=PCMU,PCMA
remote_video_media_flow=inactive
remote_text_media_flow=inactive
remote_audio_media_flow=sendrecv
""")

#: the codec chosen from that offer (both sofia legs, this order)
PCMU_CHOSEN: Final = variables("""
rtp_audio_recv_pt=0
rtp_use_codec_name=PCMU
rtp_use_codec_rate=8000
rtp_use_codec_ptime=20
rtp_use_codec_channels=1
rtp_last_audio_codec_string=PCMU@8000h@20i@1c
read_codec=PCMU
original_read_codec=PCMU
read_rate=8000
original_read_rate=8000
write_codec=PCMU
write_rate=8000
""")

#: our own RTP end, set when media is activated (both sofia legs, this order)
LOCAL_RTP: Final = variables("""
local_media_ip={sip_ip}
local_media_port={local_media_port}
advertised_media_ip={sip_ip}
rtp_use_timer_name=soft
rtp_use_pt=0
rtp_use_ssrc={ssrc}
""")

#: media negotiated on the outbound leg (answer without early media)
OUT_MEDIA: Final = (EP_CODEC + REMOTE_OFFER + PCMU_CHOSEN + variables("dtmf_type={dtmf_type}")
                    + LOCAL_RTP)

#: media activated at early media (183 with SDP): as OUT_MEDIA plus audio_media_flow
OUT_EARLY_MEDIA: Final = OUT_MEDIA[:5] + variables("audio_media_flow=sendrecv") + OUT_MEDIA[5:]

RFC2833: Final = variables("""
rtp_2833_send_payload=101
rtp_2833_recv_payload=101
""")

REMOTE_MEDIA: Final = variables("""
remote_media_ip={peer_media_ip}
remote_media_port={remote_media_port}
""")

#: caller-id flip when the outbound leg is answered (with CALL_UPDATE)
CID_FLIP: Final = variables("""
endpoint_disposition={endpoint_disposition}
pre_transfer_caller_id_number={cid_num}
channel_cid_flipped=yes
""")

#: a refused INVITE (4xx/5xx/6xx) on the outbound leg
OUT_REFUSED: Final = variables("""
sip_hangup_disposition=recv_refuse
sip_invite_failure_status={sip_status}
sip_invite_failure_phrase={sip_phrase}
sip_term_status={sip_status}
proto_specific_hangup_cause=sip:{sip_status}
sip_term_cause={q850}
""")

#: a refusal from a FreeSWITCH peer, which adds ``Reason: Q.850`` to the response
OUT_REFUSED_FS: Final = variables("""
sip_hangup_disposition=recv_refuse
sip_invite_failure_status={sip_status}
sip_invite_failure_phrase={sip_phrase}
sip_reason=Q.850;cause={q850};text="{cause}"
sip_term_status={sip_status}
proto_specific_hangup_cause=sip:{sip_status}
sip_term_cause={q850}
""")

#: an INVITE FreeSWITCH cancelled (originate_timeout, hangup while ringing)
OUT_CANCELLED: Final = variables("""
sip_hangup_disposition=send_cancel
sip_invite_failure_status=487
sip_invite_failure_phrase=CANCEL
""")

# -- sofia inbound leg ---------------------------------------------------------
IN_CREATE_HEAD: Final = variables(f"""
direction=inbound
uuid={{uuid}}
call_uuid={{uuid}}
session_id={{session_id}}
sip_from_user={{cid_num}}
sip_from_uri={{cid_num}}@{{from_host}}
sip_from_host={{from_host}}
video_media_flow=disabled
text_media_flow=disabled
channel_name={{chan_name}}
sip_call_id={{call_id}}
sip_local_network_addr={{sip_ip}}
sip_network_ip={{peer_ip}}
sip_network_port={{peer_port}}
sip_invite_stamp={{invite_stamp}}
sip_received_ip={{peer_ip}}
sip_received_port={{peer_port}}
sip_via_protocol=udp
sip_from_user_stripped={{cid_num}}
sip_from_tag={{from_tag}}
sofia_profile_name={{profile}}
sofia_profile_url=sip:mod_sofia@{{sip_ip}}:{{sip_port}}
recovery_profile_name={{profile}}
sip_Remote-Party-ID=<sip:{{cid_num}}@{{from_host}}>;party=calling;screen=yes;privacy=off
sip_cid_type=rpid
sip_full_via=SIP/2.0/UDP {{peer_ip}}:{{peer_port}};rport={{peer_port}};branch={{branch}}
sip_full_from=<sip:{{cid_num}}@{{from_host}}>;tag={{from_tag}}
sip_full_to=<sip:{{dest_user}}@{{sip_ip}}:{{sip_port}}>
sip_allow={SIP_ALLOW}
sip_req_user={{dest_user}}
sip_req_port={{sip_port}}
sip_req_uri={{dest_user}}@{{sip_ip}}:{{sip_port}}
sip_req_host={{sip_ip}}
sip_to_user={{dest_user}}
sip_to_port={{sip_port}}
sip_to_uri={{dest_user}}@{{sip_ip}}:{{sip_port}}
sip_to_host={{sip_ip}}
sip_contact_user=mod_sofia
sip_contact_port={{peer_port}}
sip_contact_uri=mod_sofia@{{peer_ip}}:{{peer_port}}
sip_contact_host={{peer_ip}}
sip_user_agent={SOFIA_UA}
sip_via_host={{peer_ip}}
sip_via_port={{peer_port}}
sip_via_rport={{peer_port}}
max_forwards=70
""")

#: after the INVITE's X- headers (``sip_h_X-...``)
IN_CREATE_TAIL: Final = (
    REMOTE_SDP
    + variables("ep_codec_string=CORE_PCM_MODULE.PCMU@8000h@20i@64000b,"
           "CORE_PCM_MODULE.PCMA@8000h@20i@64000b")
    + REMOTE_OFFER
    + variables("""
audio_media_flow=sendrecv
remote_media_ip={peer_ip}
remote_media_port={remote_media_port}
""")
    + PCMU_CHOSEN
    + variables("""
dtmf_type=rfc2833
endpoint_disposition=RECEIVED
"""))

_NAMES = [op[0] for op in IN_CREATE_HEAD]
_AFTER_VIDEO = _NAMES.index("video_media_flow") + 1
_AFTER_CONTACT = _NAMES.index("sip_contact_host") + 1
#: late negotiation: the media flow and the profile's codec string are set while the
#: INVITE is read (the offer itself waits)
IN_CREATE_HEAD_LATE: Final = (IN_CREATE_HEAD[:_AFTER_VIDEO]
                              + variables("audio_media_flow=disabled")
                              + IN_CREATE_HEAD[_AFTER_VIDEO:_AFTER_CONTACT]
                              + variables("rtp_use_codec_string=PCMU,PCMA")
                              + IN_CREATE_HEAD[_AFTER_CONTACT:])

#: ``inbound-late-negotiation``: the INVITE's SDP is kept, not negotiated (sofia.c
#: sofia_handle_sip_i_invite: ``endpoint_disposition=DELAYED NEGOTIATION``)
IN_CREATE_TAIL_LATE: Final = (
    REMOTE_SDP
    + variables("ep_codec_string=CORE_PCM_MODULE.PCMU@8000h@20i@64000b,"
           "CORE_PCM_MODULE.PCMA@8000h@20i@64000b")
    + variables("endpoint_disposition=DELAYED NEGOTIATION"))

#: the offer negotiated when a late-negotiation leg first needs media
#: (sofia_media_tech_media -> switch_core_media_negotiate_sdp)
IN_LATE_NEGOTIATE: Final = (REMOTE_OFFER + variables("audio_media_flow=sendrecv") + PCMU_CHOSEN
                            + variables("dtmf_type=rfc2833"))

#: media activated for a late-negotiation leg (no rtp_local_sdp_str yet: that comes with
#: the 183/200 that carries it)
IN_LATE_MEDIA: Final = LOCAL_RTP + RFC2833 + variables("""
remote_media_ip={peer_ip}
remote_media_port={remote_media_port}
""")

LOCAL_SDP: Final = variables("rtp_local_sdp_str={local_sdp}")

#: media set up when the inbound leg answers (or pre-answers)
IN_ANSWER_MEDIA: Final = (variables("rtp_local_sdp_str={local_sdp}") + LOCAL_RTP + RFC2833
                          + variables("""
remote_media_ip={peer_ip}
remote_media_port={remote_media_port}
"""))

#: the dialog once the caller ACKed the 200 OK
IN_ACKED: Final = variables("""
sip_to_tag={to_tag}
sip_from_tag={from_tag}
sip_cseq={cseq}
sip_call_id={call_id}
sip_full_via=SIP/2.0/UDP {peer_ip}:{peer_port};rport={peer_port};branch={branch2}
sip_full_from=<sip:{cid_num}@{from_host}>;tag={from_tag}
sip_full_to=<sip:{dest_user}@{sip_ip}:{sip_port}>;tag={to_tag}
""")

#: a BYE received (the far end hung up)
RECV_BYE: Final = variables("""
sip_reason=Q.850;cause={q850};text="{cause}"
sip_term_status=200
proto_specific_hangup_cause=sip:200
sip_term_cause={q850}
""")

RECV_BYE_DONE: Final = variables(f"""
sip_user_agent={SOFIA_UA}
sip_hangup_disposition=recv_bye
""")

#: a CANCEL received while ringing
RECV_CANCEL: Final = variables("""
sip_hangup_disposition=recv_cancel
""")

# -- loopback ------------------------------------------------------------------
LOOP_A_CREATE: Final = variables("""
direction=outbound
is_outbound=true
uuid={uuid}
call_uuid={uuid}
session_id={session_id}
read_codec=L16
read_rate=8000
write_codec=L16
write_rate=8000
channel_name={chan_name}
""")

LOOP_A_CREATE_TAIL: Final = variables("""
originate_early_media=true
originate_endpoint=loopback
other_loopback_leg_uuid={peer_uuid}
loopback_leg=A
""")

LOOP_B_CREATE: Final = variables("""
direction=inbound
uuid={uuid}
call_uuid={uuid}
session_id={session_id}
channel_name={chan_name}
read_codec=L16
read_rate=8000
write_codec=L16
write_rate=8000
other_loopback_leg_uuid={peer_uuid}
loopback_leg=B
""")

# -- hangup report -------------------------------------------------------------
#: rtp statistics FreeSWITCH adds for a leg that had media (``switch_core_media``)
RTP_STATS: Final = variables("""
rtp_audio_in_raw_bytes={in_bytes}
rtp_audio_in_media_bytes={in_bytes}
rtp_audio_in_packet_count={in_packets}
rtp_audio_in_media_packet_count={in_packets}
rtp_audio_in_skip_packet_count={skip_packets}
rtp_audio_in_jitter_packet_count=0
rtp_audio_in_dtmf_packet_count=0
rtp_audio_in_cng_packet_count=0
rtp_audio_in_flush_packet_count=0
rtp_audio_in_largest_jb_size=0
rtp_audio_in_jitter_min_variance=0.00
rtp_audio_in_jitter_max_variance=0.00
rtp_audio_in_jitter_loss_rate=0.00
rtp_audio_in_jitter_burst_rate=0.00
rtp_audio_in_mean_interval=0.00
rtp_audio_in_flaw_total=0
rtp_audio_in_quality_percentage=100.00
rtp_audio_in_mos=4.50
rtp_audio_out_raw_bytes={out_bytes}
rtp_audio_out_media_bytes={out_bytes}
rtp_audio_out_packet_count={out_packets}
rtp_audio_out_media_packet_count={out_packets}
rtp_audio_out_skip_packet_count=0
rtp_audio_out_dtmf_packet_count=0
rtp_audio_out_cng_packet_count=0
rtp_audio_rtcp_packet_count=0
rtp_audio_rtcp_octet_count=0
""")
