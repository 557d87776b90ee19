"""Bridge inbound calls onward: :class:`Bridger` (to a set destination) and
:class:`Proxier` (to the destination of the call's own Request-URI).

Both act on an inbound leg parked unanswered, send ``bridge`` (dial string
from :mod:`switchlab.wire.dialstring`) and record ``bridge_ok`` (the legs
were bridged: CHANNEL_BRIDGE) and ``bridge_cause`` (FreeSWITCH's
``originate_disposition``: ``SUCCESS``, ``USER_BUSY``...; ``SUCCESS`` when
bridged and FreeSWITCH named none).

>>> Proxier(prefix="answer-").onward("1000", "10.0.0.5:5080")
'answer-1000@10.0.0.5:5080'
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import SwitchlabError
from ..measure.columns import CATEGORY, FLAG, ColumnSpec
from ..state.callflow import COMPLETION_EVENTS
from . import callback, coroutine

BRIDGE_OK = ColumnSpec("bridge_ok", FLAG, "the inbound leg was bridged onward "
                       "(Bridger, Proxier)", source="CHANNEL_BRIDGE on the bridging leg",
                       ratio=True)
BRIDGE_CAUSE = ColumnSpec("bridge_cause", CATEGORY, "how the onward leg went "
                          "(Bridger, Proxier)", source="bridge's CHANNEL_EXECUTE_COMPLETE "
                          "`variable_originate_disposition`")


def _record(sess: Any, name: str, value: Any) -> None:
    if sess.call is not None:
        sess.call.set_column(name, value)


class _BridgeApp:
    columns = [BRIDGE_OK, BRIDGE_CAUSE]
    subscribe = COMPLETION_EVENTS
    #: legs whose destination starts with this are the onward legs: never bridged again
    prefix = "answer"

    def __init__(self, profile: str | None = None, proxy: str | None = None,
                 vars: Mapping[str, object] | None = None) -> None:
        self.profile = profile
        self.proxy = proxy
        self.vars = dict(vars or {})

    def target(self, sess: Any) -> tuple[str, str | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        user = sess.get("Caller-Destination-Number") or ""
        if (not sess.is_inbound() or sess.answered or user.startswith(self.prefix)
                or sess.vars.get("bridging")):
            return
        sess.vars["bridging"] = True
        dest, gateway = self.target(sess)
        try:
            ev = await sess.bridge(dest, self.profile, self.proxy, self.vars, gateway=gateway)
        except SwitchlabError:
            return
        bridged = sess.first("CHANNEL_BRIDGE") is not None
        cause = (ev.get("variable_originate_disposition")
                 or ("SUCCESS" if bridged else ev.get("variable_last_bridge_hangup_cause"))
                 or ev.get("Application-Response"))
        _record(sess, "bridge_cause", cause)
        if not bridged:
            _record(sess, "bridge_ok", False)

    @callback("CHANNEL_BRIDGE")
    def on_bridge(self, sess: Any) -> None:
        if sess.vars.get("bridging"):
            _record(sess, "bridge_ok", True)


class Bridger(_BridgeApp):
    """Bridge each inbound call to ``dest`` (``user@host[:port]``), or through a
    ``gateway``. Default: ``answer-bridged@`` the address the call came in on,
    i.e. a second call into the same FreeSWITCH, which the recorded dialplan
    answers (a B2BUA test that needs no set-up)."""

    def __init__(self, dest: str | None = None, profile: str | None = None,
                 proxy: str | None = None, gateway: str | None = None,
                 vars: Mapping[str, object] | None = None) -> None:
        super().__init__(profile, proxy, vars)
        self.dest = dest
        self.gateway = gateway

    def target(self, sess: Any) -> tuple[str, str | None]:
        if self.dest is not None:
            return self.dest, self.gateway
        return f"answer-bridged@{_came_in_on(sess)}", self.gateway


class Proxier(_BridgeApp):
    """Bridge each inbound call onward to its own Request-URI's user at ``to``
    (default: the host it came in on), through ``proxy`` if given; the onward
    user gets ``prefix`` so the onward leg is told apart (the recorded
    dialplan answers ``answer*``)."""

    def __init__(self, to: str | None = None, prefix: str = "answer-",
                 profile: str | None = None, proxy: str | None = None,
                 vars: Mapping[str, object] | None = None) -> None:
        super().__init__(profile, proxy, vars)
        self.to = to
        self.prefix = prefix

    def onward(self, user: str, hostport: str) -> str:
        return f"{self.prefix}{user}@{self.to or hostport}"

    def target(self, sess: Any) -> tuple[str, str | None]:
        user = sess.get("variable_sip_req_user") or sess.get("Caller-Destination-Number")
        return self.onward(user, _came_in_on(sess)), None


def _came_in_on(sess: Any) -> str:
    host = sess.get("variable_sip_req_host") or sess.get("variable_sip_to_host") or "127.0.0.1"
    port = sess.get("variable_sip_req_port") or sess.get("variable_sip_to_port")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}" if port else host
