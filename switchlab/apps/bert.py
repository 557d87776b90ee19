"""``Bert``: a bit-error-rate test with mod_bert, one- or two-sided.

Once the caller (outbound) leg is answered, the app sets mod_bert's variables on
the testing leg(s) (``uuid_setvar_multi``: ``bert_timeout_ms``, ``bert_max_err``,
``bert_hangup_on_error=no``) and starts ``bert_test``:

* two-sided (default): on both legs; each checks the other's pattern;
* one-sided (``two_sided=False``): on the caller leg only; the callee leg runs
  ``echo`` (a far end that is not on this connection must loop the audio back
  itself, e.g. a media-echoing DUT).

mod_bert reports with CUSTOM events: ``mod_bert::in_sync`` (about a second after
the start when the pattern comes back), ``mod_bert::lost_sync``,
``mod_bert::timeout`` (no sync within ``bert_timeout_ms``). The app waits for the
caller leg's first one, then ``hold`` seconds more for a ``lost_sync``, writes its
columns and hangs up. (``bert_test`` itself runs until the hangup.)

Columns: ``bert_outcome`` (``in_sync`` / ``lost_sync`` / ``timeout``, or
``no_event`` when mod_bert said nothing in time), ``bert_sync`` (in sync and never
lost; ratio KPI ``bert_sync.ratio``), ``bert_sync_time`` (seconds from the start
to ``in_sync``, local clock).
"""
from __future__ import annotations

import asyncio
import time

from ..measure import ColumnSpec
from ..measure.columns import CATEGORY, FLAG, SECONDS
from ..state import Session
from ..state.media import BERT_IN_SYNC, BERT_LOST_SYNC
from . import callback, coroutine
from .legs import answer_parked, callee_of, hangup_quietly, put

COLUMNS = (
    ColumnSpec("bert_outcome", CATEGORY, "what mod_bert reported first on the caller leg",
               label="BERT outcome",
               source="Bert: `Event-Subclass` of the first `mod_bert::*` CUSTOM event"),
    ColumnSpec("bert_sync", FLAG, "BERT reached sync and kept it", label="BERT sync",
               source="Bert", ratio=True),
    ColumnSpec("bert_sync_time", SECONDS, "bert_test start to in_sync", unit="s",
               label="BERT sync time", source="Bert: local monotonic clock"),
)

#: the CUSTOM events the app listens to (subscribed as ``CUSTOM mod_bert::...``)
OUTCOMES = {"mod_bert::in_sync": "in_sync", "mod_bert::lost_sync": "lost_sync",
            "mod_bert::timeout": "timeout"}


class Bert:
    """Run mod_bert's ``bert_test`` on one or both legs of each call."""

    columns = COLUMNS

    def __init__(self, two_sided: bool = True, timeout_ms: int = 3000, max_err: float = 30.0,
                 hold: float = 1.0) -> None:
        self.two_sided = bool(two_sided)
        self.timeout_ms = int(timeout_ms)
        self.max_err = float(max_err)
        self.hold = float(hold)

    @callback("CHANNEL_PARK")
    def on_park(self, sess: Session) -> None:
        answer_parked(sess)

    @callback("mod_bert::in_sync", "mod_bert::lost_sync", "mod_bert::timeout")
    def on_bert(self, sess: Session) -> None:
        """Keep the leg's mod_bert events (``sess.vars["bert"]``: subclasses in order)."""
        sub = sess.get("Event-Subclass") or ""
        sess.vars["bert"] = (*sess.vars.get("bert", ()), sub)

    @coroutine("CHANNEL_ANSWER")
    async def on_answer(self, sess: Session) -> None:
        if not sess.is_outbound():
            return
        callee = await callee_of(sess)
        testers = [sess, callee] if self.two_sided and callee is not None else [sess]
        put(sess, bert_sync=False)
        await asyncio.gather(*(leg.bert_setup(timeout_ms=self.timeout_ms, max_err=self.max_err)
                               for leg in testers))
        if callee is not None and not self.two_sided:
            callee.echo()
        started = time.monotonic()
        for leg in testers:
            leg.bert_start()
        try:
            first = await sess.bert_outcome(timeout=self.timeout_ms / 1000.0 + 2.0)
        except asyncio.TimeoutError:
            first = ""
        synced_at = time.monotonic()
        if first == BERT_IN_SYNC and self.hold > 0:
            try:
                await asyncio.wait_for(sess.recv(BERT_LOST_SYNC), self.hold)
            except asyncio.TimeoutError:
                pass
        seen = sess.vars.get("bert", ())
        sync = first == BERT_IN_SYNC and BERT_LOST_SYNC not in seen
        put(sess, bert_outcome=OUTCOMES.get(first, "no_event"), bert_sync=sync,
            bert_sync_time=synced_at - started if first == BERT_IN_SYNC else None)
        await hangup_quietly(sess)

    def __repr__(self) -> str:
        return f"Bert(two_sided={self.two_sided}, timeout_ms={self.timeout_ms})"
