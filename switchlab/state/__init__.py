"""Call state: sessions (channels), calls (legs tied together), bgapi jobs, and
the listener that keeps them from a connection's events."""
from ..esl import Job
from .call import Call
from ..wire.dialstring import originate_string, sofia_url, var_block
from .dispatch import EventListener
from .names import APP_ID_VAR, CALL_TRACKING_VAR, DEFAULT_EVENTS
from .session import Session, Vars

__all__ = ["APP_ID_VAR", "CALL_TRACKING_VAR", "DEFAULT_EVENTS", "Call", "EventListener", "Job",
           "Session", "Vars", "originate_string", "sofia_url", "var_block"]
