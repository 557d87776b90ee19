"""The emulator's render caches give what rendering from scratch gives.

A channel's ``variable_*`` block is built from lines encoded (or found in a memo)
when each variable is set, and kept until the next change; the channel-data block
is cached by parts. Any sequence of sets, template applications, unsets and renders
must show exactly FreeSWITCH's rule: every variable once, in the order it was last
set, its value URL-encoded; a value set after a render shows up in the next one."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.sim import Emulator
from switchlab.sim.model import channel_render
from switchlab.sim.model import template as template_module
from switchlab.sim.model.channel import Channel
from switchlab.sim.model.event_builder import SimEvent
from switchlab.sim.model.fsdata import SOURCES
from switchlab.sim.model.template import variables
from switchlab.wire import Event, FrameParser
from switchlab.wire.urlcodec import UNSAFE, fs_url_encode

NAMES = ["a", "b", "c", "d", "call_uuid", "e"]
#: values rich in what matters: escapes, '%' before hex or not, non-ASCII, long ones
VALUES = st.one_of(
    st.sampled_from(["", "x", "1", "a b", "%41", "%4", "100%", "sip:u@h:5080", "é☃"]),
    st.text(alphabet=st.sampled_from(list(UNSAFE) + ["%", "A", "0", "é", "z"]), max_size=12),
    st.text(alphabet="ab %\n", min_size=120, max_size=200),
)
TEMPLATES = [
    variables("a={x}\nb=const %41 x\nc={y}-{x}\nd=sip:{x}@h"),
    variables("call_uuid={x}\ne=1"),
    variables("e={y}\na=fixed"),
    variables("b={x}\nb={y}"),  # a name twice in one template: the second one stays
    variables("c=k 1\nd=k2\ne=%41"),  # constants only
    variables("d={y}"),  # one assignment
    variables("e={x}{y}\nc=sip:{y}\nb=0\ncall_uuid={y}"),
]
OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), st.sampled_from(NAMES), VALUES),
    st.tuples(st.just("many"), st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=4)),
    st.tuples(st.just("apply"), st.integers(0, len(TEMPLATES) - 1), VALUES, VALUES),
    st.tuples(st.just("unset"), st.sampled_from(NAMES)),
    st.tuples(st.just("render")),
), max_size=25)


@pytest.fixture(scope="module")
def host():  # type: ignore[no-untyped-def]
    return Emulator(hosts=1, port=0).hosts[0]  # never started: a host to hang channels on


def _expected(model: dict[str, str]) -> str:
    return "".join(f"variable_{k}: {fs_url_encode(v)}\n" for k, v in model.items())


def _check(chan: Channel, model: dict[str, str]) -> None:
    assert list(chan.vars.items()) == list(model.items())
    assert chan.var_plain() == _expected(model)
    call_uuid = model.get("call_uuid", chan.uuid)
    assert f"\nChannel-Call-UUID: {fs_url_encode(call_uuid)}\n" in chan.data_plain()


def _run(host, ops) -> None:  # type: ignore[no-untyped-def]
    chan = Channel(host, "2d5c9f7e-0000-4000-8000-000000000001", "sofia/external/1000@h",
                   "outbound")
    model: dict[str, str] = {}

    def put(name: str, value: str) -> None:
        model.pop(name, None)
        model[name] = value

    for op in ops:
        if op[0] == "set":
            chan.set_var(op[1], op[2])
            put(op[1], op[2])
        elif op[0] == "many":
            chan.set_vars(op[1])
            for name, value in op[1]:
                put(name, value)
        elif op[0] == "apply":
            tpl = TEMPLATES[op[1]]
            facts = {"x": op[2], "y": op[3]}
            chan.apply(tpl, **facts)
            for name, value in zip(tpl.names, tpl.render_all(facts)):
                put(name, value)
        elif op[0] == "unset":
            chan.unset_var(op[1])
            model.pop(op[1], None)
        else:
            _check(chan, model)
    _check(chan, model)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_any_sequence_of_sets_renders_as_from_scratch(host, ops) -> None:  # type: ignore[no-untyped-def]
    _run(host, ops)


@settings(max_examples=100, deadline=None)
@given(OPS)
def test_the_same_when_the_line_memos_are_full(host, ops) -> None:  # type: ignore[no-untyped-def]
    """Values that do not recur (more than the memo keeps) are encoded each time."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(template_module, "LINE_MEMO_MAX", 1)
        _run(host, ops)


