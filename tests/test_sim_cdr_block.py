"""The hangup report's variables (``apply_cdr``): its numeric lines come from one
``%``-format per block; whatever the channel's times, profile and last application,
the variables and their encoded lines are those of setting each pair with
``set_vars`` (the pairs built as FreeSWITCH's ``switch_channel_set_timestamps`` does,
written out here as the reference)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.sim import Emulator
from switchlab.sim.calls.cdr import apply_cdr
from switchlab.sim.model import causes
from switchlab.sim.model.channel import Channel
from switchlab.sim.model.clock import local_stamp
from switchlab.wire.urlcodec import fs_url_encode

_UNITS = ((1_000_000, "sec", "duration"), (1000, "msec", "mduration"), (1, "usec", "uduration"))


def reference_pairs(chan: Channel, now: int) -> list[tuple[str, str]]:
    """The report's variables, one pair at a time, in FreeSWITCH's order."""
    t = chan.times
    start = t.get("created", 0)
    prof = t.get("profile_created", start)
    answer, bridged = t.get("answered", 0), t.get("bridged", 0)
    progress, pmedia = t.get("progress", 0), t.get("progress_media", 0)
    end = t.get("hangup", now)
    cause = chan.hangup_cause or "NORMAL_CLEARING"
    out = [("hangup_cause", cause), ("hangup_cause_q850", str(causes.Q850.get(cause, 0))),
           ("digits_dialed", "none"), ("start_stamp", local_stamp(start)),
           ("profile_start_stamp", local_stamp(prof))]
    for name, stamp in (("answer_stamp", answer), ("bridge_stamp", bridged),
                        ("progress_stamp", progress), ("progress_media_stamp", pmedia)):
        if stamp:
            out.append((name, local_stamp(stamp)))
    out.append(("end_stamp", local_stamp(end)))
    for name, stamp in (("start", start), ("profile_start", prof), ("answer", answer),
                        ("bridge", bridged)):
        out += [(f"{name}_epoch", str(stamp // 1_000_000)), (f"{name}_uepoch", str(stamp))]
    out += [(name, "0") for name in (
        "last_hold_epoch", "last_hold_uepoch", "hold_accum_seconds", "hold_accum_usec",
        "hold_accum_ms", "resurrect_epoch", "resurrect_uepoch")]
    for name, stamp in (("progress", progress), ("progress_media", pmedia), ("end", end)):
        out += [(f"{name}_epoch", str(stamp // 1_000_000)), (f"{name}_uepoch", str(stamp))]
    if chan.last_app:
        out.append(("last_app", chan.last_app))
        if chan.last_arg:
            out.append(("last_arg", chan.last_arg))
    name, num = chan.cid_name, chan.cid_num
    out.append(("caller_id", f'"{name}" <{num}>' if name else num))
    for unit, sfx, dur in _UNITS:
        s0 = start // unit

        def since(stamp: int, s0: int = s0, unit: int = unit) -> str:
            return str(stamp // unit - s0) if stamp else "0"
        out += [(dur, str(end // unit - s0)),
                (f"bill{sfx}", str(end // unit - answer // unit) if answer else "0"),
                (f"progress{sfx}", since(progress)), (f"answer{sfx}", since(answer)),
                (f"wait{sfx}", since(bridged)), (f"progress_media{sfx}", since(pmedia)),
                (f"flow_bill{sfx}", str(end // unit - s0))]
    if chan.facts.get("bridge_role") == "originatee":
        out += [("bridge_hangup_cause", cause), ("call_uuid", chan.uuid)]
    return out


@pytest.fixture(scope="module")
def host():  # type: ignore[no-untyped-def]
    return Emulator(hosts=1, port=0).hosts[0]  # never started: a host to hang channels on


T0 = 1_764_470_000_000_000
STAMP = st.one_of(st.just(0), st.integers(T0, T0 + 90_000_000))
TEXT = st.text(alphabet=st.sampled_from(list("ab %<>\"@:é1")), max_size=8)


@settings(max_examples=150, deadline=None)
@given(times=st.fixed_dictionaries({}, optional={
           key: STAMP for key in ("created", "profile_created", "answered", "bridged",
                                  "progress", "progress_media", "hangup")}),
       cause=st.sampled_from([None, "NORMAL_CLEARING", "USER_BUSY", "NO_ANSWER"]),
       app=st.sampled_from([None, "park", "sleep"]), arg=TEXT, cid_name=TEXT,
       cid_num=TEXT, originatee=st.booleans(), before=st.lists(st.sampled_from(
           ["end_epoch", "caller_id", "call_uuid", "x", "answersec"]), max_size=3))
def test_the_report_sets_what_setting_each_pair_sets(host, times, cause, app, arg, cid_name,
                                                     cid_num, originatee, before) -> None:  # type: ignore[no-untyped-def]
    chans = [Channel(host, "2d5c9f7e-0000-4000-8000-000000000001", "sofia/a/1@h",
                     "outbound", "test") for _ in (1, 2)]
    now = host.clock.now_us()
    for chan in chans:
        chan.times.update(times)
        chan.times.setdefault("hangup", now)  # the report's "now" when none is set
        chan.hangup_cause = cause
        chan.last_app, chan.last_arg = app, arg
        chan.set_profile(Caller_ID_Name=cid_name, Caller_ID_Number=cid_num)
        if originatee:
            chan.facts["bridge_role"] = "originatee"
        for name in before:  # set earlier: moved to the end by the report
            chan.set_var(name, "old value")
        chan.data_plain()
    fast, slow = chans
    apply_cdr(fast)
    slow.set_vars(reference_pairs(slow, now))
    assert list(fast.vars.items()) == list(slow.vars.items())
    assert fast.var_plain() == "".join(
        f"variable_{k}: {fs_url_encode(v)}\n" for k, v in slow.vars.items())
    call_uuid = fast.vars.get("call_uuid", fast.uuid)
    assert f"\nChannel-Call-UUID: {fs_url_encode(call_uuid)}\n" in fast.data_plain()
