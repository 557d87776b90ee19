"""Far ends the DUT can play: the behaviours of the blocker apps, on the SIP side.

A blocker app makes a FreeSWITCH callee leg misbehave; these presets make the
emulated DUT itself answer that way, so a test can point the same client at
either and compare.

>>> early_media_only(timeout_s=3).answer_probability, busy(603).failures
(0.0, {603: 1.0})
"""
from __future__ import annotations

from .latency import Latency
from .model import DUTModel


def ringback(ring_s: float, seed: int | None = None) -> DUTModel:
    """Ring (180) for ``ring_s`` seconds, then answer every call (as CalleeRingback)."""
    return DUTModel(seed=seed, ring_ms=Latency.fixed(ring_s * 1000.0), failures={},
                    answer_probability=1.0)


def busy(code: int = 486, seed: int | None = None) -> DUTModel:
    """Answer every INVITE with SIP status ``code`` (as CalleeBlockOnInvite)."""
    return DUTModel(seed=seed, failures={code: 1.0})


def early_media_then_answer(early_s: float, seed: int | None = None) -> DUTModel:
    """183 with SDP at once, 200 ``early_s`` seconds later (as CalleeEarlyMedia)."""
    return DUTModel(seed=seed, early_media=1.0, early_media_ms=Latency.fixed(0),
                    ring_ms=Latency.fixed(early_s * 1000.0), failures={},
                    answer_probability=1.0)


def early_media_only(timeout_s: float = 120.0, seed: int | None = None) -> DUTModel:
    """183 with SDP, never answered: 480 after ``timeout_s`` (CalleeEarlyMedia with
    ``answer=False``)."""
    return DUTModel(seed=seed, early_media=1.0, early_media_ms=Latency.fixed(0),
                    answer_probability=0.0, ring_timeout_s=timeout_s, failures={})
