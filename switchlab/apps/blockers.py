"""Blockers: the callee side of a call plays a misbehaving far end.

Each acts on the inbound (callee) leg when it is parked unanswered, and
records its outcome in the run's per-call columns:

* :class:`CalleeRingback`: ring (180) for ``ring_s`` seconds, then answer.
* :class:`CalleeBlockOnInvite`: answer the INVITE with SIP status ``code``
  (``respond 486 Busy Here``): the call fails with the matching cause.
* :class:`CalleeEarlyMedia`: pre-answer (183 with SDP), answer ``early_s``
  seconds later (or never, ``answer=False``: early media only).

>>> CalleeBlockOnInvite(code=603).code
603
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import SwitchlabError
from ..measure.columns import FLAG, SIP, ColumnSpec
from ..state.callflow import COMPLETION_EVENTS, respond_arg
from . import callback, coroutine

RINGBACK_OK = ColumnSpec("ringback_ok", FLAG, "the callee rang `ring_s` s, then answered "
                         "(CalleeRingback)", source="CalleeRingback: ring_ready and answer "
                         "completed", ratio=True)
BLOCK_CODE = ColumnSpec("block_code", SIP, "SIP status the callee answered the INVITE with "
                        "(CalleeBlockOnInvite)", label="block SIP code",
                        source="CalleeBlockOnInvite: its `respond` code")
BLOCK_OK = ColumnSpec("block_ok", FLAG, "the caller leg ended with the status the callee "
                      "responded (CalleeBlockOnInvite)", source="caller leg's "
                      "`variable_sip_term_status` = `block_code`", ratio=True)
EARLY_MEDIA_OK = ColumnSpec("early_media_ok", FLAG, "the callee pre-answered, then answered "
                            "as told (CalleeEarlyMedia)", label="early media ok",
                            source="CalleeEarlyMedia: pre_answer (and answer) completed",
                            ratio=True)


def _callee(sess: Any) -> bool:
    """An inbound leg parked unanswered, not yet handled by this app."""
    if not sess.is_inbound() or sess.answered or sess.vars.get("blocker"):
        return False
    sess.vars["blocker"] = True
    return True


def _record(sess: Any, name: str, value: Any) -> None:
    call = sess.call
    if call is not None:
        call.set_column(name, value)


async def _play(sess: Any, column: str, *steps: Callable[[], Awaitable[Any]]) -> None:
    """Run ``steps`` in order (each awaited); ``column``: True if all completed."""
    try:
        for step in steps:
            await step()
    except (SwitchlabError, asyncio.TimeoutError):
        _record(sess, column, False)
        return
    _record(sess, column, True)


class CalleeRingback:
    """Ring ``ring_s`` seconds (180 Ringing), then answer; column ``ringback_ok``."""

    columns = [RINGBACK_OK]
    subscribe = COMPLETION_EVENTS

    def __init__(self, ring_s: float = 2.0) -> None:
        self.ring_s = float(ring_s)

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        if _callee(sess):
            await _play(sess, "ringback_ok", sess.ring_ready,
                        lambda: asyncio.sleep(self.ring_s), sess.answer)


class CalleeBlockOnInvite:
    """Answer the INVITE with SIP status ``code`` (and ``reason``); columns
    ``block_code`` and ``block_ok`` (the caller saw that status)."""

    columns = [BLOCK_CODE, BLOCK_OK]
    subscribe = COMPLETION_EVENTS

    def __init__(self, code: int = 486, reason: str | None = "Busy Here") -> None:
        respond_arg(code, reason)  # checked now, not per call
        self.code = code
        self.reason = reason

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        if not _callee(sess):
            return
        _record(sess, "block_code", self.code)
        try:
            await sess.respond(self.code, self.reason)
        except SwitchlabError:
            _record(sess, "block_ok", False)

    @callback("CHANNEL_HANGUP")
    def on_hangup(self, sess: Any) -> None:
        if not sess.is_outbound() or self.code < 300:
            return
        status = sess.get("variable_sip_term_status")
        _record(sess, "block_ok", status == str(self.code))


class CalleeEarlyMedia:
    """Pre-answer (183 with SDP), then answer ``early_s`` seconds later; with
    ``answer=False`` stay in early media until the caller gives up. Column
    ``early_media_ok``."""

    columns = [EARLY_MEDIA_OK]
    subscribe = COMPLETION_EVENTS

    def __init__(self, early_s: float = 2.0, answer: bool = True) -> None:
        self.early_s = float(early_s)
        self.answer = answer

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        if not _callee(sess):
            return
        steps = [sess.pre_answer]
        if self.answer:
            steps += [lambda: asyncio.sleep(self.early_s), sess.answer]
        await _play(sess, "early_media_ok", *steps)
