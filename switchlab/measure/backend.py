"""The report backend behind ``Run.report()``: a protocol and a setting.

The measurement layer draws nothing itself. Like pandas' ``plotting.backend``
option, ``run.report()`` hands the run to the module named by
:data:`options` ``["report_backend"]`` (default ``"switchlab.plots"``),
imported by name only when a report is asked for, so the measurement layer
never depends on the plotting layer. Any module with a ``report(data)`` and
a ``report_html(data, path)`` function fits.

>>> get_report_backend("math")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
switchlab.errors.MeasurementError: report backend 'math' has no report() and report_html()
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import MeasurementError
from ..plugins import load_plugin

#: The default report backend: switchlab's own matplotlib plots.
DEFAULT_REPORT_BACKEND = "switchlab.plots"
#: ``options["report_backend"]``: the module ``run.report()`` draws with.
options: dict[str, str] = {"report_backend": DEFAULT_REPORT_BACKEND}


@runtime_checkable
class ReportBackend(Protocol):
    """What ``run.report()`` needs of a backend module."""

    def report(self, data: Any) -> Any:
        """One figure summarising a run."""

    def report_html(self, data: Any, path: str | os.PathLike[str]) -> Path:
        """Write one self-contained HTML page about a run; returns its path."""


def get_report_backend(name: str | None = None) -> ReportBackend:
    """The backend module ``name`` (default ``options["report_backend"]``)."""
    return load_plugin(name or options["report_backend"], ReportBackend,  # type: ignore[type-abstract]
                       what="report backend", error=MeasurementError,
                       setting="switchlab.measure.backend.options['report_backend']")
