"""Tick detection: FreeSWITCH's cached clock advances in 20 ms (stock) or 1 ms
(``1ms-timer``) ticks; detect_tick finds it from the stamps alone."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.measure import TickEstimate, detect_tick, frame_from_rows
from switchlab.measure.tick import tick_of_frame
from switchlab.wire import EVENT_TYPES, Event, FrameParser

WIRE = Path(__file__).parent / "data" / "fs-wire"
T0 = 1_795_694_067_000_000


def stamps_of(*names: str) -> list[int]:
    out = []
    for name in names:
        for frame in FrameParser().feed((WIRE / f"{name}.raw").read_bytes()):
            if frame.content_type in EVENT_TYPES:
                ts = Event.from_frame(frame).timestamp_us
                if ts:
                    out.append(ts)
    return out


def grid(tick_us: int, n: int, spread: int, jitter_us: float, seed: int = 0) -> np.ndarray:
    """n stamps on a tick grid (random ticks among n*spread), each off by ±jitter."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, n * spread, n)
    return np.rint(T0 + 680 + k * tick_us + rng.uniform(-jitter_us, jitter_us, n)).astype(np.int64)


@pytest.mark.parametrize("names", [("call_ringing",), ("call_selfloop_plain",), ("bridge",),
                                   ("dtmf_record",),
                                   # one FreeSWITCH process, many calls, minutes apart
                                   ("call_ringing", "call_sipp_503", "call_noanswer_timeout",
                                    "call_loopback", "hupall_with_var")])
def test_real_stock_freeswitch_is_20ms(names: tuple[str, ...]) -> None:
    est = detect_tick(stamps_of(*names))
    assert est.seconds == 0.02
    assert est.label == "20 ms"
    assert est.exact_seconds == pytest.approx(0.02, abs=2e-6)
    assert est.coherence > 0.99
    assert est.jitter_seconds < 50e-6


def test_too_few_stamps_is_unknown_not_a_guess() -> None:
    # call_sipp_busy: two distinct ticks, one gap
    est = detect_tick(stamps_of("call_sipp_busy"))
    assert est.seconds is None and est.label == "unknown"
    assert detect_tick([]).seconds is None
    assert detect_tick([T0, T0 + 5]).seconds is None      # one tick read twice


@pytest.mark.parametrize("tick_us", [1000, 10_000, 20_000, 30_000])
@pytest.mark.parametrize("spread", [2, 50])
def test_whole_ms_ticks_with_50us_jitter(tick_us: int, spread: int) -> None:
    est = detect_tick(grid(tick_us, 400, spread, jitter_us=50))
    assert est.seconds == tick_us / 1e6


def test_small_sample_1ms_timer() -> None:
    # 12 stamps, ~40 ticks apart on average, ±50 µs: still clearly a 1 ms grid
    est = detect_tick(grid(1000, 12, 40, jitter_us=50, seed=3))
    assert est.seconds == 0.001


def test_non_whole_ms_tick_of_an_emulator() -> None:
    est = detect_tick(grid(2500, 5000, 2, jitter_us=20))
    assert est.seconds == pytest.approx(0.0025, abs=2e-6)


def test_free_running_clock_has_no_tick() -> None:
    rng = np.random.default_rng(1)
    est = detect_tick(T0 + rng.integers(0, 60_000_000, 2000))
    assert est.seconds == 1e-6
    assert "no tick" in est.label


def test_accepts_datetimes_and_floats_and_ignores_missing() -> None:
    s = grid(20_000, 200, 10, jitter_us=10)
    as_dt = s.astype("datetime64[us]")
    as_float = np.concatenate([s.astype(np.float64), [np.nan, -1.0]])
    assert detect_tick(as_dt).seconds == detect_tick(as_float).seconds == 0.02


def test_roundtrip_dict() -> None:
    est = detect_tick(grid(20_000, 100, 5, jitter_us=10))
    assert TickEstimate.from_dict(est.to_dict()) == est
    assert TickEstimate.from_dict(None).seconds is None


def test_per_host_ticks_are_detected_separately() -> None:
    """Two hosts, one stock and one with 1ms-timer, different phases."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(300):
        host, tick, phase = ("stock", 20_000, 680) if i % 2 else ("fast", 1000, 333)
        create = T0 + phase + tick * int(rng.integers(0, 30_000_000 // tick))
        answer = create + tick * int(rng.integers(1, 200_000 // tick))
        rows.append({"call_id": str(i), "host": host, "launch": create, "caller_create": create,
                     "caller_answer": answer, "caller_hangup": answer + tick * 50,
                     "failed": False})
    df = frame_from_rows(rows)
    overall, by_host = tick_of_frame(df)
    assert by_host["stock"].seconds == 0.02
    assert by_host["fast"].seconds == 0.001
    assert overall.seconds == 0.02   # the coarsest bounds every latency of the run
    k = df.calls.kpis(by="host")
    assert k.loc["stock", "tick_ms"] == 20.0
    assert k.loc["fast", "tick_ms"] == 1.0
    assert df.calls.kpis().loc["all", "tick_ms"] == 20.0


@settings(max_examples=60, deadline=None)
@given(tick_ms=st.sampled_from([1, 2, 5, 10, 20, 40]), n=st.integers(40, 400),
       spread=st.integers(1, 60), jitter=st.floats(0, 50), seed=st.integers(0, 2**32 - 1))
def test_detects_any_whole_ms_tick(tick_ms: int, n: int, spread: int, jitter: float,
                                   seed: int) -> None:
    stamps = grid(tick_ms * 1000, n, spread, jitter, seed)
    est = detect_tick(stamps)
    # a grid is always a grid of its own multiples too; with this many gaps the
    # detected tick must be the real one (or, rarely, unknown: never wrong)
    assert est.seconds in (tick_ms / 1000, None)
    if np.unique(np.rint((stamps - T0) / (tick_ms * 1000))).size > 30:
        assert est.seconds == tick_ms / 1000


def test_busy_20ms_clock_is_not_mistaken_for_a_nearby_tick():
    """Regression: on a busy 20 ms clock (a 5000-call ramp, stamps exactly on
    the grid) a 21-23 ms candidate has an almost constant, non-zero phase and
    used to pass as 'coherent' (22 ms was reported)."""
    from plotrows import ramp_frame

    df = ramp_frame(5000)
    df.attrs.pop("fs_tick", None)
    assert df.calls.tick.label == "20 ms"
