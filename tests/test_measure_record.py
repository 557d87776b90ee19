"""CallRecord: real FreeSWITCH 1.11 transcripts in, the row out (expected
values worked out by hand from the transcripts' Event-Date-Timestamp headers)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.measure import CallRecord, Run, frame_from_rows, parse_job_result
from switchlab.measure.record import side_from_dispositions, sip_code_of
from switchlab.measure.schema import COLUMN_NAMES
from switchlab.wire import EVENT_TYPES, Event, FrameParser

WIRE = Path(__file__).parent / "data" / "fs-wire"
LAUNCH_WALL = 1_795_694_067.0
LAUNCH_MONO = 500.0


def transcript(name: str) -> list[Event]:
    """Every event of a transcript, with a fake local receive time: 1 ms per frame."""
    events = []
    for i, frame in enumerate(FrameParser().feed((WIRE / f"{name}.raw").read_bytes())):
        if frame.content_type in EVENT_TYPES:
            ev = Event.from_frame(frame)
            ev.received = LAUNCH_MONO + 0.001 * (i + 1)
            events.append(ev)
    return events


def record_of(name: str, *, caller: str | None = None, callee: bool = True) -> CallRecord:
    events = transcript(name)
    if caller is None:
        caller = next(e.uuid for e in events
                      if e.name == "CHANNEL_CREATE" and e.get("Call-Direction") == "outbound")
    rec = CallRecord(caller, launch=LAUNCH_WALL, launch_monotonic=LAUNCH_MONO, host="vm",
                     app="test", dest="answer", active_calls=3, erlangs=2.5, target_rate=10)
    for ev in events:
        if ev.name == "BACKGROUND_JOB":
            rec.job_result(ev.body, ev.received)
        elif ev.uuid and (callee or ev.uuid == caller):
            rec.add_event(ev)
    return rec


def stamp(name: str, event: str, uuid: str) -> int:
    """The transcript's Event-Date-Timestamp of the first ``event`` of ``uuid``."""
    return next(e.timestamp_us for e in transcript(name) if e.name == event and e.uuid == uuid)


def test_ringing_call_latencies_from_freeswitch_clock() -> None:
    rec = record_of("call_ringing")
    assert rec.complete
    row = rec.row()
    assert set(row) == set(COLUMN_NAMES)
    # by hand from call_ringing.raw (uuid 3d4bb68e-...):
    # CREATE 1795694067360680, PROGRESS ...380674, PROGRESS_MEDIA ...068380679,
    # ANSWER ...069420684, HANGUP ...071440677, BACKGROUND_JOB '+OK 3d4bb68e-...'
    assert row["call_id"] == "3d4bb68e-4970-47c8-beee-0eb783d7ae3e"
    assert row["caller_create"] == 1795694067360680
    assert row["caller_progress"] == 1795694067380674
    assert row["caller_early_media"] == 1795694068380679
    assert row["caller_answer"] == 1795694069420684
    assert row["caller_hangup"] == 1795694071440677       # CHANNEL_HANGUP, not _COMPLETE
    assert row["post_dial_delay"] == (1795694067380674 - 1795694067360680) / 1e6  # 19.994 ms
    assert row["early_media_latency"] == 1.019999
    assert row["setup_latency"] == 2.060004
    assert row["duration"] == 2.019993
    # the three are one, 51 and 103 ticks of the stock 20 ms timer
    for col, ticks in (("post_dial_delay", 1), ("early_media_latency", 51),
                       ("setup_latency", 103)):
        assert row[col] == pytest.approx(0.020 * ticks, abs=20e-6)
    assert row["hangup_cause"] == "NORMAL_CLEARING"
    assert row["sip_code"] is None                 # answered, killed by FS: no SIP status
    assert row["hangup_disposition"] == "send_bye"
    assert row["hangup_side"] == "caller"
    assert row["failed"] is False
    assert row["callee_create"] is None and row["invite_latency"] is None
    # local clock: frames are 1 ms apart in this fake timeline
    assert row["rx_launch"] == LAUNCH_MONO
    assert row["originate_latency"] == pytest.approx(row["rx_job"] - LAUNCH_MONO)
    assert row["job_done"] == round(LAUNCH_WALL * 1e6) + round(
        (row["rx_job"] - LAUNCH_MONO) * 1e6)
    assert row["launch"] == round(LAUNCH_WALL * 1e6)
    assert (row["active_calls"], row["erlangs"], row["target_rate"]) == (3, 2.5, 10)


def test_busy_call_from_sipp_486() -> None:
    rec = record_of("call_sipp_busy")
    assert rec.complete
    row = rec.row()
    assert row["hangup_cause"] == "USER_BUSY"
    assert row["sip_code"] == 486
    assert row["hangup_disposition"] == "recv_refuse"
    assert row["hangup_side"] == "callee"
    assert row["failed"] is True
    assert row["caller_answer"] is None and row["setup_latency"] is None
    # refused in the creating tick: the session request delay is 0 on this clock
    assert row["caller_create"] == row["caller_hangup"] == 1795691793532326
    assert row["post_dial_delay"] == 0.0


