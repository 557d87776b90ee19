"""Load generation: the :class:`Originator` and the per-call :class:`Recorder`."""
from .originator import Originator, State, get_originator
from .recorder import LOAD_TEST_EVENTS, RECORDED_EVENTS, Recorder
from .weights import SmoothWeighted

__all__ = ["LOAD_TEST_EVENTS", "Originator", "get_originator", "RECORDED_EVENTS", "Recorder", "SmoothWeighted", "State"]
