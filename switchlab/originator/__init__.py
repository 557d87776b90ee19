"""Load generation: the :class:`Originator`, its load shapes and settings, the
per-call :class:`Recorder`, and :func:`loopback_destinations` (each host calls
itself back through the device under test)."""
from .originator import Originator, get_originator
from .recorder import LOAD_TEST_EVENTS, RECORDED_EVENTS, Recorder
from .status import OriginatorState
from .weights import SmoothWeighted

__all__ = ["LOAD_TEST_EVENTS", "Originator", "OriginatorState", "RECORDED_EVENTS", "Recorder",
           "SmoothWeighted", "get_originator"]
