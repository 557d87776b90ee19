"""mod_bert's ``bert_test`` in the emulator: the outcome, not the bits.

A leg running ``bert_test`` sends a test pattern and checks what comes back.
Here the pattern comes back when the far end returns it (see
:func:`.dtmf.far_end`): the other leg runs ``bert_test`` too (two-sided) or
``echo``, or a media-echoing DUT is at the far end (one-sided). Then, about a
second after the start, FreeSWITCH fires one CUSTOM ``mod_bert::in_sync``
(recorded: ``Event-Subclass`` first, channel data, no variables) and sets
``bert_stats_sync_lost_count`` / ``bert_stats_sync_lost``. If the far end stops
returning it, ``mod_bert::lost_sync``; if it never syncs within
``bert_timeout_ms``, ``mod_bert::timeout`` (and, with
``bert_hangup_on_error=yes``, a hangup). The application runs until the channel
hangs up, so its CHANNEL_EXECUTE_COMPLETE comes after CHANNEL_HANGUP.
"""
from __future__ import annotations

from ..calls.lifecycle import hangup
from ..model.channel import Channel
from .dtmf import far_end
from .runner import AppRun

#: seconds from the start to the first sync (recorded: 1.04 s), then between checks
SYNC_S = 1.0
CHECK_S = 0.5
#: mod_bert's default ``bert_timeout_ms``
DEFAULT_TIMEOUT_MS = 10_000
REFLECTORS = ("bert_test", "echo")


def _returns_pattern(chan: Channel) -> bool:
    other = far_end(chan)
    if other is None or other.dead:
        return False
    if other is chan:
        return True  # the DUT loops the audio back
    stack = other.app_stack  # what runs on top: another application interrupts the echo
    return bool(stack) and stack[-1].name in REFLECTORS


def _custom(chan: Channel, subclass: str) -> None:
    chan.fire("CUSTOM", lead=[("Event-Subclass", subclass)], variant="bert", extended=False)


def app_bert_test(chan: Channel, run: AppRun) -> None:
    try:
        timeout_ms = int(chan.var("bert_timeout_ms", str(DEFAULT_TIMEOUT_MS)))
    except ValueError:
        timeout_ms = DEFAULT_TIMEOUT_MS
    run.state.update(synced=False, lost=0, started=chan.host.clock.now_us(),
                     timeout_s=max(0, timeout_ms) / 1000.0)
    run.handle = chan.host.later(SYNC_S, _check, chan, run, chan=chan)


def _check(chan: Channel, run: AppRun) -> None:
    if chan.dead or run.finished:
        return
    st = run.state
    waited = (chan.host.clock.now_us() - st["started"]) / 1e6
    ok = _returns_pattern(chan)
    if ok and not st["synced"]:
        st["synced"] = True
        chan.set_var("bert_stats_sync_lost_count", str(st["lost"]))
        chan.set_var("bert_stats_sync_lost", "false")
        _custom(chan, "mod_bert::in_sync")
    elif not ok and st["synced"]:
        st["synced"] = False
        st["lost"] += 1
        chan.set_var("bert_stats_sync_lost_count", str(st["lost"]))
        chan.set_var("bert_stats_sync_lost", "true")
        _custom(chan, "mod_bert::lost_sync")
        if _hangup_on_error(chan):
            hangup(chan, "NORMAL_CLEARING")
            return
    elif not ok and not st["lost"] and st["timeout_s"] and waited >= st["timeout_s"]:
        _custom(chan, "mod_bert::timeout")
        st["timeout_s"] = 0.0  # once
        if _hangup_on_error(chan):
            hangup(chan, "NORMAL_CLEARING")
            return
    run.handle = chan.host.later(CHECK_S, _check, chan, run, chan=chan)


def _hangup_on_error(chan: Channel) -> bool:
    return chan.var("bert_hangup_on_error", "no").lower() in ("yes", "true", "1", "on")
