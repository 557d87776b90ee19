"""Pure data: FreeSWITCH's event sources, event names and ``show`` columns (from the
recorded transcripts, ``tests/data/fs-wire``).

* :data:`SOURCES`: ``Event-Calling-File/Function/Line-Number`` of each event type
  (with :data:`SOURCE_VARIANTS` where FreeSWITCH fires the same event from several places);
* :data:`EXTENDED`: the events that carry the channel variables;
* :data:`EVENT_NAMES`: every event name FreeSWITCH 1.11 knows;
* the ``show channels`` / ``show calls`` column sets.

The channel-variable milestones are in :mod:`.milestones`.
"""
from __future__ import annotations

from typing import Final

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
    ("CUSTOM", "bert"): ("mod_bert.c", "bert_test_function", "313"),
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