def test_503_call() -> None:
    row = record_of("call_sipp_503").row()
    assert (row["hangup_cause"], row["sip_code"], row["hangup_side"], row["failed"]) == (
        "NORMAL_TEMPORARY_FAILURE", 503, "callee", True)


def test_noanswer_timeout_call_uses_invite_failure_status() -> None:
    rec = record_of("call_noanswer_timeout")
    row = rec.row()
    # NO_ANSWER: no sip_term_status, sip_invite_failure_status=487, FS sent the CANCEL
    assert row["hangup_cause"] == "NO_ANSWER"
    assert row["sip_code"] == 487
    assert row["hangup_disposition"] == "send_cancel"  # only on CHANNEL_HANGUP_COMPLETE
    assert row["hangup_side"] == "caller"
    assert row["failed"] is True
    assert row["caller_progress"] == 1795694074280691
    assert row["caller_hangup"] == 1795694077000670
    assert row["post_dial_delay"] == 0.0  # 180 stamped in the same 20 ms tick as the create


def test_selfloop_call_with_callee_leg() -> None:
    events = transcript("call_selfloop_plain")
    caller = "4c6198d3-901d-4e03-8997-4797f06e06ca"
    callee = "f57e1669-9332-421a-bb23-ce4f37a7458b"
    rec = record_of("call_selfloop_plain", caller=caller)
    assert rec.complete
    row = rec.row()
    assert row["caller_create"] == stamp("call_selfloop_plain", "CHANNEL_CREATE", caller)
    assert row["callee_create"] == stamp("call_selfloop_plain", "CHANNEL_CREATE", callee)
    assert row["callee_answer"] == 1795691766152318
    assert row["callee_hangup"] == 1795691768212327
    assert row["invite_latency"] == 0.0
    assert row["setup_latency"] == 0.02
    assert row["answer_latency"] == 0.0
    assert row["duration"] == 2.02
    assert row["hangup_side"] == "caller"   # caller leg send_bye (callee leg: recv_bye)
    assert row["sip_code"] is None
    assert len(events) > 10


def test_row_is_incomplete_until_job_and_hangup_complete() -> None:
    events = [e for e in transcript("call_ringing") if e.uuid or e.name == "BACKGROUND_JOB"]
    rec = CallRecord("3d4bb68e-4970-47c8-beee-0eb783d7ae3e", launch=1.0, launch_monotonic=0.0)
    states = []
    for ev in events:
        if ev.name == "BACKGROUND_JOB":
            rec.job_result(ev.body, ev.received)
        else:
            rec.add_event(ev)
        states.append((ev.name, rec.complete))
    assert states[-1] == ("CHANNEL_STATE", True)  # CS_DESTROY, the very last event
    first_complete = next(i for i, (_, done) in enumerate(states) if done)
    assert states[first_complete][0] == "CHANNEL_HANGUP_COMPLETE"


def test_job_error_without_any_channel() -> None:
    rec = CallRecord("c0", launch=10.0, launch_monotonic=5.0, host="fs1")
    assert not rec.complete
    rec.job_result(b"-ERR SUBSCRIBER_ABSENT\n", received=5.25)
    assert rec.complete
    row = rec.row()
    assert row["hangup_cause"] == "SUBSCRIBER_ABSENT"
    assert row["failed"] is True and row["sip_code"] is None and row["hangup_side"] is None
    assert row["originate_latency"] == 0.25
    assert row["job_done"] == 10_250_000


def test_local_hangup_and_local_failure() -> None:
    rec = record_of("call_ringing")
    rec.hung_up_locally()
    assert rec.row()["hangup_side"] == "local"
    lost = CallRecord("c9", launch=1.0, launch_monotonic=0.0)
    lost.fail_locally("HOST_DISCONNECTED")
    row = lost.row()
    assert lost.complete
    assert (row["hangup_cause"], row["hangup_side"], row["failed"]) == (
        "HOST_DISCONNECTED", "local", True)


def test_other_events_are_ignored_and_bad_leg_refused() -> None:
    rec = CallRecord("x", launch=1.0, launch_monotonic=0.0)
    park = Event.from_headers({"Event-Name": "CHANNEL_PARK", "Unique-ID": "x",
                               "Event-Date-Timestamp": "5"})
    assert rec.add_event(park) is False
    with pytest.raises(ValueError, match="leg must be"):
        rec.add_event(park, leg="b-leg")


def test_events_of_the_same_kind_keep_the_first() -> None:
    rec = CallRecord("x", launch=1.0, launch_monotonic=0.0)
    for ts in ("1000", "3000"):
        ev = Event.from_headers({"Event-Name": "CHANNEL_PROGRESS", "Unique-ID": "x",
                                 "Event-Date-Timestamp": ts})
        rec.add_event(ev)
    assert rec.row()["caller_progress"] == 1000


