"""Helpers the media apps share: find a call's two legs, answer a parked callee,
and write an app's outcome columns.

An app's outcome columns go into ``call.vars`` under the column names (declared
with :func:`~switchlab.measure.register_columns`); the recorder copies them into
the call's row when the call is written.
"""
from __future__ import annotations

import asyncio
from typing import Any

from ..errors import APIError, SessionGone
from ..state import Session

#: how long an app waits for the callee leg to show up on this connection
CALLEE_WAIT_S = 1.0


def answer_parked(sess: Session) -> None:
    """Answer an inbound (callee) leg parked by the dialplan (``CHANNEL_PARK``)."""
    if sess.is_inbound() and not sess.answered:
        sess.answer()


async def callee_of(caller: Session, wait: float = CALLEE_WAIT_S) -> Session | None:
    """The other leg of ``caller``'s call once it is answered; None when it is not on
    this connection (the far end is a DUT or another host) within ``wait`` seconds."""
    call = caller.call
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while call is not None:
        peer = call.get_peer(caller)
        if peer is not None and peer.answered:
            return peer
        if loop.time() >= deadline or caller.hungup:
            return None
        await asyncio.sleep(0.01)
    return None


def put(sess: Session, **columns: Any) -> None:
    """Set outcome columns of ``sess``'s call (ignored for a session without a call)."""
    call = sess.call
    if call is not None:
        for name, value in columns.items():
            call.set_column(name, value)


async def hangup_quietly(sess: Session) -> None:
    """Hang the call up from ``sess``; a leg already gone is fine."""
    try:
        await asyncio.wait_for(sess.hangup(), 10)
    except (APIError, SessionGone, asyncio.TimeoutError):
        pass
