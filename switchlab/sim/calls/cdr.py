"""The hangup report: the variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE."""
from __future__ import annotations

from ..model import causes
from ..model import milestones as T
from ..model.channel import Channel
from ..model.clock import local_stamp


#: (unit in µs, names of the duration variables in that unit)
_CDR_UNITS = tuple(
    (unit, dur, f"bill{sfx}", f"progress{sfx}", f"answer{sfx}", f"wait{sfx}",
     f"progress_media{sfx}", f"flow_bill{sfx}")
    for unit, sfx, dur in ((1_000_000, "sec", "duration"), (1000, "msec", "mduration"),
                           (1, "usec", "uduration")))


def apply_cdr(chan: Channel) -> None:
    """Variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE
    (``switch_channel_set_timestamps``)."""
    t = chan.times
    start = t.get("created", 0)
    prof = t.get("profile_created", start)
    answer = t.get("answered", 0)
    bridged = t.get("bridged", 0)
    progress = t.get("progress", 0)
    pmedia = t.get("progress_media", 0)
    end = t.get("hangup", chan.host.clock.now_us())
    cause = chan.hangup_cause or "NORMAL_CLEARING"
    out: list[tuple[str, str]] = [
        ("hangup_cause", cause), ("hangup_cause_q850", str(causes.Q850.get(cause, 0))),
        ("digits_dialed", "none"), ("start_stamp", local_stamp(start)),
        ("profile_start_stamp", local_stamp(prof)),
    ]
    if answer:
        out.append(("answer_stamp", local_stamp(answer)))
    if bridged:
        out.append(("bridge_stamp", local_stamp(bridged)))
    if progress:
        out.append(("progress_stamp", local_stamp(progress)))
    if pmedia:
        out.append(("progress_media_stamp", local_stamp(pmedia)))
    out.append(("end_stamp", local_stamp(end)))
    sec = 1_000_000
    zero = "0"
    out += [
        ("start_epoch", str(start // sec)), ("start_uepoch", str(start)),
        ("profile_start_epoch", str(prof // sec)), ("profile_start_uepoch", str(prof)),
        ("answer_epoch", str(answer // sec)), ("answer_uepoch", str(answer)),
        ("bridge_epoch", str(bridged // sec)), ("bridge_uepoch", str(bridged)),
        ("last_hold_epoch", zero), ("last_hold_uepoch", zero),
        ("hold_accum_seconds", zero), ("hold_accum_usec", zero), ("hold_accum_ms", zero),
        ("resurrect_epoch", zero), ("resurrect_uepoch", zero),
        ("progress_epoch", str(progress // sec)), ("progress_uepoch", str(progress)),
        ("progress_media_epoch", str(pmedia // sec)), ("progress_media_uepoch", str(pmedia)),
        ("end_epoch", str(end // sec)), ("end_uepoch", str(end)),
    ]
    if chan.last_app:
        out.append(("last_app", chan.last_app))
        if chan.last_arg:
            out.append(("last_arg", chan.last_arg))
    name, num = chan.cid_name, chan.cid_num
    out.append(("caller_id", f'"{name}" <{num}>' if name else num))
    for unit, n_dur, n_bill, n_progress, n_answer, n_wait, n_pmedia, n_flow in _CDR_UNITS:
        s0 = start // unit
        flow = str(end // unit - s0)
        out += [
            (n_dur, flow),
            (n_bill, str(end // unit - answer // unit) if answer else zero),
            (n_progress, str(progress // unit - s0) if progress else zero),
            (n_answer, str(answer // unit - s0) if answer else zero),
            (n_wait, str(bridged // unit - s0) if bridged else zero),
            (n_pmedia, str(pmedia // unit - s0) if pmedia else zero),
            (n_flow, flow),
        ]
    if chan.facts.get("bridge_role") == "originatee":
        out += [("bridge_hangup_cause", cause), ("call_uuid", chan.uuid)]
    chan.set_vars(out)
    how = chan.facts.get("hangup_how", "local")
    if chan.kind == "loopback":
        chan.set_var("is_loopback", "1")
        return
    if chan.kind != "sofia":
        return
    if how in ("local", "bridge", "peer"):
        # sofia_on_hangup: BYE once CF_ANSWERED / TFLAG_ANS (set by the 200 OK, not by a
        # 183: an early-media leg is refused (inbound) or cancelled (outbound))
        if chan.answered:
            chan.set_var("sip_hangup_disposition", "send_bye")
        elif chan.direction == "outbound":
            chan.apply(T.OUT_CANCELLED)
        else:
            chan.set_var("sip_hangup_disposition", "send_refuse")
    if chan.media:
        talk_ms = max(0, (end - (answer or pmedia or end)) // 1000)
        out_packets = chan.media_ms // 20
        in_packets = chan.facts.get("peer_media_ms", 0) // 20
        chan.apply(T.RTP_STATS, in_bytes=in_packets * 172, in_packets=in_packets,
                   skip_packets=max(0, talk_ms // 20 - in_packets), out_bytes=out_packets * 172,
                   out_packets=out_packets)
