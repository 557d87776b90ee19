"""An embedded FreeSWITCH 1.11 emulator: an event-socket server whose calls follow a DUT model.

>>> from switchlab.sim import Emulator, DUTModel, Latency
"""
from .dut import CallPlan, DUTModel, DUTStats, Latency
from .emulator import Emulator

__all__ = ["CallPlan", "DUTModel", "DUTStats", "Emulator", "Latency"]
