"""The panel backend behind ``Originator.panel()``: a protocol and a setting.

The originator shows nothing itself. ``orig.panel()`` hands the originator to
the module named by :data:`options` ``["panel_backend"]`` (default
``"switchlab.ui"``, the ipywidgets panel), imported by name only when a panel
is asked for (:func:`switchlab.plugins.load_plugin`), so the originator never
depends on the notebook front. Any module with a ``panel(orig, **kwargs)``
function fits.

>>> get_panel_backend("math")
Traceback (most recent call last):
switchlab.errors.PluginError: panel backend 'math' has no panel(); name a module that defines it, e.g. set switchlab.originator.frontend.options['panel_backend']
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..plugins import load_plugin

#: The default panel backend: switchlab's ipywidgets panel.
DEFAULT_PANEL_BACKEND = "switchlab.ui"
#: ``options["panel_backend"]``: the module ``orig.panel()`` builds its panel with.
options: dict[str, str] = {"panel_backend": DEFAULT_PANEL_BACKEND}


@runtime_checkable
class PanelBackend(Protocol):
    """What ``orig.panel()`` needs of a backend module."""

    def panel(self, orig: Any, **kwargs: Any) -> Any:
        """A live view of ``orig`` (shown when it is a cell's value)."""


def get_panel_backend(name: str | None = None) -> PanelBackend:
    """The backend module ``name`` (default ``options["panel_backend"]``)."""
    return load_plugin(name or options["panel_backend"], PanelBackend,  # type: ignore[type-abstract]
                       what="panel backend",
                       setting="switchlab.originator.frontend.options['panel_backend']")
