"""Call-flow control of a :class:`~switchlab.state.Session`: one mechanism, one awaitable.

Every helper sends at once (so a plain ``@callback`` can fire and forget) and
returns a future that completes on FreeSWITCH's own completion:

* dialplan applications (:meth:`CallFlow.execute` and what is built on it:
  ``ring_ready``, ``pre_answer``, ``respond``, ``bridge``, ``transfer`` to an
  app...) are sent with a fresh ``Event-UUID``; FreeSWITCH echoes it as the
  ``Application-UUID`` of the CHANNEL_EXECUTE_COMPLETE that ends the
  application, and the future resolves with that event (read its
  ``Application-Response``). With ``loops=N`` it resolves on the N-th one.
* api commands (``uuid_setvar``, ``uuid_dump``, ``sched_hangup``...) resolve
  with the api reply, parsed; ``-ERR`` raises :class:`~switchlab.errors.APIError`.
* ``answer``/``hangup``/``park`` resolve with the CHANNEL_ANSWER /
  CHANNEL_HANGUP / CHANNEL_PARK event they cause.

A command FreeSWITCH refuses fails the future with its error; a channel that
ends first fails it with :class:`~switchlab.errors.SessionGone`. The client
must receive those events: an app lists them in its ``subscribe`` attribute
(``subscribe = COMPLETION_EVENTS``).

>>> respond_arg(486, "Busy Here"), respond_arg(183)
('486 Busy Here', '183')
"""
from __future__ import annotations

import asyncio
import uuid as _uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import CommandError, SessionGone
from ..esl.job import silence as _silence
from ..wire.dialstring import sofia_url, var_block
from ..wire.replies import channel_dump
from ..wire.validate import check_line, check_word, format_value

if TYPE_CHECKING:
    from ..esl import Connection
    from ..wire.events import Event

__all__ = ["COMPLETION_EVENTS", "CallFlow", "respond_arg"]

#: what an app awaiting these helpers must receive (its ``subscribe`` attribute)
COMPLETION_EVENTS = ("CHANNEL_EXECUTE_COMPLETE", "CHANNEL_ANSWER", "CHANNEL_HANGUP",
                     "CHANNEL_PARK")


def respond_arg(code: int, reason: str | None = None) -> str:
    """The argument of ``respond``: ``<code>[ <reason>]`` (a SIP status 100-699)."""
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
        raise CommandError(f"respond: SIP status must be an int from 100 to 699, not {code!r}")
    if reason:
        check_line("respond reason", reason)
        return f"{code} {reason}"
    return str(code)


def _var_text(name: str, value: object) -> str:
    check_word("variable name", name)
    text = value if isinstance(value, str) else format_value(name, value)
    if any(c in text for c in "\r\n\x00"):
        raise CommandError(f"variable {name}: value {text!r} contains a line break or NUL byte")
    return text


