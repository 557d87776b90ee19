"""The cyclic garbage collector of an emulator process (``switchlab sim``), on a schedule.

The emulator frees channels by reference counting (it breaks its own cycles),
so the collector only has to catch strays. Left automatic, it would walk every
live channel's objects again and again under load. Collecting the young
generations once a second still walked each object of a call held longer than
a second once (about 5-10 % of the emulator's CPU at 1000 calls/s) and paused
the host for tens of milliseconds each time, which showed in the originate
latency its clients measure (p99 68-72 ms against 6-10 ms without;
docs/EMULATOR.md, "The collector").

So, with the automatic collector off, once a second (:meth:`EmulatorGC.tick`):

* what survived is *frozen* (``gc.freeze()``: moved out of the collector's
  reach without being walked, still freed by reference counting);
* every :attr:`~EmulatorGC.probe_every` th second the young generation (what
  was made since the last freeze, about a second's worth) is collected first: if
  that finds garbage, the calls leave strays and the young generations are
  collected every second from then on, as before, without freezing;
* a full pass (everything thawed, collected, frozen again) runs every
  :attr:`~EmulatorGC.full_every` seconds, or once no call is up; it also goes
  back to freezing.

Strays made between two probes wait for the next full pass.

>>> import gc
>>> policy = EmulatorGC(full_every=300.0, probe_every=10)
>>> policy.start(now=0.0); gc.isenabled()
False
>>> policy.tick(now=1.0, idle=False)
'freeze'
>>> policy.tick(now=12.0, idle=True)
'full'
>>> policy.stop(); gc.isenabled(), gc.get_freeze_count()
(True, 0)
"""
from __future__ import annotations

import gc
from typing import Literal

__all__ = ["EmulatorGC", "Step"]

#: what a tick did: ``"freeze"``, ``"probe"`` (young collection, then freeze),
#: ``"young"`` (young collection, strays seen) or ``"full"``
Step = Literal["freeze", "probe", "young", "full"]


class EmulatorGC:
    """The schedule above; :meth:`start` and :meth:`stop` are idempotent.

    ``full_every``: seconds between full passes under load; ``idle_after``:
    seconds since the last full pass after which an idle host gets one;
    ``probe_every``: ticks between two young collections while freezing.
    """

    def __init__(self, full_every: float = 300.0, probe_every: int = 10,
                 idle_after: float = 10.0) -> None:
        if full_every <= 0 or idle_after < 0 or probe_every < 1:
            raise ValueError("full_every must be > 0 s, idle_after >= 0 s and probe_every >= 1 "
                             f"tick (got {full_every!r}, {idle_after!r}, {probe_every!r})")
        self.full_every = full_every
        self.idle_after = idle_after
        self.probe_every = probe_every
        #: True once a probe found garbage: young collections every tick until a full pass
        self.strays = False
        #: objects the collector found unreachable (young collections and full passes)
        self.collected = 0
        self._ticks = 0
        self._last_full = 0.0
        self._running = False
        self._was_enabled = True

    def start(self, now: float) -> None:
        """Collect everything, freeze it, turn the automatic collector off."""
        if self._running:
            return
        self._running = True
        self._was_enabled = gc.isenabled()
        gc.collect()
        gc.freeze()  # what exists at start-up is never garbage
        gc.disable()
        self._last_full = now
        self._ticks = 0

    def tick(self, now: float, idle: bool) -> Step:
        """One second's step (``now``: ``time.monotonic()``; ``idle``: no call up)."""
        self._ticks += 1
        since = now - self._last_full
        if since >= self.full_every or (idle and since >= self.idle_after):
            gc.unfreeze()
            self.collected += gc.collect()
            gc.freeze()
            self._last_full = now
            self.strays = False
            return "full"
        if self.strays or self._ticks % self.probe_every == 0:
            found = gc.collect(1)
            self.collected += found
            self.strays = self.strays or found > 0
            if self.strays:  # no freeze: each second's strays are collected the next
                return "young"
            gc.freeze()
            return "probe"
        gc.freeze()
        return "freeze"

    def stop(self) -> None:
        """Thaw everything and give the collector back as it was at :meth:`start`."""
        if not self._running:
            return
        self._running = False
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()
