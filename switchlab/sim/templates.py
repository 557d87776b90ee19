"""FreeSWITCH's header data, taken from the recorded transcripts (``tests/data/fs-wire``).

Two tables live here:

* :data:`SOURCES`: ``Event-Calling-File/Function/Line-Number`` of each event type
  (with variants where FreeSWITCH fires the same event from several places);
* variable "milestones": the channel variables FreeSWITCH sets, in its order, at
  each step of a call (``OUT_CREATE``, ``IN_CREATE``, ``ANSWER_MEDIA``, ...).
  Values are ``str.format`` templates over a channel's *facts* (``{uuid}``,
  ``{sip_ip}``, ...). FreeSWITCH moves a variable to the end of the list
  whenever it is set again, even to the same value; replaying these lists in
  order with that rule reproduces the header order of every recorded event.
"""
from __future__ import annotations

from collections.abc import Callable
from string import Formatter
from typing import Any, Final

from ..wire.urlcodec import fs_url_encode

#: ((variable name, value template, encoded line of a constant value or None,
#:   compiled formatter of a template value or None), ...)
Op = tuple[str, str, "str | None", "Callable[[dict], str] | None"]

#: event name -> (file, function, line) of the usual place it is fired
SOURCES: Final[dict[str, tuple[str, str, str]]] = {
    "API": ("switch_loadable_module.c", "switch_api_execute", "2954"),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", "1569"),
    "CALL_UPDATE": ("switch_channel.c", "switch_channel_flip_cid", "3279"),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", "3848"),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", "1689"),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", "302"),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", "626"),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", "1588"),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", "2949"),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", "2972"),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", "3447"),
    "CHANNEL_HANGUP_COMPLETE": ("switch_core_state_machine.c",
                                "switch_core_session_reporting_state", "943"),
    "CHANNEL_ORIGINATE": ("switch_core_state_machine.c", "switch_core_session_run", "632"),
    "CHANNEL_OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", "768"),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", "1002"),
    "CHANNEL_PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value",
                         "3507"),
    "CHANNEL_PROGRESS_MEDIA": ("switch_channel.c", "switch_channel_perform_mark_pre_answered",
                               "3562"),
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", "2409"),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", "1879"),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", "1213"),
    "CODEC": ("switch_core_codec.c", "switch_core_session_set_real_read_codec", "189"),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", "678"),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", "95"),
    "MEDIA_BUG_START": ("switch_core_media_bug.c", "switch_core_media_bug_add", "1014"),
    "MEDIA_BUG_STOP": ("switch_core_media_bug.c", "switch_core_media_bug_destroy", "84"),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", "1649"),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", "2023"),
    "PRIVATE_COMMAND": ("switch_ivr.c", "switch_ivr_parse_next_event", "804"),
    "RECORD_START": ("switch_ivr_async.c", "record_callback", "1482"),
    "RECORD_STOP": ("switch_ivr_async.c", "send_record_stop_event", "1241"),
    "RECV_INFO": ("sofia.c", "create_info_event", "9733"),
    "RE_SCHEDULE": ("switch_scheduler.c", "switch_scheduler_execute", "73"),
    "CUSTOM": ("switch_event.c", "switch_event_fire_detailed", "2030"),
}

#: alternative sources, keyed by (event name, variant)
SOURCE_VARIANTS: Final[dict[tuple[str, str], tuple[str, str, str]]] = {
    ("CODEC", "read"): ("switch_core_codec.c", "switch_core_session_set_read_codec", "300"),
    ("CODEC", "write"): ("switch_core_codec.c", "switch_core_session_set_write_codec", "471"),
    ("CALL_UPDATE", "bridge"): ("mod_sofia.c", "sofia_receive_message", "2133"),
    ("CALL_UPDATE", "callee"): ("sofia.c", "sofia_update_callee_id", "1358"),
    ("CHANNEL_EXECUTE", "uuid_bridge_a"): ("switch_ivr_bridge.c",
                                           "uuid_bridge_on_soft_execute", "1236"),
    ("CHANNEL_EXECUTE", "uuid_bridge_b"): ("switch_ivr_bridge.c",
                                           "uuid_bridge_on_soft_execute", "1243"),
}

#: events that carry the channel's variables (``switch_channel_event_set_extended_data``)
EXTENDED: Final = frozenset({
    "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_ANSWER", "CHANNEL_PARK",
    "CHANNEL_UNPARK", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DATA",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_DESTROY", "SESSION_HEARTBEAT",
    "API", "RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE",
    "MEDIA_BUG_START", "MEDIA_BUG_STOP", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "CUSTOM",
})

