"""The DUT model: determinism, outcome statistics, capacity, rate limit, knee."""
from __future__ import annotations

import asyncio
import math
import random
from collections import Counter

import pytest

from simclient import RawClient
from switchlab.sim import DUTModel, Emulator, Latency


def within(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    """``count`` successes of ``n`` trials is plausible for probability ``p``."""
    sd = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= sigmas * sd + 1


def outcomes(dut: DUTModel, n: int) -> list[tuple]:
    out = []
    for _ in range(n):
        plan = dut.plan(active=0)
        out.append((plan.kind, plan.sip_code, plan.cause, round(plan.answer_at or 0, 9),
                    round(plan.fail_at or 0, 9)))
        dut.release()
    return out


def test_same_seed_same_outcomes() -> None:
    kw = dict(failures={486: 0.1, "NORMAL_CIRCUIT_CONGESTION": 0.05}, answer_probability=0.8,
              early_media=0.3)
    first = outcomes(DUTModel(seed=5, **kw), 500)
    assert first == outcomes(DUTModel(seed=5, **kw), 500)
    assert first != outcomes(DUTModel(seed=6, **kw), 500)
    dut = DUTModel(seed=5, **kw)
    outcomes(dut, 100)
    dut.reseed(5)
    assert outcomes(dut, 500) == first


def test_answer_probability_and_failure_mix() -> None:
    n = 6000
    dut = DUTModel(seed=11, failures={486: 0.10, 503: 0.05, 404: 0.02,
                                      "NORMAL_CIRCUIT_CONGESTION": 0.03},
                   answer_probability=0.75)
    kinds = Counter()
    causes = Counter()
    for _ in range(n):
        plan = dut.plan(active=0)
        kinds[plan.kind] += 1
        if plan.kind == "fail":
            causes[(plan.cause, plan.sip_code)] += 1
        dut.release()
    assert within(causes[("USER_BUSY", 486)], n, 0.10)
    assert within(causes[("NORMAL_TEMPORARY_FAILURE", 503)], n, 0.05)
    assert within(causes[("UNALLOCATED_NUMBER", 404)], n, 0.02)
    assert within(causes[("NORMAL_CIRCUIT_CONGESTION", 503)], n, 0.03)
    assert within(kinds["answer"], n, 0.80 * 0.75)
    assert within(kinds["noanswer"], n, 0.80 * 0.25)
    assert dut.stats.offered == n
    assert sum(dut.stats.failed.values()) == kinds["fail"]


def test_capacity_gives_congestion() -> None:
    dut = DUTModel(seed=1, capacity=10, failures={})
    plans = [dut.plan() for _ in range(12)]
    assert [p.kind for p in plans[:10]] == ["answer"] * 10
    for p in plans[10:]:
        assert (p.kind, p.sip_code, p.cause, p.refused) == \
            ("fail", 503, "NORMAL_CIRCUIT_CONGESTION", "capacity")
    assert dut.stats.congested == 2
    dut.release()
    dut.release()
    dut.release()
    assert dut.plan().kind == "answer"


def test_cps_limit() -> None:
    dut = DUTModel(seed=1, cps_limit=10, failures={})
    first = [dut.plan(active=0, now=100.0 + i * 0.01) for i in range(30)]
    assert sum(p.kind == "answer" for p in first) == 10
    refused = [p for p in first if p.refused]
    assert len(refused) == 20 and {p.cause for p in refused} == {"SWITCH_CONGESTION"}
    later = dut.plan(active=0, now=101.5)
    assert later.kind == "answer"
    assert dut.stats.rate_limited == 20


def test_setup_latency_knee() -> None:
    base = dict(seed=2, capacity=100, knee_ms=20, failures={}, ring_ms=100,
                ringing_ms=Latency.fixed(40), trying_ms=0)
    idle = DUTModel(**base).plan(active=0).answer_at
    half = DUTModel(**base).plan(active=50).answer_at
    near = DUTModel(**base).plan(active=95).answer_at
    assert idle is not None and half is not None and near is not None
    assert idle < half < near
    assert near - idle > 10 * (half - idle) / 2  # grows much faster close to capacity


def test_latency_distributions() -> None:
    rng = random.Random(1)
    for lat, mean in ((Latency.fixed(50), 50), (Latency.uniform(10, 30), 20),
                      (Latency.exponential(40), 40), (Latency.normal(100, 10), 100),
                      (Latency.lognormal(100, 0.5), 100 * math.exp(0.125))):
        draws = [lat.sample_ms(rng) for _ in range(20000)]
        assert min(draws) >= 0
        assert abs(sum(draws) / len(draws) - mean) < 0.05 * mean, lat
        assert lat.mean_ms() == pytest.approx(mean)
    assert Latency.parse("100-300") == Latency.uniform(100, 300)
    assert Latency.parse("lognormal:150:0.5") == Latency.lognormal(150, 0.5)
    assert Latency.coerce(7) == Latency.fixed(7)
    with pytest.raises(ValueError, match="not understood"):
        Latency.parse("fast")


@pytest.mark.parametrize("kw, match", [
    ({"answer_probability": 1.5}, "answer_probability"),
    ({"failures": {"NO_SUCH_CAUSE": 0.1}}, "not a FreeSWITCH hangup cause"),
    ({"failures": {200: 0.1}}, "SIP failure status"),
    ({"failures": {486: 0.7, 503: 0.5}}, "add up to"),
    ({"capacity": -1}, "capacity"),
])
def test_bad_settings_are_explained(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DUTModel(**kw)


@pytest.mark.timeout(60)
async def test_capacity_through_the_emulator() -> None:
    dut = DUTModel(seed=4, capacity=3, failures={}, ringing_ms=1, ring_ms=5, trying_ms=0,
                   knee_ms=0)
    async with Emulator(hosts=1, port=0, dut=dut, tick_us=1000, heartbeat_s=3600) as fs:
        async with RawClient(*fs.esl_addresses[0]) as c:
            await c.auth()
            results = [await c.api("originate sofia/external/x@127.0.0.1:5070 &park()")
                       for _ in range(5)]
            assert [r.startswith("+OK") for r in results] == [True] * 3 + [False] * 2
            assert results[3:] == ["-ERR NORMAL_CIRCUIT_CONGESTION\n"] * 2
            assert dut.stats.active == 3 and dut.stats.congested == 2
            # changeable while running: more capacity, next call goes through
            dut.capacity = 10
            assert (await c.api("originate sofia/external/x@127.0.0.1:5070 &park()")
                    ).startswith("+OK")
            await c.api("hupall")
            await asyncio.sleep(0.1)
            assert dut.stats.active == 0
