"""Where an originator is (:class:`OriginatorState`) and how it reports it:
the live counters of :meth:`Originator.stats` and its one-line repr.

>>> format_number(2.0), format_number(0.25)
('2', '0.25')
"""
from __future__ import annotations

import asyncio
import enum
import time
from typing import Any

from .recorder import Recorder


class OriginatorState(enum.Enum):
    """The originator's launching state (not a connection's: see ``switchlab.connection``)."""

    INITIAL = "INITIAL"
    ORIGINATING = "ORIGINATING"
    STOPPED = "STOPPED"


def format_number(x: float) -> str:
    """A whole number without its ``.0``, others as ``%g``."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def live_stats(state: OriginatorState, recorder: Recorder, elapsed: float,
               target_rate: float) -> dict[str, Any]:
    """State, active, offered, answered, failed, Erlangs, achieved cps, target, ASR, elapsed."""
    rec = recorder
    finished = rec.answered + rec.failed
    return {"state": state.value, "active": rec.active, "offered": rec.offered,
            "answered": rec.answered, "failed": rec.failed, "erlangs": rec.answered_open,
            "achieved_cps": rec.offered / elapsed if elapsed > 0 else 0.0,
            "target_rate": target_rate, "asr": rec.answered / finished if finished else None,
            "elapsed": elapsed}


def describe(*, active: int, state: OriginatorState, originated: int, rate: float, limit: int,
             max_offered: int | None, duration: float) -> str:
    """The repr switchio printed for its originator.

    >>> describe(active=0, state=OriginatorState.INITIAL, originated=0, rate=1, limit=1,
    ...          max_offered=None, duration=5)
    '<Originator: active-calls=0 state=INITIAL total-originated-sessions=0 rate=1 limit=1 max-offered=inf duration=5>'
    """
    mo = "inf" if max_offered is None else str(max_offered)
    return (f"<Originator: active-calls={active} state={state.value} "
            f"total-originated-sessions={originated} rate={format_number(rate)} "
            f"limit={limit} max-offered={mo} duration={format_number(round(duration, 3))}>")


async def wait_stopped(orig: Any, timeout: float | None = None, *, calls: bool = True) -> bool:
    """Wait until ``orig`` (an originator: ``state``, ``count_active``) stopped
    launching and, with ``calls``, has no call left. False on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if orig.state is OriginatorState.STOPPED and (not calls or orig.count_active == 0):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)


def mark_stopped(orig: Any) -> None:
    """Set ``orig`` (an originator: ``state``, ``stopped_at``, ``run``) STOPPED
    and log it in its run, unless it already is."""
    if orig.state is not OriginatorState.STOPPED:
        orig.state = OriginatorState.STOPPED
        orig.stopped_at = time.monotonic()
        orig.run.log("state", OriginatorState.STOPPED.value)
