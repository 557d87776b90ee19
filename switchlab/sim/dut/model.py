"""The model of the device under test (DUT): the SIP peer calls are sent to.

:class:`DUTModel` is a plain object with sensible defaults. Every field may be
changed while the emulator runs (the next call uses the new value). Delays are
:class:`Latency` distributions in milliseconds; a bare number means a fixed
delay and a ``(low, high)`` pair a uniform one.

>>> dut = DUTModel(seed=1, capacity=100, failures={486: 0.02, "NORMAL_CIRCUIT_CONGESTION": 0.01})
>>> dut.ring_ms = Latency.uniform(1000, 3000)     # ring 1-3 s before answering
>>> plan = dut.plan(active=0)
>>> plan.kind in ("answer", "fail", "noanswer")
True

The SIP dialogue it models, per call::

    INVITE -> 100 Trying  (trying_ms)
           -> 180 Ringing (ringing_ms after the 100; skipped if send_ringing is False)
           -> 183 + SDP   (early_media_ms after the 180, with probability early_media)
           -> 200 OK      (ring_ms after the 180: the ring time)
    or     -> 4xx/5xx/6xx (failure_ms after the 100), picked from ``failures``
    or     -> nothing at all, with probability ``blackhole``: sofia gives up after
              timer B (32 s: ``408``, RECOVERY_ON_TIMER_EXPIRE) unless the
              originate times out first (NO_ANSWER)

Beyond ``capacity`` concurrent calls, or ``cps_limit`` new calls per second,
calls are refused at once with ``503`` and a ``Reason: Q.850`` header giving
``congestion_cause`` / ``rate_limit_cause``. The closer the load gets to
``capacity``, the longer the 180 and 200 take (``knee_ms * rho / (1 - rho)``
extra, like a queue), so a ramp shows a knee.
"""
from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model import causes
from .latency import Latency, LatencyLike
from .plan import CallPlan, DUTStats

#: sofia's INVITE transaction timeout (timer B = 64 x T1 of 500 ms) when nothing answers
TIMER_B_S = 32.0


