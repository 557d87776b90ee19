"""An embedded FreeSWITCH 1.11 emulator: an event-socket server whose calls follow a DUT model.

>>> from switchlab.sim import Emulator, DUTModel, Latency

The call simulation runs compiled where the install could build it
(:mod:`switchlab.wire.native`).
"""
from ..wire import native

native.select(__name__)

from .dut import CallPlan, DUTModel, DUTStats, Latency  # noqa: E402
from .emulator import Emulator  # noqa: E402

__all__ = ["CallPlan", "DUTModel", "DUTStats", "Emulator", "Latency"]