class CallFlow:
    """Mixin of :class:`~switchlab.state.Session`: the call-flow helpers."""

    __slots__ = ()

    if TYPE_CHECKING:
        uuid: str
        conn: Connection
        answered: bool
        hungup: bool
        destroyed: bool
        _apps: dict[str, list[Any]] | None

        def get(self, key: str, default: Any = None) -> Any: ...
        def _fire(self, fut: asyncio.Future[Any]) -> asyncio.Future[Any]: ...
        def _then(self, sent: asyncio.Future[Any], event: str, done_already: bool
                  ) -> asyncio.Future[Event | None]: ...
        def api(self, cmd: str) -> asyncio.Future[str]: ...

    # -- the completion of applications ------------------------------------------
    def execute(self, app: str, arg: str = "", *, event_lock: bool = False, loops: int = 1
                ) -> asyncio.Future[Event]:
        """Run dialplan application ``app`` (``sendmsg`` execute); resolves with its
        CHANNEL_EXECUTE_COMPLETE (``loops=-1``: never, the app repeats for ever)."""
        fut: asyncio.Future[Event] = self.conn.loop.create_future()
        if self.destroyed:
            fut.set_exception(SessionGone(f"session {self.uuid} has already ended", self.uuid))
            return self._fire(fut)
        app_uuid = str(_uuid.uuid4())
        # written now (a bad value raises here); its events cannot arrive before we return
        sent = self.conn.execute(self.uuid, app, arg, event_lock=event_lock, loops=loops,
                                 event_uuid=app_uuid)
        apps = self._apps
        if apps is None:
            apps = {}
            setattr(self, "_apps", apps)  # a slot of Session (the mixin has none)
        apps[app_uuid] = [fut, loops if loops > 0 else None]

        def refused(f: asyncio.Future[Any]) -> None:
            exc = None if f.cancelled() else f.exception()
            if exc is not None:
                apps.pop(app_uuid, None)
                if not fut.done():
                    fut.set_exception(exc)
        sent.add_done_callback(refused)
        return self._fire(fut)

    def _app_complete(self, ev: Event) -> None:
        """A CHANNEL_EXECUTE_COMPLETE: resolve the application it ends (listener side)."""
        apps = self._apps
        key = ev.get("Application-UUID")
        entry = apps.get(key) if apps and key else None
        if entry is None:
            return
        if entry[1] is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del apps[key]  # type: ignore[union-attr]
        fut = entry[0]
        if not fut.done():
            fut.set_result(ev)
            self.conn.request_yield()

    def _fail_apps(self, why: str) -> None:
        apps = self._apps
        setattr(self, "_apps", None)
        for app_uuid, (fut, _left) in (apps or {}).items():
            if not fut.done():
                fut.set_exception(SessionGone(
                    f"session {self.uuid} ended before application {app_uuid} completed: {why}",
                    self.uuid))
                _silence(fut)

    # -- answering and refusing ---------------------------------------------------
    def answer(self) -> asyncio.Future[Event | None]:
        """``uuid_answer``; resolves with the CHANNEL_ANSWER event (None if already answered)."""
        return self._then(self.conn.api(f"uuid_answer {self.uuid}"), "CHANNEL_ANSWER", self.answered)

    def ring_ready(self) -> asyncio.Future[Event]:
        """Send 180 Ringing (``ring_ready``)."""
        return self.execute("ring_ready")

    def pre_answer(self) -> asyncio.Future[Event]:
        """Send 183 with SDP: early media (``pre_answer``)."""
        return self.execute("pre_answer")

    def respond(self, code: int, reason: str | None = None) -> asyncio.Future[Event]:
        """Answer the INVITE with SIP status ``code`` (``respond 486 Busy Here``); a
        status >= 300 ends the call."""
        return self.execute("respond", respond_arg(code, reason))

    def hangup(self, cause: str = "NORMAL_CLEARING") -> asyncio.Future[Event | None]:
        """``uuid_kill <uuid> <cause>``; resolves with the CHANNEL_HANGUP event."""
        check_word("hangup cause", cause)
        return self._then(self.conn.api(f"uuid_kill {self.uuid} {cause}"), "CHANNEL_HANGUP",
                          self.hungup or self.destroyed)

    def sched_hangup(self, seconds: float, cause: str = "NORMAL_CLEARING") -> asyncio.Future[str]:
        """``sched_hangup +<seconds> <uuid> <cause>`` (FreeSWITCH rounds to whole seconds)."""
        check_word("hangup cause", cause)
        return self.api(f"sched_hangup +{max(0, round(float(seconds)))} {self.uuid} {cause}")

    # -- where the call goes --------------------------------------------------------
    def park(self) -> asyncio.Future[Event | None]:
        """``uuid_park``; resolves with the CHANNEL_PARK event."""
        return self._then(self.conn.api(f"uuid_park {self.uuid}"), "CHANNEL_PARK", False)

    def transfer(self, dest: str, dialplan: str = "XML", context: str | None = None, *,
                 leg: str = "") -> asyncio.Future[str]:
        """``uuid_transfer <uuid> [-bleg|-both] <dest> <dialplan> [<context>]``: route the
        channel again; resolves with the api reply. ``leg``: ``""``, ``bleg`` or ``both``."""
        if leg not in ("", "bleg", "both"):
            raise CommandError(f"transfer: leg must be '', 'bleg' or 'both', not {leg!r}")
        words = [self.uuid] + ([f"-{leg}"] if leg else []) + [check_word("destination", dest),
                                                               check_word("dialplan", dialplan)]
        if context:
            words.append(check_word("context", context))
        return self.api("uuid_transfer " + " ".join(words))

    def bridge(self, dest: str, profile: str | None = None, proxy: str | None = None,
               vars: Mapping[str, object] | None = None, *, gateway: str | None = None
               ) -> asyncio.Future[Event]:
        """``bridge {vars}sofia/<profile>/<dest>[;fs_path=sip:<proxy>]`` (profile: this
        leg's), or ``sofia/gateway/<gateway>/<dest>``; resolves with the bridge's
        CHANNEL_EXECUTE_COMPLETE, i.e. when the bridge ends or fails (its
        ``variable_bridge_hangup_cause`` / ``Application-Response`` say why)."""
        if gateway is not None:
            target = sofia_url(dest, "gateway/" + check_word("gateway", gateway))
        else:
            profile = profile or self.get("variable_sofia_profile_name") or "external"
            target = sofia_url(dest, profile, proxy)
        return self.execute("bridge", var_block(vars) + target)

    # -- variables --------------------------------------------------------------------
    def setvar(self, name: str, value: object) -> asyncio.Future[str]:
        """``uuid_setvar <uuid> <name> <value>``."""
        return self.api(f"uuid_setvar {self.uuid} {name} {_var_text(name, value)}")

    def setvars(self, values: Mapping[str, object]) -> asyncio.Future[str]:
        """``uuid_setvar_multi <uuid> a=1;b=2`` (values may not contain ``;``)."""
        items = []
        for name, value in values.items():
            text = _var_text(name, value)
            if ";" in text or "=" in name:
                raise CommandError(f"setvars: {name}={text!r} cannot be sent with "
                                   "uuid_setvar_multi (';' separates pairs); use setvar")
            items.append(f"{name}={text}")
        if not items:
            raise CommandError("setvars needs at least one variable")
        return self.api(f"uuid_setvar_multi {self.uuid} {';'.join(items)}")

    async def getvar(self, name: str) -> str | None:
        """``uuid_getvar``: the value, or None when unset (FreeSWITCH says ``_undef_``)."""
        check_word("variable name", name)
        value = await self.conn.api(f"uuid_getvar {self.uuid} {name}")
        return None if value == "_undef_" else value

    async def dump(self, json: bool = False) -> dict[str, str]:
        """``uuid_dump``: every header of the channel now (``variable_*`` included)."""
        body = await self.conn.api(f"uuid_dump {self.uuid}" + (" json" if json else ""))
        return channel_dump(body)
