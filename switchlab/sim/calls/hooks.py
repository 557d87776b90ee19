"""Hooks through which call processing calls up into the dialplan applications.

Call processing sits below the applications (:mod:`switchlab.sim.mod_dptools`)
but must start them (a routed leg runs its dialplan) and stop them (a hangup
interrupts what runs). The application layer registers its functions here when
it is imported (:func:`switchlab.sim.mod_dptools.install`); until then running a
dialplan fails with an error saying so.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.channel import Channel

AppList = list[tuple[str, str]]


def _not_installed(*args: Any) -> None:
    raise RuntimeError("no dialplan applications are installed: import "
                       "switchlab.sim.mod_dptools (switchlab.sim does) before running calls")


def _nothing(*args: Any) -> None:
    return None


class CallHooks:
    """The upward calls call processing makes; each set by the application layer.

    * ``run_apps(chan, apps, source)``: run ``[(name, data), ...]`` one after the other;
    * ``interrupt_apps(chan)``: the leg hung up; stop what runs, with the matching events;
    * ``leave_apps(chan)``: the leg leaves its applications (``uuid_bridge`` ends a park);
    * ``bridge_app_ended(chan, run, cause)``: the leg dialled by a ``bridge`` application
      hung up.
    """

    __slots__ = ("run_apps", "interrupt_apps", "leave_apps", "bridge_app_ended")

    def __init__(self) -> None:
        self.run_apps: Callable[[Channel, AppList, str], None] = _not_installed
        self.interrupt_apps: Callable[[Channel], None] = _nothing
        self.leave_apps: Callable[[Channel], None] = _nothing
        self.bridge_app_ended: Callable[[Channel, Any, str], None] = _nothing


#: the hooks of this process (one set: the application layer is one module tree)
HOOKS = CallHooks()
