"""The emulator process's collector schedule (switchlab.sim.collector): what survives
is frozen without being walked, strays are still found, everything is undone at stop."""
from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from switchlab.sim.collector import EmulatorGC


class Node:
    """An object that can be made part of a reference cycle and watched by weakref."""

    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    """A two-object cycle nobody refers to any more (garbage only the collector frees)."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def policy() -> Iterator[EmulatorGC]:
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    p = EmulatorGC(full_every=300.0, probe_every=10, idle_after=10.0)
    p.start(now=0.0)
    try:
        yield p
    finally:
        p.stop()
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_survivors_are_frozen_and_a_cycle_waits_for_the_full_pass(policy: EmulatorGC) -> None:
    assert not gc.isenabled()
    held = Node()  # what a call holds: survives, frozen without a walk
    held.other = held
    stray = _cycle()
    assert policy.tick(1.0, idle=False) == "freeze"
    assert gc.get_freeze_count() > 0 and gc.get_count()[0] < 50  # the young generation was emptied, not walked
    assert stray() is not None  # frozen with the rest: held until a full pass
    plain = Node()
    gone = weakref.ref(plain)
    policy.tick(2.0, idle=False)
    del plain  # frozen objects are still freed by reference counting
    assert gone() is None
    for t in range(3, 9):
        assert policy.tick(float(t), idle=False) == "freeze"
    assert stray() is not None
    assert policy.tick(300.0, idle=False) == "full"
    assert stray() is None and policy.collected >= 2
    assert gc.get_freeze_count() > 0 and held.other is held  # frozen again, still held


def test_a_probe_that_finds_strays_collects_every_second_until_a_full_pass(
        policy: EmulatorGC) -> None:
    for t in range(1, 10):
        assert policy.tick(float(t), idle=False) == "freeze"
    assert policy.tick(10.0, idle=False) == "probe"  # nothing to find: frozen again
    assert not policy.strays
    for t in range(11, 20):
        policy.tick(float(t), idle=False)
    stray = _cycle()  # made between the 19th and the 20th tick: the probe sees it
    assert policy.tick(20.0, idle=False) == "young"
    assert stray() is None and policy.strays
    frozen = gc.get_freeze_count()
    stray = _cycle()
    assert policy.tick(21.0, idle=False) == "young"  # no freeze: the next second's strays
    assert stray() is None and gc.get_freeze_count() == frozen
    assert policy.tick(300.0, idle=False) == "full" and not policy.strays
    assert policy.tick(301.0, idle=False) == "freeze"


def test_an_idle_host_gets_a_full_pass_after_idle_after(policy: EmulatorGC) -> None:
    stray = _cycle()
    assert policy.tick(5.0, idle=True) == "freeze"  # too soon after start
    assert stray() is not None
    assert policy.tick(10.0, idle=True) == "full"
    assert stray() is None
    assert policy.tick(11.0, idle=True) == "freeze"  # the next one 10 s later
    assert policy.tick(20.0, idle=True) == "full"


def test_start_and_stop_are_idempotent_and_restore_a_disabled_collector() -> None:
    gc.disable()
    try:
        p = EmulatorGC()
        p.start(now=0.0)
        p.start(now=1.0)
        assert gc.get_freeze_count() > 0
        p.stop()
        p.stop()
        assert gc.get_freeze_count() == 0 and not gc.isenabled()  # left as it was
    finally:
        gc.enable()


@pytest.mark.parametrize("kwargs", [{"full_every": 0.0}, {"probe_every": 0},
                                    {"idle_after": -1.0}])
def test_a_bad_schedule_is_refused_with_what_is_allowed(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="full_every must be > 0 s"):
        EmulatorGC(**kwargs)  # type: ignore[arg-type]
