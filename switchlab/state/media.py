"""The media part of the :class:`~switchlab.state.Session` API: record, broadcast,
DTMF (RFC 2833 and in-band detection) and BERT, each an awaitable that completes on
FreeSWITCH's own completion signal.

Built on the one mechanism of :mod:`.callflow`: :meth:`CallFlow.execute` sends
``sendmsg execute`` with a fresh ``Event-UUID`` and resolves with the
CHANNEL_EXECUTE_COMPLETE whose ``Application-UUID`` matches (``Application-Response``
says how it went; ``variable_record_ms`` etc. ride along). Api commands
(``uuid_broadcast``, ``uuid_setvar``) complete with their reply; mod_bert's outcome
comes as a CUSTOM event (:meth:`Media.bert_outcome`).

    done = await sess.playback("tone_stream://%(1000,0,440)")
    assert done["Application-Response"] == "FILE PLAYED"
    await sess.record_start("${recordings_dir}/take.wav")
    ...
    stop = await sess.record_stop("${recordings_dir}/take.wav")
    recorded_ms = int(stop["variable_record_ms"])
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import CommandError
from ..wire.validate import check_word

if TYPE_CHECKING:
    from ..esl import Connection
    from ..wire.events import Event

#: mod_bert's custom event subclasses
BERT_IN_SYNC = "mod_bert::in_sync"
BERT_LOST_SYNC = "mod_bert::lost_sync"
BERT_TIMEOUT = "mod_bert::timeout"
BERT_EVENTS = (BERT_IN_SYNC, BERT_LOST_SYNC, BERT_TIMEOUT)
_LEGS = ("aleg", "bleg", "both")


def response(ev: Event | None) -> str | None:
    """The ``Application-Response`` of a CHANNEL_EXECUTE_COMPLETE (None without one)."""
    return None if ev is None else ev.get("Application-Response")


class Media:
    """Mixin of :class:`~switchlab.state.Session`: media control, awaitable."""

    __slots__ = ()

    if TYPE_CHECKING:
        uuid: str
        conn: Connection

        def recv(self, name: str, timeout: float | None = None) -> asyncio.Future[Event]: ...

        def _fire(self, fut: asyncio.Future[Any]) -> asyncio.Future[Any]: ...

        def execute(self, app: str, arg: str = "", *, event_lock: bool = False,
                    loops: int = 1) -> asyncio.Future[Event]: ...

        def setvars(self, values: Mapping[str, object]) -> asyncio.Future[str]: ...

    # -- broadcast ---------------------------------------------------------------------------
    def broadcast(self, path: str, leg: str = "aleg") -> asyncio.Future[str]:
        """``uuid_broadcast <uuid> <path> <aleg|bleg|both>`` (``app::arg`` runs an app);
        resolves with the api reply. The playback's own events follow on the leg(s)."""
        if leg not in _LEGS:
            raise CommandError(f"broadcast leg {leg!r} must be one of {', '.join(_LEGS)}")
        check_word("broadcast path", path)
        return self._fire(self.conn.api(f"uuid_broadcast {self.uuid} {path} {leg}"))

    # -- recording ---------------------------------------------------------------------------
    def record_start(self, path: str) -> asyncio.Future[Event]:
        """``record_session <path>``: resolves when recording runs (RECORD_START was fired).

        Use an absolute path (or ``${recordings_dir}/...``): FreeSWITCH resolves a
        relative one against ``sound_prefix`` and :meth:`record_stop` must name the
        same resolved path."""
        return self.execute("record_session", check_word("record path", path))

    def record_stop(self, path: str) -> asyncio.Future[Event]:
        """``stop_record_session <path>``; resolves with its CHANNEL_EXECUTE_COMPLETE,
        which carries ``variable_record_ms`` / ``variable_record_seconds`` /
        ``variable_record_samples`` / ``variable_record_completion_cause``."""
        return self.execute("stop_record_session", check_word("record path", path))

    # -- DTMF -----------------------------------------------------------------------------------
    def dtmf(self, digits: str, duration_ms: int | None = None) -> asyncio.Future[Event]:
        """``send_dtmf <digits>[@<ms>]`` as an application (RFC 2833 towards the far end);
        resolves with its CHANNEL_EXECUTE_COMPLETE. (:meth:`Session.send_dtmf` is the
        ``uuid_send_dtmf`` api form.)"""
        check_word("DTMF digits", digits)
        arg = digits if duration_ms is None else f"{digits}@{int(duration_ms)}"
        return self.execute("send_dtmf", arg)

    def start_dtmf_detect(self) -> asyncio.Future[Event]:
        """``spandsp_start_dtmf``: detect in-band (audio) DTMF on this leg; each digit
        then comes as a DTMF event with ``DTMF-Source: INBAND_AUDIO``."""
        return self.execute("spandsp_start_dtmf")

    def stop_dtmf_detect(self) -> asyncio.Future[Event]:
        """``spandsp_stop_dtmf``: stop the in-band detector."""
        return self.execute("spandsp_stop_dtmf")

    # -- BERT (mod_bert) ---------------------------------------------------------------------
    def bert_setup(self, *, timeout_ms: int = 3000, max_err: float = 30.0,
                   hangup_on_error: bool = False, timer: str = "soft") -> asyncio.Future[str]:
        """Set mod_bert's variables in one ``uuid_setvar_multi`` (:meth:`setvars`)."""
        return self.setvars({"bert_timer_name": check_word("bert timer name", timer),
                             "bert_max_err": f"{max_err:g}",
                             "bert_timeout_ms": int(timeout_ms),
                             "bert_hangup_on_error": "yes" if hangup_on_error else "no"})

    def bert_start(self) -> asyncio.Future[Event]:
        """``bert_test``: send the test pattern and check what comes back. It runs until
        the channel hangs up (that is when the returned future resolves); the outcome
        comes earlier as a CUSTOM ``mod_bert::in_sync`` / ``lost_sync`` / ``timeout``
        event: :meth:`bert_outcome`."""
        return self.execute("bert_test")

    def bert_outcome(self, timeout: float | None = None) -> asyncio.Future[str]:
        """The next mod_bert event's subclass on this leg: ``mod_bert::in_sync``,
        ``mod_bert::lost_sync`` or ``mod_bert::timeout``."""
        loop = self.conn.loop
        out: asyncio.Future[str] = loop.create_future()
        waits = [self.recv(name, timeout) for name in BERT_EVENTS]

        def first(f: asyncio.Future[Event]) -> None:
            if out.done():
                return
            if f.cancelled():
                out.cancel()
            elif f.exception() is not None:
                out.set_exception(f.exception())  # type: ignore[arg-type]
            else:
                out.set_result(f.result().subclass or "")
            for w in waits:
                if not w.done():
                    w.cancel()
        for w in waits:
            w.add_done_callback(first)
        return self._fire(out)
