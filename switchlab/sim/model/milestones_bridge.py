"""Pure data: the variables of a sofia leg dialled by a session (the ``bridge``
application), in FreeSWITCH's order (re-exported by :mod:`.milestones`).
"""
from __future__ import annotations

from typing import Final

from .template import variables

#: a leg dialled by a session (``bridge``): switch_ivr_originate / switch_core_session_
#: outgoing_channel copy the caller's codec, SDP and uuid (``originator``, ``signal_bond``,
#: ``call_uuid``) and sofia decrements its Max-Forwards; before the dial string's variables
OUT_BRIDGE_HEAD: Final = variables("""
direction=outbound
is_outbound=true
uuid={uuid}
session_id={session_id}
sip_local_network_addr={sip_ip}
sip_profile_name={profile}
text_media_flow=disabled
channel_name={chan_name}
sip_destination_url={dest_url}
sip_cid_type=rpid
max_forwards={max_forwards}
originator_codec=PCMU@8000h@20i
originator={originator}
signal_bond={originator}
switch_m_sdp={originator_sdp}
call_uuid={originator}
""")

#: after them (the caller's codec is the only one offered)
OUT_BRIDGE_TAIL: Final = variables("""
originate_early_media=true
originating_leg_uuid={originator}
originate_endpoint=sofia
rtp_use_codec_string=PCMU@8000h@20i
local_media_ip={sip_ip}
local_media_port={local_media_port}
advertised_media_ip={sip_ip}
audio_media_flow=sendrecv
video_media_flow=inactive
rtp_local_sdp_str={local_sdp}
sip_outgoing_contact_uri=<sip:mod_sofia@{sip_ip}:{sip_port}>
sip_req_uri={req_uri}
sip_to_host={to_hostport}
sip_from_host={sip_ip}
sofia_profile_name={profile}
recovery_profile_name={profile}
sofia_profile_url=sip:mod_sofia@{sip_ip}:{sip_port}
""")