#: every event type name FreeSWITCH 1.11 knows (``EVENT_NAMES`` in switch_event.c)
EVENT_NAMES: Final = (
    "CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE",
    "CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN", "OUTBOUND_CHAN",
    "STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
    "MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN",
    "PRESENCE_OUT", "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER",
    "CODEC", "BACKGROUND_JOB", "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND",
    "HEARTBEAT", "TRAP", "ADD_SCHEDULE", "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE",
    "RELOADXML", "NOTIFY", "PHONE_FEATURE", "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE",
    "RECV_MESSAGE", "REQUEST_PARAMS", "CHANNEL_DATA", "GENERAL", "COMMAND",
    "SESSION_HEARTBEAT", "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED", "SEND_INFO",
    "RECV_INFO", "RECV_RTCP_MESSAGE", "SEND_RTCP_MESSAGE", "CALL_SECURE", "NAT", "RECORD_START",
    "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE", "FAILURE",
    "SOCKET_DATA", "MEDIA_BUG_START", "MEDIA_BUG_STOP", "CONFERENCE_DATA_QUERY",
    "CONFERENCE_DATA", "CALL_SETUP_REQ", "CALL_SETUP_RESULT", "CALL_DETAIL",
    "DEVICE_STATE", "TEXT", "SHUTDOWN_REQUESTED", "ALL",
)

SOFIA_UA: Final = "FreeSWITCH-mod_sofia/1.11.1-release~64bit"
SIP_ALLOW: Final = ("INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, "
                    "REFER, NOTIFY")
FS_VERSION: Final = "1.11.1-release~64bit"


class Template:
    """An ordered list of variable assignments ``name=value`` (value may hold ``{fact}``).

    ``ops`` are ``(name, template, encoded constant line or None, renderer or None)``.
    """

    __slots__ = ("ops",)

    def __init__(self, ops: tuple[Op, ...]) -> None:
        self.ops = ops

    def __add__(self, other: Template) -> Template:
        return Template(self.ops + other.ops)

    def __getitem__(self, index: slice) -> Template:
        return Template(self.ops[index])

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Any:
        return iter(self.ops)


def _ops(text: str) -> Template:
    """``name=value`` lines -> a :class:`Template`."""
    out: list[Op] = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"template line {line!r} lacks '='")
        if "{" in value:
            out.append((name, value, None, compile_template(value)))
        else:
            out.append((name, value, f"variable_{name}: {fs_url_encode(value)}\n", None))
    return Template(tuple(out))


def _fstring_code(template: str, names: dict[str, Any]) -> str | None:
    """The f-string source computing ``template`` from ``f`` (a facts dict), its
    constants bound in ``names``; None if it uses a format spec or conversion."""
    code = []
    for literal, field, spec, conv in Formatter().parse(template):
        if spec or conv:
            return None
        if literal:
            names[f"L{len(names)}"] = literal
            code.append("{L%d}" % (len(names) - 1))
        if field is not None:
            names[f"L{len(names)}"] = field
            code.append("{f[L%d]}" % (len(names) - 1))
    return 'f"' + "".join(code) + '"'


def compile_template(template: str) -> Callable[[dict[str, Any]], str]:
    """``"a{x}b"`` -> a function of a facts dict, twice as fast as ``str.format_map``.

    >>> compile_template("sip:{user}@{host}")({"user": "a", "host": "h"})
    'sip:a@h'
    """
    names: dict[str, Any] = {}
    code = _fstring_code(template, names)
    if code is None:
        return template.format_map
    # the source holds only names bound to our own constants: nothing to escape or inject
    return eval("lambda f: " + code, names)  # type: ignore[no-any-return]  # noqa: S307


