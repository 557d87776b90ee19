"""The device under test (DUT) as the emulator models it: delays, outcomes, capacity.

>>> from switchlab.sim.dut import DUTModel, Latency
"""
from . import farends
from .latency import Latency, LatencyLike
from .model import DUTModel
from .plan import CallPlan, DUTStats

__all__ = ["farends", "CallPlan", "DUTModel", "DUTStats", "Latency", "LatencyLike"]