def test_a_value_set_after_a_render_is_in_the_next_event_and_unset_removes_it(host) -> None:  # type: ignore[no-untyped-def]
    chan = Channel(host, "2d5c9f7e-0000-4000-8000-000000000002", "sofia/internal/x@h",
                   "inbound")
    chan.set_vars([("one", "1"), ("two", "a b"), ("three", "3")])

    def variables_of_an_event() -> list[tuple[str, str]]:
        ev = SimEvent(host.bus, "CHANNEL_DATA", 1, 1_700_000_000_000_000,
                      SOURCES["CUSTOM"], chan=chan, extended=True)
        (frame,) = FrameParser().feed(ev.frame("plain"))
        event = Event.from_plain(frame.body)
        return [(k, v) for k, v in event.header_list() if k.startswith("variable_")]

    assert variables_of_an_event() == [("variable_one", "1"), ("variable_two", "a b"),
                                       ("variable_three", "3")]
    chan.set_var("one", "1")  # the same value: still moves to the end
    chan.apply(variables("two={v}\nfour=4"), v="b c")
    assert variables_of_an_event() == [("variable_three", "3"), ("variable_one", "1"),
                                       ("variable_two", "b c"), ("variable_four", "4")]
    chan.unset_var("three")
    assert [k for k, _ in variables_of_an_event()] == ["variable_one", "variable_two",
                                                       "variable_four"]


def test_the_channel_data_block_follows_every_change_after_a_render(host) -> None:  # type: ignore[no-untyped-def]
    """Each cached part (state, profile fields, times, other leg) is rebuilt after a
    change: the block always equals the decoded headers encoded from scratch."""
    a = Channel(host, "2d5c9f7e-0000-4000-8000-00000000000a", "sofia/external/a@h", "outbound")
    b = Channel(host, "2d5c9f7e-0000-4000-8000-00000000000b", "sofia/internal/b@h", "inbound")

    def from_scratch(chan: Channel) -> str:
        return "".join(f"{k}: {fs_url_encode(v)}\n" for k, v in chan.data_pairs())

    changes = [
        lambda: a.set_profile(Caller_ID_Name="Ann Smith", Caller_ID_Number="1000"),
        lambda: a.set_time("created", 1_700_000_000_000_001),
        lambda: a.set_state("CS_INIT"),
        lambda: a.set_callstate("RINGING"),
        lambda: a.set_profile(Destination_Number="answer@x", Caller_ID_Name=""),
        lambda: b.set_profile(Caller_ID_Name="Bob", Channel_Name=b.name),
        lambda: a.link_other("originatee", b),
        lambda: a.set_time("answered", 1_700_000_000_500_000),
        lambda: setattr(a, "profile_index", "2"),
        lambda: a.set_var("call_uuid", "other uuid"),
        lambda: setattr(a, "hangup_cause", "NORMAL_CLEARING"),
        lambda: setattr(a, "codec", ("PCMU", "8000", "64000")),
        lambda: a.unset_var("call_uuid"),
    ]
    for change in changes:
        change()
        assert a.data_plain() == from_scratch(a)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={name: st.one_of(VALUES, st.sampled_from(
    ["1000", "sofia/external/1000@h"])) for name in channel_render.PROFILE_FIELDS}),
    min_size=1, max_size=4))
def test_the_caller_fields_memo_renders_as_from_scratch(profiles) -> None:  # type: ignore[no-untyped-def]
    """The fields around Unique-ID are memoized by their values (the memo full or not);
    the block is every non-empty field, encoded, in FreeSWITCH's order."""
    for profile in profiles + profiles:  # the second time from the memo
        expected = "".join(f"Caller-{name}: {fs_url_encode(profile[name])}\n"
                           for name in channel_render.PROFILE_FIELDS if profile.get(name))
        assert channel_render._caller_fields(profile) == expected
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(channel_render, "_FIELDS_MEMO_MAX", 1)
        for profile in profiles:
            expected = "".join(f"Caller-{name}: {fs_url_encode(profile[name])}\n"
                               for name in channel_render.PROFILE_FIELDS if profile.get(name))
            assert channel_render._caller_fields(profile) == expected
