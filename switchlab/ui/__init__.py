"""Notebook front: the live ipywidgets panel of an originator.

>>> from switchlab.ui import panel          # doctest: +SKIP
>>> panel(orig)                             # doctest: +SKIP
"""
from ..originator.settings import parse_duration, parse_max_offered
from .live import LiveChart, LiveSeries, Sample, render_chart
from .panel import Panel, panel
from .shapes import SHAPE_KINDS, Delayed, build_shape, staircase

__all__ = ["SHAPE_KINDS", "Delayed", "LiveChart", "LiveSeries", "Panel", "Sample", "build_shape", "panel",
           "parse_duration", "parse_max_offered", "render_chart", "staircase"]