# -- sofia outbound leg --------------------------------------------------------
#: before the originate's own {variables}
OUT_CREATE_HEAD: Final = _ops("""
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
OUT_CREATE_TAIL: Final = _ops("""
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
REPLY_NET: Final = _ops("""
sip_local_network_addr={sip_ip}
sip_reply_host={peer_ip}
sip_reply_port={peer_port}
sip_network_ip={peer_ip}
sip_network_port={peer_port}
""")

#: headers a FreeSWITCH peer sends (sipp sends neither)
PEER_SOFIA_HEADERS: Final = _ops(f"""
sip_user_agent={SOFIA_UA}
sip_allow={SIP_ALLOW}
""")

#: the dialog as learnt from a provisional/final reply
REPLY_DIALOG: Final = _ops("""
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

REMOTE_SDP: Final = _ops("switch_r_sdp={remote_sdp}")
EP_CODEC: Final = _ops("ep_codec_string=CORE_PCM_MODULE.PCMU@8000h@20i@64000b")

#: the far end's offer as read from its SDP (both sofia legs, this order)
REMOTE_OFFER: Final = _ops("""
rtp_use_codec_string=PCMU,PCMA
remote_video_media_flow=inactive
remote_text_media_flow=inactive
remote_audio_media_flow=sendrecv
""")

#: the codec chosen from that offer (both sofia legs, this order)
PCMU_CHOSEN: Final = _ops("""
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
LOCAL_RTP: Final = _ops("""
local_media_ip={sip_ip}
local_media_port={local_media_port}
advertised_media_ip={sip_ip}
rtp_use_timer_name=soft
rtp_use_pt=0
rtp_use_ssrc={ssrc}
""")

#: media negotiated on the outbound leg (answer without early media)
OUT_MEDIA: Final = (EP_CODEC + REMOTE_OFFER + PCMU_CHOSEN + _ops("dtmf_type={dtmf_type}")
                    + LOCAL_RTP)

#: media activated at early media (183 with SDP): as OUT_MEDIA plus audio_media_flow
OUT_EARLY_MEDIA: Final = OUT_MEDIA[:5] + _ops("audio_media_flow=sendrecv") + OUT_MEDIA[5:]

RFC2833: Final = _ops("""
rtp_2833_send_payload=101
rtp_2833_recv_payload=101
""")

REMOTE_MEDIA: Final = _ops("""
remote_media_ip={peer_media_ip}
remote_media_port={remote_media_port}
""")

#: caller-id flip when the outbound leg is answered (with CALL_UPDATE)
CID_FLIP: Final = _ops("""
endpoint_disposition={endpoint_disposition}
pre_transfer_caller_id_number={cid_num}
channel_cid_flipped=yes
""")

#: a refused INVITE (4xx/5xx/6xx) on the outbound leg
OUT_REFUSED: Final = _ops("""
sip_hangup_disposition=recv_refuse
sip_invite_failure_status={sip_status}
sip_invite_failure_phrase={sip_phrase}
sip_term_status={sip_status}
proto_specific_hangup_cause=sip:{sip_status}
sip_term_cause={q850}
""")

#: an INVITE FreeSWITCH cancelled (originate_timeout, hangup while ringing)
OUT_CANCELLED: Final = _ops("""
sip_hangup_disposition=send_cancel
sip_invite_failure_status=487
sip_invite_failure_phrase=CANCEL
""")

# -- sofia inbound leg ---------------------------------------------------------
IN_CREATE_HEAD: Final = _ops(f"""
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
    + _ops("ep_codec_string=CORE_PCM_MODULE.PCMU@8000h@20i@64000b,"
           "CORE_PCM_MODULE.PCMA@8000h@20i@64000b")
    + REMOTE_OFFER
    + _ops("""
audio_media_flow=sendrecv
remote_media_ip={peer_ip}
remote_media_port={remote_media_port}
""")
    + PCMU_CHOSEN
    + _ops("""
dtmf_type=rfc2833
endpoint_disposition=RECEIVED
"""))

#: media set up when the inbound leg answers (or pre-answers)
IN_ANSWER_MEDIA: Final = (_ops("rtp_local_sdp_str={local_sdp}") + LOCAL_RTP + RFC2833
                          + _ops("""
remote_media_ip={peer_ip}
remote_media_port={remote_media_port}
"""))

#: the dialog once the caller ACKed the 200 OK
IN_ACKED: Final = _ops("""
sip_to_tag={to_tag}
sip_from_tag={from_tag}
sip_cseq={cseq}
sip_call_id={call_id}
sip_full_via=SIP/2.0/UDP {peer_ip}:{peer_port};rport={peer_port};branch={branch2}
sip_full_from=<sip:{cid_num}@{from_host}>;tag={from_tag}
sip_full_to=<sip:{dest_user}@{sip_ip}:{sip_port}>;tag={to_tag}
""")

#: a BYE received (the far end hung up)
RECV_BYE: Final = _ops("""
sip_reason=Q.850;cause={q850};text="{cause}"
sip_term_status=200
proto_specific_hangup_cause=sip:200
sip_term_cause={q850}
""")

RECV_BYE_DONE: Final = _ops(f"""
sip_user_agent={SOFIA_UA}
sip_hangup_disposition=recv_bye
""")

#: a CANCEL received while ringing
RECV_CANCEL: Final = _ops("""
sip_hangup_disposition=recv_cancel
""")

# -- loopback ------------------------------------------------------------------
LOOP_A_CREATE: Final = _ops("""
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

LOOP_A_CREATE_TAIL: Final = _ops("""
originate_early_media=true
originate_endpoint=loopback
other_loopback_leg_uuid={peer_uuid}
loopback_leg=A
""")

LOOP_B_CREATE: Final = _ops("""
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
RTP_STATS: Final = _ops("""
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

#: the ``show channels`` / ``show calls`` column sets (api_catalog transcript)
SHOW_CHANNELS_COLUMNS: Final = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "application", "application_data", "dialplan", "context",
    "read_codec", "read_rate", "read_bit_rate", "write_codec", "write_rate",
    "write_bit_rate", "secure", "hostname", "presence_id", "presence_data", "accountcode",
    "callstate", "callee_name", "callee_num", "callee_direction", "call_uuid",
    "sent_callee_name", "sent_callee_num", "initial_cid_name", "initial_cid_num",
    "initial_ip_addr", "initial_dest", "initial_dialplan", "initial_context",
)
SHOW_CALLS_LEG_COLUMNS: Final = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
    "callee_name", "callee_num", "callee_direction", "call_uuid", "hostname",
    "sent_callee_name", "sent_callee_num",
)
SHOW_CALLS_B_COLUMNS: Final = (
    "b_uuid", "b_direction", "b_created", "b_created_epoch", "b_name", "b_state",
    "b_cid_name", "b_cid_num", "b_ip_addr", "b_dest", "b_presence_id", "b_presence_data",
    "b_accountcode", "b_callstate", "b_callee_name", "b_callee_num", "b_callee_direction",
    "b_sent_callee_name", "b_sent_callee_num", "call_created_epoch",
)
