"""What the DUT decided for one call (:class:`CallPlan`) and what it did so far
(:class:`DUTStats`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallPlan:
    """What the DUT will do with one call; delays in seconds from the INVITE.

    ``kind`` is ``answer``, ``fail`` (final failure response ``sip_code``),
    ``noanswer`` (rings until ``fail_at`` then answers ``480``) or ``blackhole``
    (no response at all; sofia times out at ``fail_at``). ``refused`` is set for
    capacity/cps refusals. ``echo_media`` / ``dtmf_loss``: the DUT's media model
    for this call (see :class:`~switchlab.sim.dut.DUTModel`).
    """

    kind: str
    sip_code: int = 200
    reason_q850: int | None = None
    cause: str = "NORMAL_CLEARING"
    forward_at: float = 0.0
    ringing_at: float | None = None
    early_media_at: float | None = None
    answer_at: float | None = None
    fail_at: float | None = None
    hangup_after: float | None = None
    refused: str | None = None
    echo_media: bool = False
    dtmf_loss: float = 0.0

    @property
    def failed(self) -> bool:
        return self.kind != "answer"


@dataclass
class DUTStats:
    """Counters of what the DUT did, since the emulator started (or :meth:`reset`)."""

    offered: int = 0
    answered: int = 0
    unanswered: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    sip_codes: dict[int, int] = field(default_factory=dict)
    congested: int = 0
    rate_limited: int = 0
    blackholed: int = 0
    active: int = 0
    peak_active: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return {
            "offered": self.offered, "answered": self.answered, "unanswered": self.unanswered,
            "failed": dict(self.failed), "sip_codes": dict(self.sip_codes),
            "congested": self.congested, "rate_limited": self.rate_limited,
            "blackholed": self.blackholed,
            "active": self.active, "peak_active": self.peak_active,
        }
