"""Modules named by a setting: how a lower layer reaches an optional front.

Two conveniences reach *up* the layer table on purpose: ``Run.report()``
(measurement → plots) and ``Originator.panel()`` (originator → ui). Neither
imports the layer above: each names a module in a setting (like pandas'
``plotting.backend``), and this function imports it by name on first use and
checks it against a :class:`typing.Protocol`, so any module with the right
functions can stand in.

>>> import typing
>>> @typing.runtime_checkable
... class HasDumps(typing.Protocol):
...     def dumps(self, obj: object) -> str: ...
>>> load_plugin("json", HasDumps, what="serializer", setting="x.options['serializer']").__name__
'json'
>>> load_plugin("math", HasDumps, what="serializer", setting="x.options['serializer']")
Traceback (most recent call last):
switchlab.errors.PluginError: serializer 'math' has no dumps(); name a module that defines it, e.g. set x.options['serializer']
"""
from __future__ import annotations

import importlib
from typing import Any, TypeVar

from .errors import PluginError

P = TypeVar("P")


def load_plugin(name: str, protocol: type[P], *, what: str, setting: str,
                error: type[Exception] = PluginError) -> P:
    """Import module ``name`` and check that it fits ``protocol`` (runtime-checkable).

    ``what`` names the role in messages ("report backend"), ``setting`` where
    the user changes it; ``error`` is the exception raised (a subclass of
    :class:`~switchlab.errors.SwitchlabError` for the caller's layer).
    """
    try:
        module: Any = importlib.import_module(name)
    except ImportError as exc:
        raise error(f"cannot import {what} {name!r} ({exc}); install it, or set "
                    f"{setting} to a module that can be imported") from None
    if not isinstance(module, protocol):
        needs = [m for m in getattr(protocol, "__protocol_attrs__", ()) if not hasattr(module, m)]
        if not needs:  # Python < 3.12 keeps the attribute names elsewhere
            needs = [m for m in dir(protocol) if not m.startswith("_") and not hasattr(module, m)]
        listed = " and ".join(f"{m}()" for m in sorted(needs))
        raise error(f"{what} {name!r} has no {listed}; name a module that defines "
                    f"{'them' if len(needs) > 1 else 'it'}, e.g. set {setting}")
    return module
