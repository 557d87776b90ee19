"""Names the listener goes by: the tracking and app-id variables set at
originate, the channel events it needs, and which events carry a channel's
variables.

>>> header_of("sip_h_X-switchlab_call_id")
'variable_sip_h_X-switchlab_call_id'
"""
from __future__ import annotations

__all__ = ["APP_ID_VAR", "CALL_TRACKING_VAR", "DEFAULT_EVENTS", "FULL_EVENTS",
           "NO_CREATE_EVENTS", "header_of"]

#: default names of the tracking and app-id variables (as set at originate)
CALL_TRACKING_VAR = "sip_h_X-switchlab_call_id"
APP_ID_VAR = "sip_h_X-switchlab_app"

#: events that must not create a session for an unknown uuid (trailing events)
NO_CREATE_EVENTS = frozenset({"CHANNEL_DESTROY", "CHANNEL_HANGUP_COMPLETE"})
#: events that carry the channel variables (CHANNEL_STATE, CODEC, CHANNEL_OUTGOING and
#: CHANNEL_CALLSTATE carry none): a session is tied to its call by the first of these
#: (CHANNEL_DATA: the ``connect`` reply of an outbound socket)
FULL_EVENTS = frozenset({"CHANNEL_DATA", "CHANNEL_CREATE", "CHANNEL_ORIGINATE",
                         "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER",
                         "CHANNEL_EXECUTE", "CHANNEL_PARK", "CHANNEL_BRIDGE", "CHANNEL_HANGUP",
                         "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CALL_UPDATE"})

#: channel events the listener needs by default (Client subscribes to these)
DEFAULT_EVENTS = (
    "CHANNEL_CREATE", "CHANNEL_OUTGOING", "CHANNEL_ORIGINATE", "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER", "CHANNEL_PARK", "CHANNEL_UNPARK",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
    "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "BACKGROUND_JOB",
    "PLAYBACK_START", "PLAYBACK_STOP", "DTMF", "HEARTBEAT",
)


def header_of(var: str) -> str:
    """The event header of a channel variable: ``variable_<var>`` (idempotent)."""
    return var if var.startswith("variable_") else f"variable_{var}"
