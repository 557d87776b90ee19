"""``Router``: route inbound calls by pattern, as switchio's router does.

>>> router = Router()
>>> @router.route(r"^answer")
... async def answer(sess, match, router):
...     await sess.answer()
>>> @router.route(r"^busy", name="busy")
... async def busy(sess, match, router):
...     await sess.respond(486)
...     raise Router.StopRouting
>>> [r.name for r in router.routes]
['answer', 'busy']

Each parked, unanswered channel that passes the ``guards`` (headers that
must have these values; default: inbound legs) is matched against every
route in order: the header ``field`` (default ``Caller-Destination-Number``)
searched with the route's regex. Every matching route runs (a coroutine or
a plain function, called ``(sess, match, router)``) until one raises
:class:`Router.StopRouting`. A channel no route matches is hung up with
``NO_ROUTE_DESTINATION`` (``reject_on_miss=False`` leaves it parked).
Column ``route``: the first route that matched, or ``none``.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SwitchlabError
from ..measure.columns import CATEGORY, ColumnSpec
from ..state.callflow import COMPLETION_EVENTS
from . import coroutine

ROUTE = ColumnSpec("route", CATEGORY, "the Router route that took the call (`none`: no "
                   "route matched, the call was refused with NO_ROUTE_DESTINATION)",
                   source="Router: first matching route's name")
#: the value of ``route`` for a call no route matched
NO_ROUTE = "none"


@dataclass(frozen=True)
class Route:
    """One route: a compiled pattern, the header it reads, its handler and name."""

    regex: re.Pattern[str]
    field: str | None
    fn: Callable[..., Any]
    name: str


class StopRouting(Exception):
    """Raise it in a route to stop trying the routes after it."""


class Router:
    """Pattern routes for inbound calls; see the module documentation."""

    StopRouting = StopRouting
    columns = [ROUTE]
    subscribe = COMPLETION_EVENTS  # what routes' awaits complete on

    def __init__(self, guards: Mapping[str, str] | None = None,
                 field: str = "Caller-Destination-Number", reject_on_miss: bool = True) -> None:
        self.guards = dict({"Call-Direction": "inbound"} if guards is None else guards)
        self.field = field
        self.reject_on_miss = reject_on_miss
        self.routes: list[Route] = []

    def route(self, pattern: str, field: str | None = None, name: str | None = None
              ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: run the function for channels whose ``field`` matches ``pattern``."""
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"route pattern {pattern!r} is not a regular expression: {exc}"
                             ) from None

        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(fn):
                raise TypeError(f"@route({pattern!r}) decorates a function, not {fn!r}")
            self.routes.append(Route(regex, field, fn, name or fn.__name__))
            return fn
        return add

    def passes(self, sess: Any) -> bool:
        """True when ``sess`` has every guard header with its value."""
        return all(sess.get(k) == v for k, v in self.guards.items())

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        if sess.answered or sess.vars.get("routed") or not self.passes(sess):
            return
        sess.vars["routed"] = True
        taken = None
        for route in list(self.routes):
            value = sess.get(route.field or self.field)
            match = route.regex.search(value) if value is not None else None
            if match is None:
                continue
            taken = taken or route.name
            try:
                result = route.fn(sess, match, self)
                if inspect.isawaitable(result):
                    await result
            except StopRouting:
                break
        if sess.call is not None:
            sess.call.set_column("route", taken or NO_ROUTE)
        if taken is None and self.reject_on_miss:
            try:
                await sess.hangup("NO_ROUTE_DESTINATION")
            except SwitchlabError:
                pass  # gone already
