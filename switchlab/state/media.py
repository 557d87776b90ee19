"""The media part of the :class:`~switchlab.state.Session` API: play, record,
broadcast, DTMF and BERT, each an awaitable that completes on FreeSWITCH's own
completion signal.

One mechanism: :meth:`Media.run` sends ``sendmsg execute`` with a fresh
``Event-UUID``; FreeSWITCH names that uuid in the ``Application-UUID`` of the
application's CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE, and the future
resolves with that CHANNEL_EXECUTE_COMPLETE (``Application-Response`` says how
it went, e.g. ``FILE PLAYED``; ``variable_record_ms`` etc. ride along). Api
commands (``uuid_broadcast``, ``uuid_send_dtmf``) complete with their reply.

    done = await sess.playback("tone_stream://%(1000,0,440)")
    assert done["Application-Response"] == "FILE PLAYED"
    await sess.record_start("/tmp/take.wav")
    ...
    stop = await sess.record_stop("/tmp/take.wav")
    recorded_ms = int(stop["variable_record_ms"])
"""
from __future__ import annotations

import asyncio
import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from ..errors import CommandError
from ..esl.job import silence as _silence
from ..wire.validate import check_word

if TYPE_CHECKING:
    from ..esl import Connection
    from ..wire.events import Event

#: the waiter key of one application run: this prefix + its Application-UUID
COMPLETE_KEY = "CHANNEL_EXECUTE_COMPLETE/"
#: mod_bert's custom event subclasses
BERT_IN_SYNC = "mod_bert::in_sync"
BERT_LOST_SYNC = "mod_bert::lost_sync"
BERT_TIMEOUT = "mod_bert::timeout"
BERT_EVENTS = (BERT_IN_SYNC, BERT_LOST_SYNC, BERT_TIMEOUT)
#: events the media helpers wait on (an app using them subscribes to these)
MEDIA_EVENTS = ("CHANNEL_EXECUTE_COMPLETE", "DTMF", "PLAYBACK_START", "PLAYBACK_STOP",
                "RECORD_START", "RECORD_STOP", *BERT_EVENTS)
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
        destroyed: bool

        def recv(self, name: str, timeout: float | None = None) -> asyncio.Future[Event]: ...

        def _fire(self, fut: asyncio.Future[Any]) -> asyncio.Future[Any]: ...

    # -- the one mechanism --------------------------------------------------------------
    def run(self, app: str, arg: str = "", *, loops: int = 1, event_lock: bool = False,
            timeout: float | None = None) -> asyncio.Future[Event]:
        """Execute dialplan application ``app`` on this channel; resolves with its
        (last, for ``loops`` > 1) CHANNEL_EXECUTE_COMPLETE, matched by Application-UUID.

        Fails with :class:`~switchlab.errors.CommandFailed` if FreeSWITCH refuses the
        ``sendmsg``, :class:`~switchlab.errors.SessionGone` if the channel ends first,
        ``TimeoutError`` after ``timeout`` seconds.
        """
        loops = int(loops)
        if loops < 1:
            raise CommandError(f"loops must be >= 1, got {loops}")
        app_uuid = str(uuidlib.uuid4())
        key = COMPLETE_KEY + app_uuid
        # register before sending: the completion cannot slip past the waiters
        waiters = [self.recv(key, timeout) for _ in range(loops)]
        if self.destroyed:
            return waiters[-1]  # failed with SessionGone; nothing is sent
        sent = self.conn.execute(self.uuid, app, arg, event_lock=event_lock, loops=loops,
                                 event_uuid=app_uuid)
        last = waiters[-1]
        for fut in waiters[:-1]:
            fut.add_done_callback(_silence)

        def chain(f: asyncio.Future[Any]) -> None:
            exc = None if f.cancelled() else f.exception()
            if exc is not None:
                for fut in waiters:
                    if not fut.done():
                        fut.set_exception(exc)
                        _silence(fut)
        sent.add_done_callback(chain)
        return self._fire(last)

    # -- playback ---------------------------------------------------------------------------
    def play(self, path: str, *, loops: int = 1, timeout: float | None = None
             ) -> asyncio.Future[Event]:
        """``playback <path>`` (a file or ``tone_stream://...``); resolves with the
        CHANNEL_EXECUTE_COMPLETE (``Application-Response: FILE PLAYED``)."""
        return self.run("playback", path, loops=loops, timeout=timeout)

    def broadcast(self, path: str, leg: str = "aleg") -> asyncio.Future[str]:
        """``uuid_broadcast <uuid> <path> <aleg|bleg|both>`` (``app::arg`` runs an app);
        resolves with the api reply. The playback's own events follow on the leg(s)."""
        if leg not in _LEGS:
            raise CommandError(f"broadcast leg {leg!r} must be one of {', '.join(_LEGS)}")
        check_word("broadcast path", path)
        return self._fire(self.conn.api(f"uuid_broadcast {self.uuid} {path} {leg}"))

    # -- recording ---------------------------------------------------------------------------
    def record_start(self, path: str, *, timeout: float | None = None) -> asyncio.Future[Event]:
        """``record_session <path>``: resolves when recording runs (RECORD_START was fired).

        Use an absolute path (or ``${recordings_dir}/...``): FreeSWITCH resolves a
        relative one against ``sound_prefix`` and :meth:`record_stop` must name the
        same resolved path."""
        return self.run("record_session", check_word("record path", path), timeout=timeout)

    def record_stop(self, path: str, *, timeout: float | None = None) -> asyncio.Future[Event]:
        """``stop_record_session <path>``; resolves with its CHANNEL_EXECUTE_COMPLETE,
        which carries ``variable_record_ms`` / ``variable_record_seconds`` /
        ``variable_record_samples`` / ``variable_record_completion_cause``."""
        return self.run("stop_record_session", check_word("record path", path),
                        timeout=timeout)

    # -- DTMF -----------------------------------------------------------------------------------
    def dtmf(self, digits: str, duration_ms: int | None = None, *,
             timeout: float | None = None) -> asyncio.Future[Event]:
        """``send_dtmf <digits>[@<ms>]`` as an application (RFC 2833 towards the far end);
        resolves with its CHANNEL_EXECUTE_COMPLETE. (:meth:`Session.send_dtmf` is the
        ``uuid_send_dtmf`` api form.)"""
        check_word("DTMF digits", digits)
        arg = digits if duration_ms is None else f"{digits}@{int(duration_ms)}"
        return self.run("send_dtmf", arg, timeout=timeout)

    def start_dtmf_detect(self, *, timeout: float | None = None) -> asyncio.Future[Event]:
        """``spandsp_start_dtmf``: detect in-band (audio) DTMF on this leg; each digit
        then comes as a DTMF event with ``DTMF-Source: INBAND_AUDIO``."""
        return self.run("spandsp_start_dtmf", timeout=timeout)

    def stop_dtmf_detect(self, *, timeout: float | None = None) -> asyncio.Future[Event]:
        """``spandsp_stop_dtmf``: stop the in-band detector."""
        return self.run("spandsp_stop_dtmf", timeout=timeout)

    # -- BERT (mod_bert) ---------------------------------------------------------------------
    def bert_setup(self, *, timeout_ms: int = 3000, max_err: float = 30.0,
                   hangup_on_error: bool = False, timer: str = "soft"
                   ) -> asyncio.Future[list[str]]:
        """Set mod_bert's variables (one ``uuid_setvar`` each; resolves with the replies)."""
        check_word("bert timer name", timer)
        values = {"bert_timer_name": timer, "bert_max_err": f"{max_err:g}",
                  "bert_timeout_ms": str(int(timeout_ms)),
                  "bert_hangup_on_error": "yes" if hangup_on_error else "no"}
        return self._fire(asyncio.gather(*(self.conn.api(f"uuid_setvar {self.uuid} {k} {v}")
                                           for k, v in values.items())))

    def bert_start(self) -> asyncio.Future[Event]:
        """``bert_test``: send the test pattern and check what comes back. It runs until
        the channel hangs up (that is when the returned future resolves); the outcome
        comes earlier as a CUSTOM ``mod_bert::in_sync`` / ``lost_sync`` / ``timeout``
        event: :meth:`bert_outcome`."""
        return self.run("bert_test")

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