def test_parse_job_result_and_helpers() -> None:
    assert parse_job_result("+OK 3d4bb68e\n") == (True, None)
    assert parse_job_result("-ERR USER_BUSY\n") == (False, "USER_BUSY")
    assert parse_job_result("-ERR\n") == (False, "UNKNOWN_ERROR")
    assert parse_job_result("garbage") == (False, "garbage")
    assert sip_code_of({"variable_sip_term_status": "486",
                        "variable_sip_invite_failure_status": "487"}) == 486
    assert sip_code_of({"variable_sip_invite_failure_status": "487"}) == 487
    assert sip_code_of({"variable_sip_term_status": "bogus"}) is None
    assert side_from_dispositions(None, "send_bye") == "callee"
    assert side_from_dispositions(None, "recv_bye") == "caller"
    assert side_from_dispositions("recv_cancel", "send_bye") == "callee"
    assert side_from_dispositions(None, None) is None


def test_transcript_rows_make_a_typed_frame_with_known_kpis() -> None:
    rows = [record_of(n).row() for n in ("call_ringing", "call_sipp_busy", "call_sipp_503",
                                          "call_noanswer_timeout", "call_selfloop_plain")]
    df = frame_from_rows(rows)
    k = df.calls.kpis().loc["all"]
    assert (k["offered"], k["answered"], k["failed"]) == (5, 2, 3)
    assert k["asr"] == 0.4
    assert k["ner"] == 0.8          # + USER_BUSY + NO_ANSWER; the 503 is a network failure
    assert k["acd"] == pytest.approx((2.019993 + 2.02) / 2)
    by_sip = df.calls.failures("sip_code")["count"]
    assert {int(c): int(n) for c, n in by_sip.items()} == {486: 1, 503: 1, 487: 1}


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(12))))
def test_event_order_does_not_change_the_row(order: list[int]) -> None:
    """Stamps come from different threads and arrive out of order: the row depends
    on what arrived, not on the order."""
    events = [e for e in transcript("call_ringing")
              if e.name in {"CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
                            "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
                            "BACKGROUND_JOB"}]
    reference = record_of("call_ringing").row()
    idx = [i for i in order if i < len(events)]
    rec = CallRecord(reference["call_id"], launch=LAUNCH_WALL, launch_monotonic=LAUNCH_MONO,
                     host="vm", app="test", dest="answer", active_calls=3, erlangs=2.5,
                     target_rate=10)
    for i in idx:
        ev = events[i]
        if ev.name == "BACKGROUND_JOB":
            rec.job_result(ev.body, ev.received)
        else:
            rec.add_event(ev)
    row = rec.row()
    for col in ("caller_create", "caller_progress", "caller_early_media", "caller_answer",
                "caller_hangup", "hangup_cause", "sip_code", "hangup_side", "failed",
                "setup_latency", "post_dial_delay", "duration", "originate_latency"):
        assert row[col] == reference[col], col


def test_run_add_record_fills_run_id() -> None:
    run = Run({"rate": 1})
    row = run.add_record(record_of("call_sipp_busy"))
    assert row["run_id"] == run.run_id
    assert run.df["run_id"].iloc[0] == run.run_id


@pytest.mark.parametrize("name", ["call_sipp_busy", "call_selfloop_plain"])
def test_add_record_stores_what_add_row_stores(name: str) -> None:
    """add_record keeps CallRecord.row()'s dict as it is (every column, in column
    order): the same row, and the same frame, as the checked add_row path."""
    whole, checked = Run({"rate": 1}, run_id="r"), Run({"rate": 1}, run_id="r")
    rec = record_of(name)
    assert list(rec.row()) == list(COLUMN_NAMES)
    a, b = whole.add_record(rec), checked.add_row(rec.row())
    assert list(a) == list(b) == list(COLUMN_NAMES) and a == b
    pd.testing.assert_frame_equal(whole.df, checked.df)


_LEG_EVENTS = ["CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER",
               "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.sampled_from(["caller", "callee"]), st.sampled_from(_LEG_EVENTS)),
    st.tuples(st.just("job"), st.sampled_from(["+OK c1\n", "-ERR USER_BUSY\n"])),
    st.tuples(st.just("local"), st.just("HOST_DISCONNECTED"))), max_size=14))
def test_only_a_hangup_complete_a_job_or_a_local_failure_completes_a_record(
        steps: list[tuple[str, str]]) -> None:
    """The recorder asks ``complete`` only after these (originator/recorder.py):
    no other event ever turns an incomplete record complete."""
    rec = CallRecord("c1", launch=LAUNCH_WALL, launch_monotonic=LAUNCH_MONO)
    for i, (who, what) in enumerate(steps):
        before = rec.complete
        if who == "job":
            rec.job_result(what, LAUNCH_MONO + i)
        elif who == "local":
            rec.fail_locally(what)
        else:
            uuid = "c1" if who == "caller" else "e1"
            ev = Event.from_headers({"Event-Name": what, "Unique-ID": uuid,
                                     "Event-Date-Timestamp": str(1_700_000_000_000_000 + i)})
            rec.add_event(ev)
            if not before and rec.complete:
                assert what == "CHANNEL_HANGUP_COMPLETE", steps[: i + 1]
