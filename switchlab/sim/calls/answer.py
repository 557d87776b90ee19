"""A leg gets answered: the replies an outbound leg receives (180, 183, 200) and the
answer, pre-answer and ring-ready of an inbound leg, passed on to its caller.
"""
from __future__ import annotations

from ..model import milestones as T
from ..model.channel import Channel
from .callee_id import presented_callee_id, update_callee_id
from .legs import fire_codecs, flip_cid
from .medialog import log_rtp
from .sofialog import log_negotiate, log_nua_state


def _first_reply(chan: Channel) -> None:
    if not chan.facts.get("replied"):
        chan.facts["replied"] = True
        chan.set_profile(**{"Network-Addr": chan.facts["peer_ip"]})
        chan.apply(T.REPLY_NET)
        if chan.facts.get("fs_peer"):
            chan.apply(T.PEER_SOFIA_HEADERS)


def outbound_progress(chan: Channel) -> None:
    """180 Ringing reached the outbound leg."""
    if chan.dead or chan.answered or chan.times.get("progress"):
        return
    _first_reply(chan)
    chan.apply(T.REPLY_DIALOG)
    log_nua_state(chan, "proceeding", 180)
    chan.set_time("progress", chan.host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS")
    if chan.callstate == "DOWN":
        chan.set_callstate("RINGING")


def outbound_early_media(chan: Channel) -> None:
    """183 with SDP reached the outbound leg: early media, and the originate returns."""
    if chan.dead or chan.answered or chan.early:
        return
    host = chan.host
    if not chan.facts.get("replied"):
        _first_reply(chan)
    chan.apply(T.EP_CODEC)
    if chan.facts.get("fs_peer"):
        chan.apply(T.PEER_SOFIA_HEADERS)  # sofia re-reads them from the 183 (moved last)
    chan.apply(T.REPLY_DIALOG)
    chan.apply(T.REMOTE_SDP)
    log_nua_state(chan, "proceeding", 183, chan.facts.get("remote_sdp"))
    chan.set_var("endpoint_disposition", "EARLY MEDIA")
    chan.early = True
    chan.media = True
    chan.answer_state = "early"
    chan.set_time("progress_media", host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS_MEDIA")
    chan.set_callstate("EARLY")
    log_negotiate(chan, chan.facts.get("remote_sdp", ""))
    fire_codecs(chan)
    host.later(host.tick(), _early_flip, chan, chan=chan)


def _early_flip(chan: Channel) -> None:
    if chan.dead:
        return
    chan.apply(T.OUT_EARLY_MEDIA)
    if chan.facts.get("dtmf_type") == "rfc2833":
        chan.apply(T.RFC2833)
    chan.apply(T.REMOTE_MEDIA)
    log_rtp(chan, "peer_media_ip", chan.facts.get("dtmf_type") == "rfc2833")
    flip_cid(chan, "EARLY MEDIA")
    orig = chan.originate
    if orig is not None and not orig.ignore_early:
        orig.succeed()


def outbound_answered(chan: Channel) -> None:
    """200 OK reached the outbound leg."""
    if chan.dead or chan.answered:
        return
    host = chan.host
    f = chan.facts
    was_early = chan.early
    if f.get("replied"):
        chan.apply(T.REPLY_NET)
    else:
        _first_reply(chan)
    # 200 OK: completing (a duplicate of the 183's SDP is not negotiated again)
    log_nua_state(chan, "completing", 200, f.get("remote_sdp"))
    if was_early:
        chan.apply(T.EP_CODEC)
        chan.apply(T.REPLY_DIALOG)
        chan.apply(T.REMOTE_SDP)
    else:
        chan.apply(T.REPLY_DIALOG)
        chan.apply(T.REMOTE_SDP)
        chan.apply(T.OUT_MEDIA)
        if f.get("dtmf_type") == "rfc2833":
            chan.apply(T.RFC2833)
        chan.apply(T.REMOTE_MEDIA)
        if chan.codec is None:
            log_negotiate(chan, f.get("remote_sdp", ""))
            fire_codecs(chan)
        log_rtp(chan, "peer_media_ip", f.get("dtmf_type") == "rfc2833")
    log_nua_state(chan, "ready", 200)  # FreeSWITCH sent the ACK
    chan.answered = True
    chan.media = True
    chan.answer_state = "answered"
    chan.set_time("answered", host.clock.now_us())
    chan.fire("CHANNEL_ANSWER")
    chan.set_callstate("ACTIVE")
    if host.bus.log_max_level >= 5:
        host.log(5, "sofia.c", "sofia_handle_sip_i_state", 8693,
                 f"Channel [{chan.name}] has been answered", chan, text_channel=0)
    if was_early or chan.get_var("channel_cid_flipped"):
        chan.set_var("endpoint_disposition", "ANSWER")
        orig = chan.originate
        if orig is not None and not orig.done:
            orig.succeed()
        return
    flip_cid(chan, "ANSWER")
    orig = chan.originate
    if orig is not None:
        orig.succeed()


def answer_channel(chan: Channel, pre_answer: bool = False) -> bool:
    """Answer (or pre-answer) a leg: events on it, and the 200/183 to its caller."""
    if chan.dead or chan.answered or (pre_answer and chan.early):
        return False
    host = chan.host
    if chan.kind == "sofia" and chan.direction == "inbound" and chan.codec is None:
        _late_media(chan, pre_answer)
        if pre_answer:
            return True
    elif chan.kind == "sofia" and chan.direction == "inbound":
        if not chan.media:
            chan.apply(T.IN_ANSWER_MEDIA)
            log_rtp(chan, "peer_ip", True)
            chan.media = True
    if chan.kind == "loopback" and chan.direction == "inbound" and not pre_answer:
        other = chan.peer
        if other is not None and not other.answered and not other.dead:
            loopback_a_answered(other)
    now = host.clock.now_us()
    if pre_answer:
        if chan.direction == "inbound":
            log_nua_state(chan, "early", 183)
        # switch_channel_perform_mark_pre_answered, whatever the negotiation
        chan.set_var("endpoint_disposition", "EARLY MEDIA")
        chan.early = True
        chan.answer_state = "early"
        chan.set_time("progress_media", now)
        chan.fire("CHANNEL_PROGRESS_MEDIA")
        chan.set_callstate("EARLY")
    else:
        if chan.kind == "sofia" and chan.direction == "inbound" and host.bus.log_max_level >= 7:
            host.log(7, "mod_sofia.c", "sofia_answer_channel", 936,
                     f"Local SDP {chan.name}:\n{chan.facts.get('local_sdp', '')}", chan)
        if chan.direction == "inbound":
            log_nua_state(chan, "completed", 200)  # the 200 OK sent
        chan.answered = True
        chan.answer_state = "answered"
        chan.set_time("answered", now)
        chan.fire("CHANNEL_ANSWER")
        chan.set_callstate("ACTIVE")
        chan.set_var("endpoint_disposition", "ANSWER") if chan.app != "answer" else None
        if host.bus.log_max_level >= 5:
            host.log(5, "mod_dptools.c", "answer_function", 1406,
                     f"Channel [{chan.name}] has been answered", chan, text_channel=0)
    caller = chan.peer
    if chan.kind == "sofia" and chan.direction == "inbound" and caller is not None:
        if pre_answer:
            host.later(host.tick(), _caller_early, caller, chan, chan=caller)
        else:
            host.later(host.tick(), _caller_answered, caller, chan, chan=caller)
    return True


def _late_media(chan: Channel, pre_answer: bool) -> None:
    """A late-negotiation inbound leg needs media: ``sofia_media_tech_media`` negotiates
    the INVITE's offer (CODEC events), then the channel is pre-answered (183 with SDP:
    CHANNEL_PROGRESS_MEDIA, CALLSTATE EARLY) before any answer (``switch_channel_perform_answer``
    pre-answers a leg without early media first)."""
    host = chan.host
    chan.apply(T.IN_LATE_NEGOTIATE)
    log_negotiate(chan, chan.facts.get("remote_sdp", ""))
    fire_codecs(chan)
    chan.apply(T.IN_LATE_MEDIA)
    log_rtp(chan, "peer_ip", True)
    chan.media = True
    chan.set_var("endpoint_disposition", "EARLY MEDIA")
    host.log(5, "sofia_media.c", "sofia_media_tech_media", 90, f"Pre-Answer {chan.name}!",
             chan, text_channel=0)
    chan.early = True
    chan.answer_state = "early"
    chan.set_time("progress_media", host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS_MEDIA")
    chan.set_callstate("EARLY")
    log_nua_state(chan, "early", 183)  # the 183 with SDP sent
    chan.apply(T.LOCAL_SDP)
    caller = chan.peer
    if pre_answer and caller is not None:
        host.later(host.tick(), _caller_early, caller, chan, chan=caller)


def ring_ready(chan: Channel) -> None:
    """180 from an inbound leg (``ring_ready``) -> CHANNEL_PROGRESS on it and its caller."""
    if chan.dead or chan.answered or chan.times.get("progress"):
        return
    inbound_sofia = chan.kind == "sofia" and chan.direction == "inbound"
    if inbound_sofia and chan.facts.get("to_tag"):
        # SWITCH_MESSAGE_INDICATE_RINGING (mod_sofia.c): "Set sip_to_tag to local tag for
        # inbound channels" before the 180 goes out and CHANNEL_PROGRESS is fired
        chan.set_var("sip_to_tag", chan.facts["to_tag"])
    if inbound_sofia:
        log_nua_state(chan, "early", 180)
    chan.set_time("progress", chan.host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS")
    caller = chan.peer
    if inbound_sofia and caller is not None:
        chan.host.later(chan.host.tick(), _caller_progress, caller, chan, chan=caller)


def _reply_callee_id(caller: Channel, callee: Channel) -> None:
    """The 180 / 183 / 200 from ``callee`` carries its callee id (``generate_pai_str``);
    ``sofia_update_callee_id`` takes it on ``caller``."""
    if not caller.dead and not caller.answered:
        update_callee_id(caller, presented_callee_id(callee, caller.facts.get("sip_ip", "")))


def _caller_progress(caller: Channel, callee: Channel) -> None:
    if caller.dead or caller.answered or caller.times.get("progress"):
        return
    _reply_callee_id(caller, callee)
    outbound_progress(caller)


def _caller_early(caller: Channel, callee: Channel) -> None:
    if caller.dead or caller.answered or caller.early:
        return
    _reply_callee_id(caller, callee)
    outbound_early_media(caller)


def _caller_answered(caller: Channel, callee: Channel) -> None:
    if caller.dead:
        return
    if caller.dut_call:
        caller.host.emulator.dut.answered()
    _reply_callee_id(caller, callee)
    outbound_answered(caller)
    if not callee.dead:
        callee.apply(T.IN_ACKED)
        log_nua_state(callee, "ready", 200)  # the ACK received


def loopback_a_answered(a: Channel) -> None:
    host = a.host
    a.answered = True
    a.answer_state = "answered"
    a.set_time("answered", host.clock.now_us())
    a.fire("CHANNEL_ANSWER")
    a.set_callstate("ACTIVE")
    host.later(0, _loopback_a_flip, a, chan=a)


def _loopback_a_flip(a: Channel) -> None:
    if a.dead:
        return
    flip_cid(a, "ANSWER")
    if a.originate is not None:
        a.originate.succeed()
