"""The demo load test: a cluster of emulated FreeSWITCH hosts calling each
other through an emulated device under test (DUT) that has a capacity, a
realistic failure mix and a latency knee. Used by ``switchlab demo``, the
notebooks and ``scripts/make_sample_run.py``.

>>> run = asyncio.run(run_demo(seconds=5, out=None))        # doctest: +SKIP
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .apps.players import TonePlay
from .client import Client
from .originator.loadshapes import Ramp
from .measure import Run
from .originator import Originator, loopback_destinations
from .sim import DUTModel, Emulator
from .sim.dut import Latency


def demo_dut(seed: int = 2026, capacity: int = 300) -> DUTModel:
    """A DUT that behaves like a small SBC: ~40 ms to ring, ~0.5 s ring time,
    a few % of busy/unavailable/unallocated answers, a knee near ``capacity``."""
    return DUTModel(
        seed=seed,
        trying_ms=Latency.uniform(1, 4),
        ringing_ms=Latency.lognormal(40, 0.35),
        ring_ms=Latency.lognormal(450, 0.4),
        failure_ms=Latency.lognormal(60, 0.4),
        answer_probability=0.985,
        ring_timeout_s=4.0,
        failures={486: 0.02, 503: 0.008, 404: 0.004, 480: 0.004},
        capacity=capacity,
        knee_ms=25.0,
    )


async def run_demo(seconds: float = 30.0, peak_rate: float = 100.0, hosts: int = 2,
                   hold: float = 3.0, out: str | Path | None = None, seed: int = 2026,
                   dut: DUTModel | None = None,
                   on_start: Callable[[Originator], Any] | None = None) -> Run:
    """Ramp from 10 % to ``peak_rate`` calls/s over ``seconds`` on ``hosts``
    emulated hosts, calls held ``hold`` s, through the demo DUT; returns the
    :class:`~switchlab.measure.Run` (written to ``out`` when given)."""
    dut = dut or demo_dut(seed)
    async with Emulator(hosts=hosts, port=0, dut=dut, tick_us=1000) as fs:
        clients = [Client(h, p) for h, p in fs.esl_addresses]
        dests = await loopback_destinations(clients, "external")
        proxy = "{}:{}".format(*fs.dut_address)
        orig = Originator(clients, dest=dests, proxy=proxy,
                          shape=Ramp(peak_rate / 10, peak_rate, over=seconds, end=seconds),
                          limit=int(peak_rate * hold * 2), duration=hold, timeout=10,
                          apps={"tone": (TonePlay, 3), "tone2": (TonePlay, 1)},
                          run_dir=None if out is None else str(out))
        orig.run.params.update({"emulator": {"hosts": hosts, "dut": dut_params(dut),
                                             "tick_us": 1000}})
        await orig.connect()
        if on_start is not None:
            on_start(orig)
        orig.start()
        await orig.wait(seconds + hold + 30)
        run = await orig.close()
    if out is not None:
        run.save(out)
    return run


def dut_params(dut: DUTModel) -> dict[str, Any]:
    """The DUT's knobs as JSON-friendly values (for the run's metadata)."""
    keys = ("seed", "trying_ms", "ringing_ms", "ring_ms", "failure_ms", "answer_probability",
            "ring_timeout_s", "failures", "capacity", "knee_ms", "cps_limit")
    return {k: repr(getattr(dut, k)) if isinstance(getattr(dut, k), Latency) else
            getattr(dut, k) for k in keys}
