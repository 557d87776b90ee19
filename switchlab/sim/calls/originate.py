"""The ``originate`` api: parse, create the outbound leg, report ``+OK uuid`` or
``-ERR cause``, then run the target (``&app(args)`` or the exten's dialplan).
"""
from __future__ import annotations

import time

from ...wire.dialshape import parse_originate_shaped
from ...wire.dialstring import ORIGINATE_USAGE, DialStringError, OriginateRequest
from ..model import sip
from ..model.causes import Q850
from ..model.channel import Channel
from ..model.deferred import Deferred
from ..model.ports import Host
from .dialplan import dialplan_apps
from .hooks import HOOKS
from .lifecycle import hangup
from .loopback import start_loopback
from .sofia import start_sofia

_ORIG = "switch_ivr_originate.c"


class Originate:
    """One ``originate``: creates the outbound leg and reports ``+OK uuid`` / ``-ERR cause``."""

    def __init__(self, host: Host, req: OriginateRequest) -> None:
        self.host = host
        self.req = req
        self.deferred = Deferred()
        self.leg: Channel | None = None
        #: the calling session (a ``bridge``): its profile is cloned for the new leg
        self.originator: Channel | None = None
        self.ignore_early = sip.truthy(req.var("ignore_early_media"))
        raw_timeout = req.var("originate_timeout") or req.var("leg_timeout")
        try:
            self.timeout = int(raw_timeout) if raw_timeout else (req.timeout or 60)
        except ValueError:
            self.timeout = 60

    @property
    def done(self) -> bool:
        return self.deferred.done

    def start(self) -> None:
        ep = self.req.endpoint
        if ep.kind == "loopback":
            start_loopback(self)
        else:
            start_sofia(self)
        if not self.done and self.leg is not None and self.timeout > 0:
            start_s = int(time.time())
            delay = start_s + self.timeout - time.time()
            self.host.later(max(delay, 0.0), self._timed_out, chan=self.leg)

    def _timed_out(self) -> None:
        leg = self.leg
        if self.done or leg is None or leg.dead:
            return
        hangup(leg, "NO_ANSWER")

    def succeed(self) -> None:
        """The leg is answered (or has early media): report and run the target."""
        leg = self.leg
        if self.done or leg is None:
            return
        if self.host.bus.log_max_level >= 7:
            self.host.log(7, _ORIG, "switch_ivr_originate", 3913,
                          f"Originate Resulted in Success: [{leg.name}] Peer UUID: {leg.uuid}")
        self.deferred.resolve(f"+OK {leg.uuid}\n")
        start_target(self)

    def fail(self, cause: str) -> None:
        if cause != "NO_ANSWER" and cause in Q850:  # IDX_TIMEOUT logs nothing
            self.host.log(7, _ORIG, "switch_ivr_originate", 4056,
                          f"Originate Resulted in Error Cause: {Q850[cause]} [{cause}]")
        self.deferred.resolve(f"-ERR {cause}\n")


def originate(host: Host, arg: str) -> str | Deferred:
    """The ``originate`` api: a Deferred, or an error text right away.

    While the host shuts down (a restart fault) its endpoint modules are gone and
    FreeSWITCH refuses every originate with ``CHAN_NOT_IMPLEMENTED``.
    """
    if host.stopping:
        return "-ERR CHAN_NOT_IMPLEMENTED\n"
    try:
        req = parse_originate_shaped(arg)  # one parse per command shape (uuids aside)
    except DialStringError as exc:
        if exc.cause == "USAGE":
            return ORIGINATE_USAGE
        return f"-ERR {exc.cause}\n"
    ep = req.endpoint
    if ep.kind == "error":
        return f"-ERR {ep.cause}\n"
    if ep.kind == "sofia" and ep.profile not in host.profiles:
        return "-ERR INVALID_PROFILE\n"
    uuid = req.var("origination_uuid")
    if uuid and host.emulator.find_channel(uuid) is not None:
        return "-ERR INVALID_NUMBER_FORMAT\n"
    host.log(7, _ORIG, "switch_ivr_originate", 2301, "Parsing global variables")
    orig = Originate(host, req)
    orig.start()
    return orig.deferred


def start_target(orig: Originate) -> None:
    """After a successful originate: run ``&app(args)`` or the exten's dialplan on the leg."""
    leg = orig.leg
    if leg is None or leg.dead:
        return
    req = orig.req
    leg.hit_dialplan = True
    leg.set_state("CS_EXECUTE")
    if req.app:
        HOOKS.run_apps(leg, [(req.app, req.app_args)], "originate")
    else:
        HOOKS.run_apps(leg, dialplan_apps(leg, req.exten or "", req.context), "dialplan")
