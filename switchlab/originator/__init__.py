"""Load generation: the :class:`Originator`, its load shapes and settings, the
per-call :class:`Recorder`, and :func:`loopback_destinations` (each host calls
itself back through the device under test)."""
from .originator import Originator, get_originator
from .recorder import LOAD_TEST_EVENTS, RECORDED_EVENTS, Recorder
from .setup import Loopback, NoSipProfile, loopback_destinations
from .status import OriginatorState
from .weights import SmoothWeighted

__all__ = ["LOAD_TEST_EVENTS", "Loopback", "NoSipProfile", "Originator", "OriginatorState",
           "RECORDED_EVENTS", "Recorder", "SmoothWeighted", "get_originator", "loopback_destinations"]
