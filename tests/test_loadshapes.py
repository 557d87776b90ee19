import math

import pytest
from hypothesis import given, settings, strategies as st

from switchlab.loadshapes import (Constant, FromCallable, LaunchSchedule, Ramp, Steps, as_shape)


def launches_until(schedule: LaunchSchedule, horizon: float) -> list[float]:
    out = []
    while True:
        due = schedule.peek()
        if due is None or due - schedule.t0 >= horizon:
            return out
        out.append(schedule.pop())


def test_constant_schedule_has_no_drift_over_many_launches():
    s = LaunchSchedule(Constant(7.0), t0=0.0)
    times = launches_until(s, 1000.0)
    assert len(times) == 7000
    assert times[-1] == pytest.approx(6999 / 7.0, abs=1e-6)


def test_ramp_offers_its_integral():
    # 0 -> 100 cps over 10 s: area 500 calls
    s = LaunchSchedule(Ramp(0.0, 100.0, over=10.0), t0=0.0)
    n = len(launches_until(s, 10.0))
    assert abs(n - 500) <= 3


def test_steps_switch_rate_at_step_times():
    shape = Steps([(0, 10), (5, 20)])
    s = LaunchSchedule(shape, t0=0.0)
    times = launches_until(s, 10.0)
    first = [t for t in times if t < 5]
    second = [t for t in times if t >= 5]
    assert len(first) == 50 and abs(len(second) - 100) <= 1


def test_staircase_ends():
    shape = Steps.staircase(start=10, step=10, every=2, count=3)
    s = LaunchSchedule(shape, t0=0.0)
    times = launches_until(s, 100.0)
    assert shape.end == 6
    assert abs(len(times) - (20 + 40 + 60)) <= 1
    assert s.peek() is None


def test_zero_rate_pauses_and_resumes():
    s = LaunchSchedule(FromCallable(lambda t: 0.0 if t < 1 else 10.0), t0=0.0)
    times = launches_until(s, 2.0)
    assert all(t >= 1.0 for t in times)
    assert 9 <= len(times) <= 11


def test_late_launch_does_not_shift_later_ones():
    s = LaunchSchedule(Constant(10.0), t0=0.0)
    assert s.pop() == 0.0
    # the caller was 0.35 s late; the next due times stay on the grid
    assert s.pop() == pytest.approx(0.1)
    assert s.pop() == pytest.approx(0.2)


def test_rebase_after_blocking_moves_schedule_forward_only():
    s = LaunchSchedule(Constant(10.0), t0=0.0)
    s.pop()
    s.rebase(5.0)
    assert s.peek() == 5.0
    s.rebase(1.0)
    assert s.peek() == 5.0


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_bad_rates_are_rejected_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="calls/s"):
        Constant(bad)
    with pytest.raises(ValueError, match="calls/s"):
        FromCallable(lambda t: bad).rate(0)


def test_bad_steps_are_rejected():
    with pytest.raises(ValueError, match="start at 0"):
        Steps([(1, 10)])
    with pytest.raises(ValueError, match="increase"):
        Steps([(0, 10), (0, 20)])


def test_as_shape_accepts_numbers_callables_and_shapes():
    assert as_shape(5).rate(3) == 5.0
    assert as_shape(lambda t: 2 * t).rate(3) == 6.0
    r = Ramp(1, 2, over=1)
    assert as_shape(r) is r
    with pytest.raises(TypeError, match="load shape"):
        as_shape("fast")


# up to 100 000 launches per example: no per-example deadline (speed is not what this checks)
@settings(deadline=None)
@given(rate=st.floats(min_value=0.5, max_value=5000), horizon=st.floats(min_value=1, max_value=20))
def test_constant_count_matches_rate_times_horizon(rate, horizon):
    s = LaunchSchedule(Constant(rate), t0=123.0)
    n = len(launches_until(s, horizon))
    assert abs(n - rate * horizon) <= 1 + 1e-9 * rate * horizon
    assert math.isfinite(s.peek())