def _check_probability(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")
    return value


@dataclass
class DUTModel:
    """The device under test: delays, outcomes, capacity and rate limit.

    Fields (all changeable at run time):

    * ``trying_ms``, ``ringing_ms``, ``early_media_ms``, ``ring_ms``, ``failure_ms``:
      step latencies (see the module docstring);
    * ``send_ringing``: send 180 before answering (else answer straight after the 100);
    * ``early_media``: probability of a 183 with SDP after the 180 (the originate
      then returns at early media, as FreeSWITCH does unless ``ignore_early_media``);
    * ``answer_probability``: probability that a ringing call is answered; the
      others ring until ``ring_timeout_s`` and then get ``480``;
    * ``failures``: ``{sip_code or cause name: probability}`` of refusing a call;
      a cause name is sent as ``503`` (or the cause's usual SIP status) with a
      ``Reason: Q.850`` header so FreeSWITCH reports exactly that cause;
    * ``capacity`` / ``congestion_cause``: concurrent-call limit and the cause
      of calls refused beyond it;
    * ``cps_limit`` / ``rate_limit_cause``: new calls per second and the cause of
      calls refused beyond it;
    * ``knee_ms``: extra setup delay scale as load approaches capacity;
    * ``call_duration_ms``: if set, the DUT hangs answered calls up (BYE) after it;
    * ``blackhole``: probability that an INVITE gets no response at all (a fault:
      the call ends when the originate times out, or at sofia's timer B);
    * ``echo_media``: the DUT loops audio and RFC 2833 digits back to the caller leg
      (a one-sided DTMF/BERT/record test against it then sees its own media);
    * ``dtmf_loss``: share of RFC 2833 DTMF digits crossing the DUT that it eats
      (1.0: a DTMF-eating DUT; in-band tones are audio and pass);
    * ``seed``: seed of the random source (same seed, same outcomes in call order).
    """

    seed: int | None = None
    trying_ms: LatencyLike = field(default_factory=lambda: Latency.uniform(1, 3))
    ringing_ms: LatencyLike = field(default_factory=lambda: Latency.lognormal(40, 0.3))
    early_media_ms: LatencyLike = field(default_factory=lambda: Latency.fixed(0))
    ring_ms: LatencyLike = field(default_factory=lambda: Latency.lognormal(150, 0.5))
    failure_ms: LatencyLike = field(default_factory=lambda: Latency.lognormal(30, 0.3))
    send_ringing: bool = True
    early_media: float = 0.0
    answer_probability: float = 0.99
    ring_timeout_s: float = 120.0
    failures: Mapping[int | str, float] = field(default_factory=lambda: {486: 0.005, 503: 0.005})
    capacity: int | None = None
    congestion_cause: str = "NORMAL_CIRCUIT_CONGESTION"
    cps_limit: float | None = None
    rate_limit_cause: str = "SWITCH_CONGESTION"
    knee_ms: float = 20.0
    call_duration_ms: LatencyLike | None = None
    blackhole: float = 0.0
    echo_media: bool = False
    dtmf_loss: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._recent: deque[float] = deque()
        self.stats = DUTStats()
        self.validate()

    # -- configuration ------------------------------------------------------
    def validate(self) -> None:
        """Check every field; raises ``ValueError``/``TypeError`` naming the bad one."""
        for name in ("trying_ms", "ringing_ms", "early_media_ms", "ring_ms", "failure_ms"):
            Latency.coerce(getattr(self, name), name)
        if self.call_duration_ms is not None:
            Latency.coerce(self.call_duration_ms, "call_duration_ms")
        _check_probability("early_media", self.early_media)
        _check_probability("answer_probability", self.answer_probability)
        _check_probability("blackhole", self.blackhole)
        _check_probability("dtmf_loss", self.dtmf_loss)
        total = 0.0
        for key, p in dict(self.failures).items():
            _check_probability(f"failures[{key!r}]", p)
            total += float(p)
            if isinstance(key, str):
                if not causes.is_cause(key):
                    raise ValueError(f"failures key {key!r} is not a FreeSWITCH hangup cause "
                                     "(e.g. USER_BUSY) nor a SIP status (e.g. 486)")
            elif not (isinstance(key, int) and 300 <= key <= 699):
                raise ValueError(f"failures key {key!r} must be a SIP failure status 300-699 "
                                 "or a cause name")
        if total > 1.0 + 1e-9:
            raise ValueError(f"failure probabilities add up to {total:.3f} > 1")
        for name in ("congestion_cause", "rate_limit_cause"):
            if not causes.is_cause(getattr(self, name)):
                raise ValueError(f"{name} {getattr(self, name)!r} is not a FreeSWITCH cause")
        if self.capacity is not None and int(self.capacity) < 0:
            raise ValueError(f"capacity must be >= 0 or None, got {self.capacity}")
        if self.cps_limit is not None and float(self.cps_limit) <= 0:
            raise ValueError(f"cps_limit must be > 0 or None, got {self.cps_limit}")
        if self.knee_ms < 0 or self.ring_timeout_s <= 0:
            raise ValueError("knee_ms must be >= 0 and ring_timeout_s > 0")

    def reseed(self, seed: int | None) -> None:
        """Restart the random source (same seed -> same outcome sequence)."""
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def reset_stats(self) -> None:
        """Zero the counters (active calls are kept)."""
        with self._lock:
            active = self.stats.active
            self.stats = DUTStats(active=active, peak_active=active)

    # -- per call -----------------------------------------------------------
    def plan(self, active: int | None = None, now: float | None = None) -> CallPlan:
        """Decide what happens to one new call and count it as active.

        ``active`` overrides the concurrent-call count used for capacity and
        knee; ``now`` (seconds, monotonic) is used for the cps window. Exactly
        the same number of random draws is made for every call, so outcomes
        only depend on the seed and the call order.
        """
        with self._lock:
            rng = self._rng
            draws = [rng.random() for _ in range(3)]
            lat = {name: Latency.coerce(getattr(self, name), name).sample_ms(rng) / 1000.0
                   for name in ("trying_ms", "ringing_ms", "early_media_ms", "ring_ms",
                                "failure_ms")}
            dur = self.call_duration_ms
            hold: float | None = None
            if dur is not None:
                hold = Latency.coerce(dur, "call_duration_ms").sample_ms(rng) / 1000.0
            else:
                rng.random()  # keep the number of draws per call constant
            st = self.stats
            st.offered += 1
            busy = st.active if active is None else active
            # one more draw only when black-holing is on (seeded runs without it keep
            # their outcome sequence)
            if self.blackhole and rng.random() < float(self.blackhole):
                st.blackholed += 1
                st.active += 1
                st.peak_active = max(st.peak_active, st.active)
                return CallPlan("blackhole", sip_code=408, cause="RECOVERY_ON_TIMER_EXPIRE",
                                fail_at=TIMER_B_S)
            plan = self._refusal(busy, now)
            if plan is None:
                plan = self._outcome(draws, lat, hold, busy)
            plan.echo_media = bool(self.echo_media)
            plan.dtmf_loss = float(self.dtmf_loss)
            self._count(plan)
            return plan

    def _refusal(self, busy: int, now: float | None) -> CallPlan | None:
        st = self.stats
        if self.cps_limit is not None and now is not None:
            window = self._recent
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= float(self.cps_limit):
                st.rate_limited += 1
                return self._refused(self.rate_limit_cause, "cps")
            window.append(now)
        if self.capacity is not None and busy >= int(self.capacity):
            st.congested += 1
            return self._refused(self.congestion_cause, "capacity")
        return None

    def _refused(self, cause: str, why: str) -> CallPlan:
        code = causes.cause_to_sip(cause)
        return CallPlan("fail", sip_code=code, reason_q850=causes.Q850[cause], cause=cause,
                        fail_at=0.002, refused=why)

    def _outcome(self, draws: list[float], lat: dict[str, float], hold: float | None,
                 busy: int) -> CallPlan:
        u_fail, u_answer, u_early = draws
        trying = lat["trying_ms"]
        acc = 0.0
        for key, p in dict(self.failures).items():
            acc += float(p)
            if u_fail < acc:
                if isinstance(key, str):
                    code, q850, cause = causes.cause_to_sip(key), causes.Q850[key], key
                else:
                    code, q850, cause = int(key), None, causes.sip_to_cause(int(key))
                return CallPlan("fail", sip_code=code, reason_q850=q850, cause=cause,
                                fail_at=trying + lat["failure_ms"])
        extra = self._queue_delay(busy)
        forward_at = trying + extra
        ringing_at = trying + lat["ringing_ms"] + extra if self.send_ringing else None
        base = ringing_at if ringing_at is not None else trying + extra
        early = base + lat["early_media_ms"] if u_early < self.early_media else None
        if u_answer < self.answer_probability:
            answer_at = base + lat["ring_ms"] + extra
            if early is not None and answer_at < early:
                answer_at = early
            return CallPlan("answer", forward_at=forward_at, ringing_at=ringing_at,
                            early_media_at=early, answer_at=answer_at, hangup_after=hold)
        return CallPlan("noanswer", sip_code=480, cause="NO_USER_RESPONSE",
                        forward_at=forward_at, ringing_at=ringing_at, early_media_at=early,
                        fail_at=base + float(self.ring_timeout_s))

    def _queue_delay(self, busy: int) -> float:
        if not self.capacity or self.knee_ms <= 0:
            return 0.0
        rho = min(busy / float(self.capacity), 0.99)
        return self.knee_ms * rho / (1.0 - rho) / 1000.0

    def _count(self, plan: CallPlan) -> None:
        st = self.stats
        st.active += 1
        st.peak_active = max(st.peak_active, st.active)
        if plan.kind == "fail":
            st.failed[plan.cause] = st.failed.get(plan.cause, 0) + 1
            st.sip_codes[plan.sip_code] = st.sip_codes.get(plan.sip_code, 0) + 1

    def answered(self) -> None:
        """Record that a planned call was answered (called by the emulator)."""
        with self._lock:
            self.stats.answered += 1
            self.stats.sip_codes[200] = self.stats.sip_codes.get(200, 0) + 1

    def unanswered(self) -> None:
        """Record a call that rang out (480 from the DUT or a CANCEL)."""
        with self._lock:
            self.stats.unanswered += 1

    def release(self) -> None:
        """Record that a call left the DUT (its dialogue ended)."""
        with self._lock:
            if self.stats.active > 0:
                self.stats.active -= 1
