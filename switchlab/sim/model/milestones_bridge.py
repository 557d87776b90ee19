"""Pure data: the variables of a sofia leg dialled by a session (the ``bridge``
application), in FreeSWITCH's order: an originated leg's (:mod:`.milestones`) with the
caller's pieces added.
"""
from __future__ import annotations

from typing import Final

from .milestones import OUT_CREATE_HEAD as _HEAD
from .milestones import OUT_CREATE_TAIL as _TAIL
from .template import variables

#: switch_ivr_originate / switch_core_session_outgoing_channel copy the caller's codec,
#: SDP and uuid (``originator``, ``signal_bond``, ``call_uuid``) and sofia decrements its
#: Max-Forwards; no ``call_uuid`` of its own, no video flow yet; before the dial string's
#: variables
OUT_BRIDGE_HEAD: Final = _HEAD[0:3] + _HEAD[4:7] + _HEAD[8:11] + variables("""
sip_cid_type=rpid
max_forwards={max_forwards}
originator_codec=PCMU@8000h@20i
originator={originator}
signal_bond={originator}
switch_m_sdp={originator_sdp}
call_uuid={originator}
""")

#: after them: the caller's codec is the only one offered; video inactive like the caller's
OUT_BRIDGE_TAIL: Final = (_TAIL[0:1] + variables("originating_leg_uuid={originator}")
                          + _TAIL[1:2] + variables("rtp_use_codec_string=PCMU@8000h@20i")
                          + _TAIL[3:7] + variables("video_media_flow=inactive") + _TAIL[7:])
