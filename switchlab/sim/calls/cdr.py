"""The hangup report: the variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE."""
from __future__ import annotations

from ..model import causes
from ..model import milestones as T
from ..model.channel import Channel
from ..model.channel_render import var_line
from ..model.clock import local_stamp


#: (unit in µs, names of the duration variables in that unit)
_CDR_UNITS = tuple(
    (unit, dur, f"bill{sfx}", f"progress{sfx}", f"answer{sfx}", f"wait{sfx}",
     f"progress_media{sfx}", f"flow_bill{sfx}")
    for unit, sfx, dur in ((1_000_000, "sec", "duration"), (1000, "msec", "mduration"),
                           (1, "usec", "uduration")))
#: the epoch variables, in FreeSWITCH's order (their values are digits: no encoding)
_EPOCH_NAMES = (
    "start_epoch", "start_uepoch", "profile_start_epoch", "profile_start_uepoch",
    "answer_epoch", "answer_uepoch", "bridge_epoch", "bridge_uepoch", "last_hold_epoch",
    "last_hold_uepoch", "hold_accum_seconds", "hold_accum_usec", "hold_accum_ms",
    "resurrect_epoch", "resurrect_uepoch", "progress_epoch", "progress_uepoch",
    "progress_media_epoch", "progress_media_uepoch", "end_epoch", "end_uepoch")
_DURATION_NAMES = tuple(name for unit in _CDR_UNITS for name in unit[1:])
#: their ``variable_*`` lines as one ``%``-format (split into lines after formatting)
_EPOCH_LINES = "".join(f"variable_{name}: %s\n" for name in _EPOCH_NAMES)
_DURATION_LINES = "".join(f"variable_{name}: %s\n" for name in _DURATION_NAMES)


def apply_cdr(chan: Channel) -> None:
    """Variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE
    (``switch_channel_set_timestamps``).

    The numeric ones (epochs, durations) need no URL-encoding: their lines come from
    one ``%``-format per block; the others are encoded by :func:`var_line`.
    """
    t = chan.times
    start = t.get("created", 0)
    prof = t.get("profile_created", start)
    answer = t.get("answered", 0)
    bridged = t.get("bridged", 0)
    progress = t.get("progress", 0)
    pmedia = t.get("progress_media", 0)
    end = t.get("hangup", chan.host.clock.now_us())
    cause = chan.hangup_cause or "NORMAL_CLEARING"
    names = ["hangup_cause", "hangup_cause_q850", "digits_dialed", "start_stamp",
             "profile_start_stamp"]
    values = [cause, str(causes.Q850.get(cause, 0)), "none", local_stamp(start),
              local_stamp(prof)]
    if answer:
        names.append("answer_stamp")
        values.append(local_stamp(answer))
    if bridged:
        names.append("bridge_stamp")
        values.append(local_stamp(bridged))
    if progress:
        names.append("progress_stamp")
        values.append(local_stamp(progress))
    if pmedia:
        names.append("progress_media_stamp")
        values.append(local_stamp(pmedia))
    names.append("end_stamp")
    values.append(local_stamp(end))
    lines = list(map(var_line, names, values))
    sec = 1_000_000
    zero = "0"
    epochs = (
        str(start // sec), str(start), str(prof // sec), str(prof),
        str(answer // sec), str(answer), str(bridged // sec), str(bridged),
        zero, zero, zero, zero, zero, zero, zero,
        str(progress // sec), str(progress), str(pmedia // sec), str(pmedia),
        str(end // sec), str(end))
    names += _EPOCH_NAMES
    values += epochs
    lines += (_EPOCH_LINES % epochs).splitlines(True)
    tail_names = []
    tail_values = []
    if chan.last_app:
        tail_names.append("last_app")
        tail_values.append(chan.last_app)
        if chan.last_arg:
            tail_names.append("last_arg")
            tail_values.append(chan.last_arg)
    name, num = chan.cid_name, chan.cid_num
    tail_names.append("caller_id")
    tail_values.append(f'"{name}" <{num}>' if name else num)
    names += tail_names
    values += tail_values
    lines += map(var_line, tail_names, tail_values)
    durations: list[str] = []
    for unit, *_ in _CDR_UNITS:
        s0 = start // unit
        flow = str(end // unit - s0)
        durations += (
            flow,
            str(end // unit - answer // unit) if answer else zero,
            str(progress // unit - s0) if progress else zero,
            str(answer // unit - s0) if answer else zero,
            str(bridged // unit - s0) if bridged else zero,
            str(pmedia // unit - s0) if pmedia else zero,
            flow,
        )
    names += _DURATION_NAMES
    values += durations
    lines += (_DURATION_LINES % tuple(durations)).splitlines(True)
    originatee = chan.facts.get("bridge_role") == "originatee"
    if originatee:
        names += ("bridge_hangup_cause", "call_uuid")
        values += (cause, chan.uuid)
        lines += (var_line("bridge_hangup_cause", cause), var_line("call_uuid", chan.uuid))
    chan.put_lines(names, values, lines)
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
