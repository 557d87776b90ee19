"""The dialplan applications of the emulator, named after FreeSWITCH's ``mod_dptools``.

Supported: answer, pre_answer, ring_ready, respond, hangup, park, playback,
record_session, stop_record_session, bridge, echo, sleep, set, export,
send_dtmf, spandsp_start_dtmf, spandsp_stop_dtmf, bert_test, info, log, socket (outbound
event socket: :mod:`.socket`). Importing this package registers them in
:data:`.runner.APPS` and plugs the runner into call processing
(:data:`switchlab.sim.calls.hooks.HOOKS`).

A new emulated application: write ``app_<name>(chan, run)`` in the module of its
kind (it must end with :func:`.runner.complete`, now or later), add it to
:data:`REGISTRY` below (and to :data:`STOP` if a hangup must stop it first).
"""
from __future__ import annotations

from ..calls.hooks import HOOKS
from . import basic, bert, bridge, dtmf, media, socket
from .runner import APPS, CLEANUPS, STOPPERS, AppFn, interrupt_app, leave_apps, run_apps

#: application name -> implementation
REGISTRY: dict[str, AppFn] = {
    "answer": basic.app_answer,
    "pre_answer": basic.app_pre_answer,
    "ring_ready": basic.app_ring_ready,
    "respond": basic.app_respond,
    "hangup": basic.app_hangup,
    "park": basic.app_park,
    "echo": basic.app_echo,
    "playback": media.app_playback,
    "record_session": media.app_record_session,
    "stop_record_session": media.app_stop_record_session,
    "sleep": basic.app_sleep,
    "set": basic.app_set,
    "export": basic.app_export,
    "send_dtmf": dtmf.app_send_dtmf,
    "spandsp_start_dtmf": dtmf.app_spandsp_start_dtmf,
    "spandsp_stop_dtmf": dtmf.app_spandsp_stop_dtmf,
    "bert_test": bert.app_bert_test,
    "bridge": bridge.bridge_app,
    "info": basic.app_info,
    "log": basic.app_info,
    "socket": socket.app_socket,
}

#: what to do with a running application when the channel hangs up (before its COMPLETE)
STOP: dict[str, AppFn] = {
    "park": basic.stop_park,
    "playback": media.stop_playback,
    "bridge": bridge.stop_bridge_app,
    "socket": socket.stop_socket,
}


def install() -> None:
    """Register the applications and plug the runner into call processing (idempotent)."""
    APPS.update(REGISTRY)
    STOPPERS.update(STOP)
    for cleanup in (media.stop_recording, dtmf.stop_detector):
        if cleanup not in CLEANUPS:
            CLEANUPS.append(cleanup)
    HOOKS.run_apps = run_apps
    HOOKS.interrupt_apps = interrupt_app
    HOOKS.leave_apps = leave_apps
    HOOKS.bridge_app_ended = bridge.bridge_app_ended


install()

__all__ = ["REGISTRY", "STOP", "install"]
