"""switchlab: drive FreeSWITCH call generators from Jupyter and measure every call.

The ESL engine (connection, call state, apps, clients) is importable from here;
see docs/ESL_ENGINE.md.
"""
import importlib
from typing import TYPE_CHECKING

from ._version import __version__
from .apps import callback, coroutine, handler
from .client import Client, get_client
from .esl import Connection, Job, Reconnect, connect
from .pool import ClientPool, get_pool
from .state import Call, EventListener, Session
from .sync import SyncClient, sync_caller, sync_client

if TYPE_CHECKING:  # what the lazy names below are, for type checkers and editors
    from . import demo, loadshapes, measure, originator, plots, sim, ui
    from .measure import Run, load
    from .originator import Originator, get_originator
    from .sim import DUTModel, Emulator

#: heavier parts (pandas, the emulator) load on first use
_LAZY = {
    "Originator": ("switchlab.originator", "Originator"),
    "get_originator": ("switchlab.originator", "get_originator"),
    "Run": ("switchlab.measure", "Run"),
    "load": ("switchlab.measure", "load"),
    "Emulator": ("switchlab.sim", "Emulator"),
    "DUTModel": ("switchlab.sim", "DUTModel"),
}


_SUBMODULES = ("plots", "ui", "sim", "measure", "originator", "loadshapes", "demo")


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        return importlib.import_module(f"switchlab.{name}")
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'switchlab' has no attribute {name!r}")

__all__ = [
    "Call", "Client", "ClientPool", "Connection", "DUTModel", "Emulator", "EventListener", "Job",
    "Originator", "Reconnect", "Run", "Session", "SyncClient", "get_originator", "load", "callback", "connect", "coroutine", "get_client", "get_pool", "handler",
    "sync_caller", "sync_client",
]
