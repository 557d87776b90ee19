"""The panel's parameter fields (rate, limit, duration, max offered), kept
in step with the originator without echoing back as user changes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..originator.loadshapes import Constant
from ..originator.settings import (format_duration, format_max_offered, parse_duration,
                                   parse_max_offered)

_STYLE = {"description_width": "initial"}

#: a wrapper that shows a callback's errors in the panel: ``guard(where, fn)``
Guard = Callable[[str, Callable[..., Any]], Callable[..., Any]]


class ParameterFields:
    """``rate``, ``limit``, ``duration``, ``max_offered`` (in ``box``): a
    user's change goes to ``orig`` (its errors through ``guard``); changes
    made by :meth:`set_quietly` do not."""

    def __init__(self, orig: Any, guard: Guard, on_rate: Callable[[float], None]) -> None:
        self.orig = orig
        self.syncing = False
        W = widgets

        def field(widget: widgets.ValueWidget, cls: str, handler: Callable[[Any], None],
                  what: str) -> widgets.ValueWidget:
            widget.add_class(cls)
            widget.observe(guard(what, self._from_user(handler)), names="value")
            return widget

        self.rate = field(W.BoundedFloatText(value=float(orig.rate), min=0.0, max=1e6, step=1.0,
                                             description="rate (calls/s)",
                                             continuous_update=False, style=_STYLE,
                                             layout=W.Layout(width="190px")),
                          "switchlab-rate", on_rate, "rate")
        self.limit = field(W.BoundedIntText(value=int(orig.limit), min=1, max=10_000_000,
                                            description="limit", continuous_update=False,
                                            style=_STYLE, layout=W.Layout(width="150px")),
                           "switchlab-limit", self._on_limit, "limit")
        self.duration = field(W.Text(value=format_duration(orig.explicit_duration),
                                     description="duration (s)", placeholder="auto",
                                     continuous_update=False, style=_STYLE,
                                     layout=W.Layout(width="170px")),
                              "switchlab-duration", self._on_duration, "duration")
        self.max_offered = field(W.Text(value=format_max_offered(orig.max_offered),
                                        description="max offered", placeholder="none",
                                        continuous_update=False, style=_STYLE,
                                        layout=W.Layout(width="190px")),
                                 "switchlab-max-offered", self._on_max_offered, "max offered")
        self.box = W.HBox([self.rate, self.limit, self.duration, self.max_offered])

    def _from_user(self, handler: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
        def on_change(change: dict[str, Any]) -> None:
            if not self.syncing:
                handler(change["new"])
        return on_change

    def _on_limit(self, value: int) -> None:
        self.orig.limit = int(value)

    def _on_duration(self, text: str) -> None:
        self.orig.duration = parse_duration(text)

    def _on_max_offered(self, text: str) -> None:
        self.orig.max_offered = parse_max_offered(text)

    def set_quietly(self, widget: widgets.ValueWidget, value: Any) -> None:
        """Show ``value`` in ``widget`` without treating it as a user's change."""
        if widget.value == value:
            return
        self.syncing = True
        try:
            widget.value = value
        finally:
            self.syncing = False

    def sync(self) -> None:
        """Show the originator's current parameters (changed from a cell, or a
        refused value put back). A field the user did not change is left alone."""
        o = self.orig
        if isinstance(o.shape, Constant):
            self.set_quietly(self.rate, float(o.shape.value))
        self.set_quietly(self.limit, int(o.limit))
        explicit = o.explicit_duration
        try:
            same = parse_duration(self.duration.value) == explicit
        except ValueError:
            same = False
        if not same:
            self.set_quietly(self.duration, format_duration(explicit))
        try:
            same_max = parse_max_offered(self.max_offered.value) == o.max_offered
        except ValueError:
            same_max = False
        if not same_max:
            self.set_quietly(self.max_offered, format_max_offered(o.max_offered))
