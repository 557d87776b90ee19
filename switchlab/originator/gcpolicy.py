"""The cyclic garbage collector while a load test launches calls.

switchlab frees calls by reference counting (``state.call`` breaks the one
cycle a finished call keeps), so the collector only has to catch strays. Left
at Python's defaults (a young collection every 700 net allocations) it walks
the objects of every call in flight again and again, and a full collection
walks everything the process holds (pandas included): at 300 calls/s that was
about a quarter of the originator's CPU, with pauses of up to 300 ms that show
as launch lag. While launching, the objects that existed at start are frozen
out of the collector (``gc.freeze``) and the young generation is collected
every :data:`YOUNG` allocations; both are undone when launching stops.

>>> policy = LoadTestGC()
>>> policy.start(); gc.get_threshold()[0] == YOUNG
True
>>> policy.stop(); gc.get_threshold()[0] == YOUNG
False
"""
from __future__ import annotations

import gc

__all__ = ["YOUNG", "LoadTestGC"]

#: net allocations between two young collections while launching (Python: 700)
YOUNG = 50_000


class LoadTestGC:
    """Tune the collector from :meth:`start` to :meth:`stop` (each idempotent)."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None
        self._froze = False

    def start(self) -> None:
        if self._saved is not None or not gc.isenabled():
            return  # already tuned, or the application manages the collector itself
        self._saved = gc.get_threshold()
        if gc.get_freeze_count() == 0:  # else someone else's freeze: left as it is
            gc.collect()
            gc.freeze()
            self._froze = True
        gc.set_threshold(YOUNG, self._saved[1], self._saved[2])

    def stop(self) -> None:
        saved, self._saved = self._saved, None
        if saved is not None:
            gc.set_threshold(*saved)
            if self._froze:
                self._froze = False
                gc.unfreeze()
