"""The end of a leg: hangup, the hangup report, destroy and release.

A hangup signals the other end of the SIP or loopback dialog, lets a bridge
partner follow, stops the applications running on the leg (through
:data:`~.hooks.HOOKS`, registered by the dialplan applications above) and
reports CS_HANGUP .. CHANNEL_HANGUP_COMPLETE, then CHANNEL_DESTROY unless an
event socket still holds the leg (``myevents``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import causes
from ..model import milestones as T
from ..model.channel import Channel
from .cdr import apply_cdr
from .hooks import HOOKS
from .sofialog import log_already_hungup, log_nua_state

if TYPE_CHECKING:
    from ..model.ports import Host


# -- a bridged leg hangs up ------------------------------------------------------------
def _role(chan: Channel) -> str | None:
    return chan.facts.get("bridge_role")


def before_hangup(chan: Channel, cause: str) -> None:
    """Variables set just before CHANNEL_HANGUP on a bridged leg."""
    if chan.bridge is None:
        return
    if _role(chan) == "originator":
        chan.set_var("last_bridge_role", "originator")
    else:
        chan.unset_var("bridge_to")
        chan.set_var("last_bridge_hangup_cause", cause)


def unbridge(chan: Channel, cause: str) -> None:
    """CHANNEL_UNBRIDGE on the originator leg."""
    other = chan.bridge
    if other is None or _role(chan) != "originator" or chan.facts.get("unbridged"):
        return
    chan.facts["unbridged"] = True
    chan.unset_var("bridge_to")
    chan.set_var("bridge_hangup_cause", cause)
    chan.fire("CHANNEL_UNBRIDGE", pre=[("Bridge-A-Unique-ID", chan.uuid),
                                       ("Bridge-B-Unique-ID", other.uuid)])


def partner_hangup(chan: Channel, cause: str) -> None:
    """``chan`` hung up: its bridge partner follows (or continues, for a bridge app)."""
    other = chan.bridge
    if other is None or other.dead:
        return
    host = chan.host
    run = other.facts.get("bridge_run")
    if run is not None and _role(other) == "originator":
        host.later(host.tick(), HOOKS.bridge_app_ended, other, run, cause, chan=other)
        return
    host.later(host.tick(), hangup, other, cause, "bridge")


# -- hangup and destroy -------------------------------------------------------------------
def hangup(chan: Channel, cause: str = "NORMAL_CLEARING", how: str = "local") -> None:
    """Hang a leg up; ``how``: ``local``, ``recv_bye``, ``recv_cancel``, ``refused``, ``bridge``."""
    if chan.dead:
        return
    host = chan.host
    chan.dead = True
    chan.cancel_timers()
    now = host.clock.now_us()
    if how == "recv_bye" and chan.kind == "sofia":
        chan.apply(T.RECV_BYE, q850=causes.Q850.get(cause, 0), cause=cause)
    before_hangup(chan, cause)
    chan.hangup_cause = cause
    chan.answer_state = "hangup"
    chan.state_num = 10
    chan.set_time("hangup", now)
    chan.fire("CHANNEL_HANGUP")
    if how == "recv_bye" and chan.kind == "sofia":
        chan.apply(T.RECV_BYE_DONE)
    elif how == "recv_cancel" and chan.kind == "sofia":
        chan.apply(T.RECV_CANCEL)
    chan.facts["hangup_how"] = how
    if how in ("recv_bye", "recv_cancel"):  # nua_i_state terminated + nua_i_terminated
        log_already_hungup(chan)
    if how in ("local", "bridge", "recv_bye") and host.bus.log_max_level >= 5:  # text if read
        where = (("sofia.c", "sofia_handle_sip_i_bye", 1065) if how == "recv_bye"
                 else ("switch_ivr.c", "switch_ivr_kill_uuid", 4404))
        host.log(5, *where, f"Hangup {chan.name} [{chan.state_name}] [{cause}]", chan,
                 text_channel=0)
    if chan.holders:
        for lst in list(chan.holders):
            lst.session_down(chan)
    if chan.app is not None:
        host.later(host.tick(), _finish_app_then_report, chan)
        _signal_peer(chan, cause, how)
        partner_hangup(chan, cause)
    elif chan.bridge is not None and chan.facts.get("bridge_role") == "originator":
        partner_hangup(chan, cause)
        host.later(host.tick(), _unbridge_then_report, chan)
        _signal_peer(chan, cause, how)
    else:
        _signal_peer(chan, cause, how)
        partner_hangup(chan, cause)
        _report(chan)


def _signal_peer(chan: Channel, cause: str, how: str) -> None:
    peer = chan.peer
    if peer is None or peer.dead:
        return
    host = chan.host
    if chan.kind == "loopback":
        host.later(0, _loopback_peer_hangup, peer, cause)
        return
    if how in ("recv_bye", "recv_cancel", "refused"):
        return  # the message came from the peer; nothing to send back
    if chan.answered or peer.answered:
        host.later(host.tick(), remote_bye, peer, cause)
    elif chan.direction == "outbound":
        host.later(host.tick(), hangup, peer, "ORIGINATOR_CANCEL", "recv_cancel")
    else:
        status = causes.cause_to_sip(cause)
        host.later(host.tick(), refused, peer, status, causes.Q850.get(cause), True, True)


def remote_bye(chan: Channel, cause: str) -> None:
    """The far end (DUT) sent BYE."""
    if chan.dead:
        return
    hangup(chan, cause, how="recv_bye")


def refused(chan: Channel, status: int, reason_q850: int | None, replied: bool,
            from_fs: bool = False) -> None:
    """A final failure response (or no response at all) to the outbound leg's INVITE;
    ``from_fs``: sent by a FreeSWITCH (it carries a ``Reason: Q.850`` header)."""
    if chan.dead:
        return
    cause = causes.sip_to_cause(status, reason_q850)
    f = chan.facts
    if replied:
        if not chan.has_var("sip_call_id"):  # kept in place when a 18x set it
            chan.set_var("sip_call_id", f["call_id"])
        if not f.get("replied"):
            f["replied"] = True
            chan.set_profile(**{"Network-Addr": f["peer_ip"]})
        chan.apply(T.REPLY_NET)
        chan.apply(T.OUT_REFUSED_FS if from_fs else T.OUT_REFUSED, sip_status=status,
                   sip_phrase=causes.phrase(status), q850=causes.Q850.get(cause, 0),
                   cause=cause)
    profile = chan.host.profiles.get(chan.profile_name)
    if profile is not None:
        profile.failed_out += 1
    if chan.dut_call and status == 480:
        chan.host.emulator.dut.unanswered()
    log_nua_state(chan, "terminated", status)  # the final failure (or sofia's own)
    hangup(chan, cause, how="refused")


def _loopback_peer_hangup(peer: Channel, cause: str) -> None:
    if not peer.dead:
        hangup(peer, cause, how="peer")


def _unbridge_then_report(chan: Channel) -> None:
    unbridge(chan, chan.hangup_cause or "NORMAL_CLEARING")
    _report(chan)


def _finish_app_then_report(chan: Channel) -> None:
    HOOKS.interrupt_apps(chan)
    _report(chan)


def _report(chan: Channel) -> None:
    """CS_HANGUP .. CHANNEL_HANGUP_COMPLETE, then destroy (unless a socket holds the leg)."""
    host = chan.host
    chan.set_state("CS_HANGUP")
    chan.set_callstate("HANGUP")
    chan.set_state("CS_REPORTING")
    apply_cdr(chan)
    chan.fire("CHANNEL_HANGUP_COMPLETE", pre=[("Hangup-Cause", chan.hangup_cause or "")])
    orig = chan.originate
    if orig is not None and not orig.done:
        orig.fail(chan.hangup_cause or "NORMAL_CLEARING")
    if chan.dut_call:
        chan.dut_call = False
        host.emulator.dut.release()
    chan.reported = True
    if chan.holders:
        return
    destroy(chan)


def destroy(chan: Channel) -> None:
    if chan.destroyed:
        return
    host = chan.host
    chan.destroyed = True
    chan.state_num = 12
    chan.fire("CHANNEL_DESTROY")
    chan.set_state("CS_DESTROY")
    host.remove_channel(chan)
    if host.bus.log_max_level >= 5:
        host.log(7, "switch_core_session.c", "switch_core_session_thread", 1748,
                 f"Session {chan.session_id} ({chan.name}) Locked, Waiting on external "
                 "entities", chan)
        host.log(5, "switch_core_session.c", "switch_core_session_thread", 1766,
                 f"Session {chan.session_id} ({chan.name}) Ended", chan)
        host.log(5, "switch_core_session.c", "switch_core_session_thread", 1770,
                 f"Close Channel {chan.name} [CS_DESTROY]", chan, text_channel=0)
    for cb in chan.on_destroy:
        cb(chan)
    release(chan)


def release(chan: Channel) -> None:
    """Drop the references that tie a finished leg to others, so it is freed at once
    (no reference cycles left for the garbage collector to find)."""
    chan.cancel_timers()
    chan.peer = None
    chan.bridge = None
    chan.on_destroy = []
    chan.pending = []
    chan.app_task = None
    chan.app_stack = []
    orig = chan.originate
    if orig is not None:
        orig.leg = None
        chan.originate = None
    chan.facts.pop("bridge_run", None)


def release_session(chan: Channel, listener: Any) -> None:
    """A socket that held the leg (``myevents``) closed: finish the destroy if it waited."""
    holders = chan.holders
    holders.discard(listener)
    if not holders and chan.reported and not chan.destroyed:
        destroy(chan)


def find_channel(host: Host, uuid: str) -> Channel | None:
    chan = host.channels.get(uuid)
    if chan is None or chan.destroyed:
        return None
    return chan
