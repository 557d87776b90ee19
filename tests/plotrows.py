"""Synthetic per-call data for the plot tests (and the preview script).

* :func:`call` — one row dict with chosen latencies and outcome;
* :func:`ramp_frame` — a vectorised run of ``n`` calls: a linear ramp of
  the rate into a device of ``capacity`` lines whose setup latency and
  failures grow near saturation, on a 20 ms FreeSWITCH tick. Built column
  by column (``coerce_frame``), so 1 M calls take about a second.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from switchlab.measure import coerce_frame

T0 = 1_795_694_067_000_000   # µs, on a 20 ms tick boundary + 0
TICK = 20_000


def call(i: int, *, app: str = "A", host: str = "fs1", launch_s: float = 0.0,
         setup_ticks: int | None = 5, hold_s: float = 1.0, cause: str = "NORMAL_CLEARING",
         sip: int | None = None, pdd_ticks: int = 1, target_rate: float = 10.0,
         active: float | None = None) -> dict:
    """One call launched ``launch_s`` after T0; answered after ``setup_ticks``
    ticks (failed when None) and held ``hold_s``."""
    launch = T0 + round(launch_s * 1e6)
    create = launch + 680
    row = {"call_id": f"c{i}", "app": app, "host": host, "dest": "answer", "launch": launch,
           "caller_create": create, "caller_progress": create + pdd_ticks * TICK,
           "hangup_cause": cause, "sip_code": sip, "failed": setup_ticks is None,
           "rx_launch": 1000.0 + launch_s, "rx_job": 1000.0 + launch_s + 0.01,
           "target_rate": target_rate, "active_calls": active}
    if setup_ticks is not None:
        answer = create + setup_ticks * TICK
        row |= {"caller_answer": answer, "callee_answer": answer - TICK,
                "caller_hangup": answer + round(hold_s * 1e6),
                "rx_caller_hangup": 1000.0 + launch_s + setup_ticks * 0.02 + hold_s}
    else:
        row |= {"caller_hangup": create + TICK, "rx_caller_hangup": 1000.0 + launch_s + 0.02}
    return row


FAIL_CAUSES = [("NORMAL_TEMPORARY_FAILURE", 503), ("USER_BUSY", 486), ("NO_ANSWER", 487),
               ("RECOVERY_ON_TIMER_EXPIRE", 408), ("CALL_REJECTED", None)]


def ramp_frame(n: int = 20_000, *, rates: tuple[float, float] = (20.0, 200.0),
               hold_s: float = 3.0, capacity: float = 450.0, seed: int = 0,
               hosts: tuple[str, ...] = ("fs1", "fs2"),
               apps: tuple[str, ...] = ("Bert", "TonePlay"),
               run_id: str = "ramp") -> pd.DataFrame:
    """``n`` calls with the rate ramping linearly from ``rates[0]`` to
    ``rates[1]`` calls/s; the load each call meets is ``rate·hold`` (its
    ``active_calls``); setup latency (in 20 ms ticks) grows past 70 % of
    ``capacity`` and failures (mostly 503) past 90 %."""
    rng = np.random.default_rng(seed)
    r0, r1 = rates
    span = 2 * n / (r0 + r1)                            # seconds for n arrivals
    k = np.arange(n) + rng.random(n)
    a = (r1 - r0) / (2 * span)
    t = (-r0 + np.sqrt(r0 * r0 + 4 * a * k)) / (2 * a) if a else k / r0
    rate = r0 + (r1 - r0) * t / span
    active = rate * hold_s * (1 - np.exp(-t / hold_s))
    rho = active / capacity
    congestion = np.clip(rho - 0.7, 0, None)
    setup_ticks = np.maximum(1, np.round(rng.gamma(3.0, 1.2, n) + 60 * congestion ** 2
                                         * rng.gamma(2.0, 1.0, n))).astype(np.int64)
    p_fail = 0.01 + np.clip(rho - 0.9, 0, None) * 1.5
    failed = rng.random(n) < p_fail
    which = np.where(rho > 0.9, rng.choice(len(FAIL_CAUSES), n, p=[.8, .08, .06, .04, .02]),
                     rng.choice(len(FAIL_CAUSES), n, p=[.2, .35, .25, .1, .1]))
    launch = T0 + np.round(t * 1e6).astype(np.int64)
    create = (launch + 700) // TICK * TICK + 680
    answer = np.where(failed, np.nan, create + setup_ticks * TICK)
    hold = np.round(rng.exponential(hold_s, n) * 1e6 / TICK).astype(np.int64) * TICK
    hangup = np.where(failed, create + TICK * rng.integers(1, 5, n), answer + hold)
    rx_launch = 1000.0 + t
    pdd = TICK * rng.choice([1, 2, 3, 5], n, p=[.6, .25, .1, .05])
    invite = TICK * rng.choice([0, 1, 2], n, p=[.3, .6, .1])
    causes = np.array([c for c, _ in FAIL_CAUSES] + ["NORMAL_CLEARING"], dtype=object)
    cause_idx = np.where(failed, which, len(FAIL_CAUSES))
    sips = np.array([s if s is not None else -1 for _, s in FAIL_CAUSES] + [-1])
    sip = sips[cause_idx].astype("float64")
    sip[sip < 0] = np.nan
    host = rng.integers(0, len(hosts), n)
    app = rng.integers(0, len(apps), n)
    raw = pd.DataFrame({
        "run_id": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [run_id]),
        "call_id": [f"c{i}" for i in range(n)] if n <= 100_000 else np.arange(n).astype(str),
        "host": pd.Categorical.from_codes(host, list(hosts)),
        "app": pd.Categorical.from_codes(app, list(apps)),
        "dest": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), ["answer"]),
        "launch": launch, "job_done": launch + 30_000,
        "caller_create": create, "caller_progress": create + pdd,
        "caller_answer": answer, "caller_hangup": hangup,
        "callee_create": create + invite,
        "callee_answer": np.where(failed, np.nan, answer - TICK),
        "rx_launch": rx_launch, "rx_job": rx_launch + 0.03,
        "rx_caller_hangup": rx_launch + (hangup - launch) / 1e6,
        "hangup_cause": pd.Categorical.from_codes(cause_idx, list(causes)),
        "sip_code": sip, "failed": failed,
        "active_calls": np.round(active), "erlangs": active, "target_rate": rate,
        "originate_latency": np.full(n, 0.03),
        "invite_latency": invite / 1e6,
        "post_dial_delay": pdd / 1e6,
        "setup_latency": (answer - create) / 1e6,
        "answer_latency": np.where(failed, np.nan, 0.02),
        "duration": (hangup - answer) / 1e6,
    })
    df = coerce_frame(raw)
    df.attrs["run_id"] = run_id
    # the true tick, stored as a Run stores its detected tick: detection on these dense
    # stamps (almost every 20 ms tick busy) currently answers 23 ms (reported to the lead)
    true = {"seconds": TICK / 1e6, "exact_seconds": TICK / 1e6, "gaps": n, "coherence": 1.0,
            "jitter_seconds": 0.0}
    df.attrs["fs_tick"] = {"overall": true, "by_host": {h: true for h in hosts}}
    return df
