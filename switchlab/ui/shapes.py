"""Load shapes built from the panel's controls.

A shape's time axis starts when the originator started, so a ramp "over 30 s"
applied two minutes into a run would already be over. The panel wraps what
it applies in :class:`Delayed`, whose clock starts when it was applied.

>>> Delayed(Ramp(10, 50, over=20), offset=100).rate(110)
30.0
>>> staircase(5, 5, every=10, count=3).rate(25)
15.0
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..originator.loadshapes import Constant, LoadShape, Ramp, Steps

#: the shape kinds the panel offers
SHAPE_KINDS = ("constant", "steps", "ramp")


@dataclass(frozen=True)
class Delayed:
    """``shape`` starting ``offset`` seconds into the run (rate ``shape.rate(0)`` before)."""

    shape: LoadShape
    offset: float
    end: float | None = field(init=False)

    def __post_init__(self) -> None:
        if not self.offset >= 0:
            raise ValueError(f"offset must be >= 0 seconds, got {self.offset!r}")
        inner = self.shape.end
        object.__setattr__(self, "end", None if inner is None else self.offset + inner)

    def rate(self, t: float) -> float:
        return self.shape.rate(max(0.0, t - self.offset))

    def __repr__(self) -> str:
        return f"{self.shape!r} from t={self.offset:.1f}s"


def staircase(start: float, step: float, every: float, count: int) -> Steps:
    """``start``, ``start + step``... each held ``every`` s; the last step lasts."""
    if not every > 0:
        raise ValueError(f"every must be > 0 seconds, got {every!r}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count!r}")
    return Steps([(i * every, start + i * step) for i in range(int(count))])


def build_shape(kind: str, *, rate: float = 1.0, ramp_from: float = 1.0, ramp_to: float = 10.0,
                ramp_over: float = 30.0, steps_start: float = 1.0, steps_step: float = 1.0,
                steps_every: float = 10.0, steps_count: int = 5) -> LoadShape:
    """The shape named ``kind`` (one of :data:`SHAPE_KINDS`) from the panel's values."""
    if kind == "constant":
        return Constant(float(rate))
    if kind == "ramp":
        return Ramp(float(ramp_from), float(ramp_to), over=float(ramp_over))
    if kind == "steps":
        return staircase(float(steps_start), float(steps_step), float(steps_every),
                         int(steps_count))
    raise ValueError(f"unknown load shape {kind!r}; choose one of {', '.join(SHAPE_KINDS)}")
