"""The panel's load-shape row: a kind (constant / steps / ramp), the fields
of the chosen kind, and an "Apply shape" button."""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..originator.loadshapes import LoadShape, Ramp, Steps
from .shapes import SHAPE_KINDS, Delayed, build_shape

_STYLE = {"description_width": "initial"}


def _number(label: str, value: float, cls: str, integer: bool = False) -> widgets.ValueWidget:
    kind = widgets.BoundedIntText if integer else widgets.BoundedFloatText
    w = kind(value=value, min=1 if integer else 0, max=1_000_000, description=label,
             continuous_update=False, style=_STYLE, layout=widgets.Layout(width="140px"))
    w.add_class(cls)
    return w


def shape_kind(shape: LoadShape) -> str:
    """The kind (one of :data:`~switchlab.ui.shapes.SHAPE_KINDS`) the row shows for ``shape``."""
    inner = shape.shape if isinstance(shape, Delayed) else shape
    if isinstance(inner, Ramp):
        return "ramp"
    if isinstance(inner, Steps):
        return "steps"
    return "constant"


class ShapeControls:
    """The widgets: ``kind``, ``ramp_from``, ``ramp_to``, ``ramp_over``,
    ``steps_start``, ``steps_step``, ``steps_every``, ``steps_count``,
    ``apply``; ``ramp_box`` / ``steps_box`` (shown for their kind); ``box`` (the row).
    ``rate``: the current rate, which the defaults start from."""

    def __init__(self, shape: LoadShape, rate: float) -> None:
        rate = float(rate) or 1.0
        self.kind = widgets.Dropdown(options=list(SHAPE_KINDS), value=shape_kind(shape),
                                     description="load shape", style=_STYLE,
                                     layout=widgets.Layout(width="200px"))
        self.kind.add_class("switchlab-shape")
        self.ramp_from = _number("from", max(1.0, rate / 10), "switchlab-ramp-from")
        self.ramp_to = _number("to", rate * 2, "switchlab-ramp-to")
        self.ramp_over = _number("over (s)", 30.0, "switchlab-ramp-over")
        self.steps_start = _number("start", rate, "switchlab-steps-start")
        self.steps_step = _number("step", max(1.0, rate / 2), "switchlab-steps-step")
        self.steps_every = _number("every (s)", 10.0, "switchlab-steps-every")
        self.steps_count = _number("count", 5, "switchlab-steps-count", integer=True)
        self.apply = widgets.Button(description="Apply shape", icon="check",
                                    tooltip="retune the running originator to this load shape",
                                    layout=widgets.Layout(width="130px"))
        self.apply.add_class("switchlab-apply-shape")
        self.ramp_box = widgets.HBox([self.ramp_from, self.ramp_to, self.ramp_over])
        self.steps_box = widgets.HBox([self.steps_start, self.steps_step, self.steps_every,
                                       self.steps_count])
        self.box = widgets.HBox([self.kind, self.ramp_box, self.steps_box, self.apply])
        self.show(self.kind.value)

    def show(self, kind: str) -> None:
        """Show the fields of ``kind`` only."""
        self.ramp_box.layout.display = None if kind == "ramp" else "none"
        self.steps_box.layout.display = None if kind == "steps" else "none"

    def build(self, rate: float) -> Any:
        """The load shape the row describes (``rate`` for a constant one)."""
        return build_shape(self.kind.value, rate=rate,
                           ramp_from=self.ramp_from.value, ramp_to=self.ramp_to.value,
                           ramp_over=self.ramp_over.value, steps_start=self.steps_start.value,
                           steps_step=self.steps_step.value, steps_every=self.steps_every.value,
                           steps_count=self.steps_count.value)
