"""A channel's variable store (segments, no dict per value) reads and renders exactly
what a plain ordered dict set by FreeSWITCH's rule gives: every read between any sets,
template applications (a name twice in one template too), many-at-once sets with their
lines given (the hangup report), unsets and renders; each name once, where it was last
set, its value URL-encoded."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.sim import Emulator
from switchlab.sim.model import template as template_module
from switchlab.sim.model.channel import Channel
from switchlab.sim.model.channel_render import var_line
from switchlab.sim.model.template import variables
from switchlab.sim.model.varstore import VarStore
from switchlab.wire.urlcodec import fs_url_encode

NAMES = ["a", "b", "c", "d", "call_uuid", "e", "f"]
VALUES = st.one_of(st.sampled_from(["", "x", "1", "a b", "%41", "100%", "sip:u@h", "é"]),
                   st.text(alphabet="ab %:@\n", max_size=8))
TEMPLATES = [
    variables("a={x}\nb=const %41 x\nc={y}-{x}\nd=sip:{x}@h"),
    variables("call_uuid={x}\ne=1"),
    variables("b={x}\nb={y}"),
    variables("f={y}\na={x}\nf=2"),  # a name twice, the other name between
    variables("c=k 1\nd=k2\ne=%41"),
    variables("d={y}"),
]
PAIRS = st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=5)
OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), st.sampled_from(NAMES), VALUES),
    st.tuples(st.just("many"), PAIRS),
    st.tuples(st.just("lines"), PAIRS),
    st.tuples(st.just("apply"), st.integers(0, len(TEMPLATES) - 1), VALUES, VALUES),
    st.tuples(st.just("unset"), st.sampled_from(NAMES)),
    st.tuples(st.just("render")),
), max_size=30)


@pytest.fixture(scope="module")
def host():  # type: ignore[no-untyped-def]
    return Emulator(hosts=1, port=0).hosts[0]  # never started: a host to hang channels on


def _reads_agree(store: VarStore, model: dict[str, str]) -> None:
    for name in NAMES:
        assert store.get(name) == model.get(name)
        assert store.get(name, "dflt") == model.get(name, "dflt")
        assert (name in store) == (name in model)
        if name in model:
            assert store[name] == model[name]
        else:
            with pytest.raises(KeyError):
                store[name]
    assert len(store) == len(model)
    assert store.pairs() == list(model.items())
    assert list(store) == list(model)


def _run(host, ops) -> None:  # type: ignore[no-untyped-def]
    chan = Channel(host, "2d5c9f7e-0000-4000-8000-0000000000aa", "sofia/external/1000@h",
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
        elif op[0] == "lines":
            names = [n for n, _ in op[1]]
            values = [v for _, v in op[1]]
            chan.put_lines(names, values, list(map(var_line, names, values)),
                           call_uuid="call_uuid" in names)
            for name, value in op[1]:
                put(name, value)
        elif op[0] == "apply":
            tpl = TEMPLATES[op[1]]
            chan.apply(tpl, x=op[2], y=op[3])
            for name, value in zip(tpl.names, tpl.render_all({"x": op[2], "y": op[3]})):
                put(name, value)
        elif op[0] == "unset":
            chan.unset_var(op[1])
            model.pop(op[1], None)
        else:
            assert chan.var_plain() == "".join(
                f"variable_{k}: {fs_url_encode(v)}\n" for k, v in model.items())
            assert f"\nChannel-Call-UUID: {fs_url_encode(model.get('call_uuid', chan.uuid))}\n" \
                in chan.data_plain()
        _reads_agree(chan.vars, model)  # a read between any two writes
    assert chan.var_plain() == "".join(
        f"variable_{k}: {fs_url_encode(v)}\n" for k, v in model.items())
    assert chan.var_pairs() == [(f"variable_{k}", v) for k, v in model.items()]


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_reads_and_blocks_equal_an_ordered_dict(host, ops) -> None:  # type: ignore[no-untyped-def]
    _run(host, ops)


@settings(max_examples=100, deadline=None)
@given(OPS)
def test_the_same_with_full_line_memos(host, ops) -> None:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(template_module, "LINE_MEMO_MAX", 1)
        _run(host, ops)


def test_an_override_moves_the_name_to_the_end_of_a_rendered_block(host) -> None:  # type: ignore[no-untyped-def]
    """FreeSWITCH's order, byte for byte: a name set again leaves its old place."""
    chan = Channel(host, "2d5c9f7e-0000-4000-8000-0000000000ab", "sofia/internal/x@h",
                   "inbound")
    chan.apply(TEMPLATES[0], x="u 1", y="v")
    assert chan.var_plain() == ("variable_a: u%201\nvariable_b: const%20%41%20x\n"
                                "variable_c: v-u%201\nvariable_d: sip%3Au%201%40h\n")
    chan.set_var("b", "z")
    chan.apply(TEMPLATES[5], y="w")
    chan.unset_var("a")
    assert chan.var_plain() == "variable_c: v-u%201\nvariable_b: z\nvariable_d: w\n"
    assert chan.get_var("d") == "w" and chan.get_var("a") is None
