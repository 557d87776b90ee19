"""The collector policy of a launching originator is applied and fully undone."""
from __future__ import annotations

import gc

import pytest

from switchlab.originator.gcpolicy import YOUNG, LoadTestGC


def test_start_freezes_and_raises_the_young_threshold_stop_restores() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0  # nothing in this process froze objects
    policy = LoadTestGC()
    policy.start()
    try:
        assert gc.get_threshold() == (YOUNG, before[1], before[2])
        assert gc.get_freeze_count() > 0
        policy.start()  # idempotent: a resumed originator does not stack
        assert gc.get_threshold()[0] == YOUNG
    finally:
        policy.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    policy.stop()
    assert gc.get_threshold() == before


def test_an_application_that_disabled_the_collector_is_left_alone() -> None:
    before = gc.get_threshold()
    gc.disable()
    try:
        policy = LoadTestGC()
        policy.start()
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        policy.stop()
    finally:
        gc.enable()


def test_someone_elses_freeze_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # (not by comparing freeze counts: frozen objects still die by reference
    # counting, e.g. those of an earlier test's threads, and the count falls)
    gc.freeze()
    try:
        calls: list[str] = []
        monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
        monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
        policy = LoadTestGC()
        policy.start()
        assert gc.get_threshold()[0] == YOUNG
        policy.stop()
        assert calls == [] and gc.get_freeze_count() > 0
    finally:
        monkeypatch.undo()
        gc.unfreeze()
