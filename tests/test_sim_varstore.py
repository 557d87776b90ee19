"""Channels' variable layouts (``sim/model/varstore.py``): worked out once per sequence of
names set, shared by the channels that set the same names, bounded, and never wrong.

What each channel reads and renders is held to FreeSWITCH's rule from scratch by
``test_sim_render_cache.py`` (any sequence of sets, applications, unsets, renders);
these tests hold the sharing and the bound."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from switchlab.sim import Emulator
from switchlab.sim.model import varstore
from switchlab.sim.model.channel import Channel
from switchlab.sim.model.template import variables

from test_sim_render_cache import OPS, _run

FLOW = variables("a={x}\nb=const\nc={x}-{y}")


@pytest.fixture(scope="module")
def host():  # type: ignore[no-untyped-def]
    return Emulator(hosts=1, port=0).hosts[0]  # never started: a host to hang channels on


def _leg(host, n: int) -> Channel:  # type: ignore[no-untyped-def]
    chan = Channel(host, f"2d5c9f7e-0000-4000-8000-{n:012d}", "sofia/external/1000@h",
                   "outbound")
    chan.apply(FLOW, x=f"v{n}", y="w")
    chan.set_var("b", f"again {n}")
    chan.set_vars([("d", "1"), ("a", f"last {n}")])
    chan.unset_var("c")
    return chan


def test_channels_that_set_the_same_names_share_one_layout_and_keep_their_values(host) -> None:  # type: ignore[no-untyped-def]
    one, two = _leg(host, 1), _leg(host, 2)
    assert one._layout is two._layout
    assert one._layout.names == ("b", "d", "a")
    assert one.var_items() == [("b", "again 1"), ("d", "1"), ("a", "last 1")]
    assert two.var_items() == [("b", "again 2"), ("d", "1"), ("a", "last 2")]
    assert one.var_plain() == "variable_b: again%201\nvariable_d: 1\nvariable_a: last%201\n"
    assert (two.get_var("a"), two.get_var("c"), two.var("c", "-"), two.has_var("d")) == \
        ("last 2", None, "-", True)
    before = varstore.known_layouts()
    _leg(host, 3)
    assert varstore.known_layouts() == before  # nothing new to work out


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_with_room_for_two_layouts_every_read_and_render_is_still_right(host, ops) -> None:  # type: ignore[no-untyped-def]
    """Past :data:`MAX_LAYOUTS` the known layouts are dropped and learnt again: the
    channels holding one keep it, and what they render does not change."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(varstore, "MAX_LAYOUTS", 2)
        varstore.forget_layouts()
        _run(host, ops)
        assert varstore.known_layouts() <= 2


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_compacting_after_every_set_changes_no_read_and_no_render(host, ops) -> None:  # type: ignore[no-untyped-def]
    """With a slack below zero every layout is crowded: a channel compacts its lists
    after every set; what it reads and renders is the same (held to the from-scratch
    model)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(varstore, "SLACK", -10**9)
        varstore.forget_layouts()
        try:
            _run(host, ops)
        finally:
            mp.undo()
            varstore.forget_layouts()  # no layout worked out without slack stays


def test_the_count_of_layouts_stays_under_its_bound_with_names_that_never_recur(host) -> None:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(varstore, "MAX_LAYOUTS", 50)
        varstore.forget_layouts()
        chan = Channel(host, "2d5c9f7e-0000-4000-8000-0000000000ff", "sofia/x/y@h", "inbound")
        for n in range(500):
            chan.set_var(f"name_{n}", str(n))
            assert varstore.known_layouts() <= 50
        assert chan.var_items() == [(f"name_{n}", str(n)) for n in range(500)]
        assert len(varstore.ROOT.children) <= 50


def test_a_long_call_that_sets_the_same_names_again_stays_bounded_and_reuses_its_layouts(host) -> None:  # type: ignore[no-untyped-def]
    """An app loop sets ``current_application`` & co. again and again: the channel's lists
    are compacted (never more than twice its variables plus the slack), and after a few
    rounds every set finds its layout already worked out."""
    varstore.forget_layouts()
    chan = _leg(host, 4)
    loop = variables("current_application={app}\ncurrent_application_data={arg}")
    seen = []
    for n in range(3000):
        chan.apply(loop, app="playback", arg=f"tone_stream://{n}")
        chan.set_var("playback_seconds", str(n % 7))
        chan.unset_var("current_application_response")
        assert len(chan._vals) == len(chan._vlines) <= 2 * len(chan._layout.live) \
            + varstore.SLACK + 3
        seen.append(varstore.known_layouts())
    assert seen[-1] == seen[len(seen) // 2] < 200  # a cycle of known layouts
    assert chan.var_items()[-3:] == [("current_application", "playback"),
                                     ("current_application_data", "tone_stream://2999"),
                                     ("playback_seconds", str(2999 % 7))]
    assert chan.var_plain().endswith("variable_current_application_data: "
                                     "tone_stream%3A//2999\nvariable_playback_seconds: 3\n")


def test_a_render_after_only_new_names_appends_to_the_last_block(host) -> None:  # type: ignore[no-untyped-def]
    """Setting only names that are not live yet extends the last block with their
    lines (the earlier lines are not picked and joined again); a name set again, an
    unset or a compaction drops the block at once, and the next one is made afresh."""
    chan = _leg(host, 5)
    first = chan.var_plain()
    at = chan._layout.index["b"]
    line, chan._vlines[at] = chan._vlines[at], "variable_b: not read again\n"
    chan.set_vars([("f", "1"), ("g", "x y")])
    assert chan.var_plain() == first + "variable_f: 1\nvariable_g: x%20y\n"  # appended
    chan._vlines[at] = line
    chan.set_var("f", "2")  # moved: picked and joined afresh
    assert chan._vplain == ""  # the old block is not held until then (memory per channel)
    assert chan.var_plain() == ("variable_b: again%205\nvariable_d: 1\nvariable_a: last%205\n"
                                "variable_g: x%20y\nvariable_f: 2\n")
    chan.unset_var("d")
    chan.set_var("h", "3")
    assert chan.var_plain() == ("variable_b: again%205\nvariable_a: last%205\n"
                                "variable_g: x%20y\nvariable_f: 2\nvariable_h: 3\n")
