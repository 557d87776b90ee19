"""``Leg.outcome``'s fast path (``measure/leg.py`` ``_lacks_sip_code``): one
search rules out both SIP-code variables of a plain event; every result is the
one the two plain lookups give, on FreeSWITCH's own events and on generated
ones in every event format."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.measure import leg as leg_module
from switchlab.measure.leg import Leg, sip_code_of
from switchlab.wire import EVENT_TYPES, Event, FrameParser, serialize

WIRE = Path(__file__).parent / "data" / "fs-wire"
KEYS = ("variable_sip_term_status", "variable_sip_invite_failure_status")


def recorded_events() -> list[Event]:
    out = []
    for path in sorted(WIRE.glob("*.raw")):
        for frame in FrameParser().feed(path.read_bytes()):
            if frame.content_type in EVENT_TYPES:
                out.append(Event.from_frame(frame))
    return out


def test_the_fast_path_agrees_with_the_lookups_on_every_recorded_event() -> None:
    fast = coded = 0
    for ev in recorded_events():
        lacks = leg_module._lacks_sip_code(ev)
        if lacks:
            fast += 1
            assert all(ev.get(k) is None for k in KEYS), ev
            assert sip_code_of(ev) is None
        coded += sip_code_of(ev) is not None
    assert fast > 100 and coded > 5, (fast, coded)  # both cases are in the recordings


def _plain_outcome(leg: Leg) -> tuple[str | None, int | None, str | None]:
    """The outcome with every SIP-code variable looked up (no fast path)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(leg_module, "_lacks_sip_code", lambda ev: False)
        return leg.outcome()


_VALUES = st.sampled_from(["", "486", "487", "200", "bogus", "99", "700", "603%20x"])
_OTHER = st.sampled_from([("variable_sip_hangup_disposition", "send_bye"),
                          ("variable_some_status", "1"),  # "_status: " without a SIP code
                          ("Hangup-Cause", "NORMAL_CLEARING"),
                          ("variable_hangup_cause", "USER_BUSY")])


@st.composite
def hangup_events(draw: st.DrawFn, name: str) -> Event:
    headers = [("Event-Name", name), ("Unique-ID", "c1")]
    headers += draw(st.lists(_OTHER, max_size=3))
    for key in KEYS:
        if draw(st.booleans()):
            headers.append((key, draw(_VALUES)))
    if draw(st.booleans()):
        headers.append(("variable_sip_term_status", draw(_VALUES)))  # repeated: the first wins
    body = draw(st.sampled_from([None, b"variable_sip_term_status: 486\n",
                                 b"x\nvariable_sip_invite_failure_status: 487\n"]))
    kind = draw(st.sampled_from(["plain", "json", "xml", "decoded"]))
    if kind == "decoded":
        return Event.from_headers(dict(reversed(headers)), body)
    frame = {"plain": serialize.event_plain, "json": serialize.event_json,
             "xml": serialize.event_xml}[kind](headers, body)
    return Event.from_frame(FrameParser().feed(frame)[0])


@settings(max_examples=300, deadline=None)
@given(st.lists(hangup_events("CHANNEL_HANGUP_COMPLETE"), max_size=2),
       st.lists(hangup_events("CHANNEL_HANGUP"), max_size=2))
def test_the_outcome_is_the_one_the_plain_lookups_give(completes: list[Event],
                                                       hangups: list[Event]) -> None:
    leg = Leg()
    for i, ev in enumerate(hangups + completes):
        leg.add(ev, ev.name, i, float(i))
    assert leg.outcome() == _plain_outcome(leg)
