"""Detect the tick of FreeSWITCH's event clock from the stamps themselves.

FreeSWITCH stamps events (``Event-Date-Timestamp``) from a cached clock that
advances once per timer tick: 20 ms on a stock server, 1 ms with
``<param name="1ms-timer" value="true"/>`` in ``switch.conf.xml`` (see
docs/MEASUREMENT.md). Every latency computed from two stamps is then a
multiple of the tick, give or take a few µs, and the tick is the resolution
of every FreeSWITCH-clock latency in a run.

Method: sort the distinct stamps, merge those closer than ``same_tick`` (the
same tick read by different threads differs by a few µs), and take the gaps
between consecutive groups. For a candidate tick ``T`` the gaps' phase
coherence ``R(T) = mean(cos(2π·gap/T))`` is ~1 when every gap is a
multiple of ``T`` and ~0 for unrelated numbers. The tick is the *largest*
candidate whose ``R`` is within 0.03 of the best one (every divisor of the
tick fits as well; values a little above it fit worse),
then refined by least squares over the gaps. A candidate is admissible
only if (almost) no gap is shorter than it, and it must pass a Rayleigh test
against chance (few gaps: the answer is "unknown" rather than a guess). Candidates: every whole
millisecond up to 100 ms, plus the typical shortest gap divided by 1, 2, 3,
... (so a 2.5 ms emulator tick is found too). A ±0.05 ms jitter
on every stamp keeps ``R`` above 0.9 for a 1 ms tick.

>>> import numpy as np
>>> stamps = 1_795_694_067_360_680 + 20_000 * np.array([0, 1, 51, 103, 204, 205, 300, 301])
>>> est = detect_tick(stamps)
>>> est.seconds, est.label
(0.02, '20 ms')
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .schema import fs_time_columns

#: Gaps of at most this many µs are the same tick (thread jitter).
SAME_TICK_US = 250
#: Significance level of the coherence test (see :func:`detect_tick`).
ALPHA = 0.1
#: With this many gaps and no coherent candidate, the clock has no tick.
CONTINUOUS_MIN_GAPS = 30
#: A candidate within this coherence of the best one counts as just as good.
NEAR_BEST = 0.03
#: Divisors of the shortest gap tried as candidates.
MAX_DIVISOR = 200
#: Stamps used at most (a random subset beyond).
MAX_STAMPS = 400_000
MIN_COHERENCE = 0.8
#: Share of gaps allowed below 0.8 × a candidate tick (stray stamps).
MAX_SHORT_GAPS = 0.02
#: Gaps used at most (a random sample beyond; keeps detection ~10 ms at 1 M rows).
MAX_GAPS = 20_000


@dataclass(frozen=True)
class TickEstimate:
    """The detected tick.

    ``seconds``: the tick (None when the data do not say: too few distinct
    stamps); ``1e-6`` means no tick at all, the stamps are a free-running µs
    clock. ``exact_seconds``: the least-squares value before rounding to the
    µs. ``gaps``: how many stamp gaps it rests on. ``coherence``: how well they
    fit (1 = every gap an exact multiple). ``jitter_seconds``: rms distance of
    the gaps from the nearest multiple.
    """

    seconds: float | None
    exact_seconds: float | None = None
    gaps: int = 0
    coherence: float = 0.0
    jitter_seconds: float = 0.0

    @property
    def label(self) -> str:
        """Human text, e.g. ``"20 ms"``, ``"1 ms"``, ``"1 µs (no tick)"``, ``"unknown"``."""
        s = self.seconds
        if s is None:
            return "unknown"
        if s <= 1e-6:
            return "1 µs (no tick)"
        ms = s * 1e3
        return f"{ms:g} ms" if ms >= 0.1 else f"{s * 1e6:g} µs"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> TickEstimate:
        if not d:
            return cls(None)
        return cls(**{k: d[k] for k in ("seconds", "exact_seconds", "gaps", "coherence",
                                        "jitter_seconds") if k in d})

    def __str__(self) -> str:
        return self.label


UNKNOWN = TickEstimate(None)


def _gaps(stamps_us: np.ndarray, same_tick_us: int) -> np.ndarray:
    """Gaps between consecutive ticks: stamps within ``same_tick_us`` of each
    other form one tick, represented by its earliest stamp (so the spread of
    one tick's stamps does not bias the gaps)."""
    s = np.unique(stamps_us)
    if s.size < 2:
        return np.empty(0, dtype=np.float64)
    d = np.diff(s)
    starts = np.concatenate([s[:1], s[1:][d > same_tick_us]])
    return np.diff(starts).astype(np.float64)


def _coherence(gaps: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Mean of ``cos(2π·gap/T)``: ~1 only when the gaps sit *on* multiples of
    ``T`` (phase zero). The modulus of the mean phasor would also be ~1 for a
    candidate a little off the tick when almost every gap is one tick long
    (all phases equal but not zero), e.g. 21 ms on a busy 20 ms clock."""
    # phases in cycles, wrapped to [0,1) before the trig for precision
    ph = np.mod(gaps[None, :] / candidates[:, None], 1.0) * (2 * np.pi)
    return np.cos(ph).mean(axis=1)


def detect_tick(stamps_us: Iterable[int] | np.ndarray, *, same_tick_us: int = SAME_TICK_US,
                min_coherence: float = MIN_COHERENCE, alpha: float = ALPHA,
                seed: int = 0) -> TickEstimate:
    """Detect the clock tick from FreeSWITCH stamps (µs since the epoch, or
    ``datetime64``; missing and non-positive values are ignored)."""
    arr = np.asarray(stamps_us if isinstance(stamps_us, np.ndarray) else list(stamps_us))
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[us]").view(np.int64)
    elif arr.dtype.kind == "f":
        arr = arr[np.isfinite(arr)].round()
    arr = arr.astype(np.int64, copy=False)
    arr = arr[arr > 0]
    rng = np.random.default_rng(seed)
    if arr.size > MAX_STAMPS:
        # any subset of the stamps still sits on the grid (its gaps are sums of gaps)
        arr = arr[rng.integers(0, arr.size, MAX_STAMPS)]
    gaps = _gaps(arr, same_tick_us)
    n = int(gaps.size)
    if n < 2:
        return TickEstimate(None, gaps=n)
    if n > MAX_GAPS:
        gaps = gaps[rng.integers(0, n, MAX_GAPS)]
    ordered = np.sort(gaps)
    whole_ms = np.arange(1, 101, dtype=np.float64) * 1000.0
    # ticks that are not whole ms (emulators): divisors of the typical shortest gap
    low = float(ordered[int(0.01 * ordered.size)])
    near = ordered[np.abs(ordered - low) <= 150.0 + 0.02 * low]
    c0 = float(np.median(near))
    kmax = int(min(MAX_DIVISOR, c0 // (2 * same_tick_us)))
    divisors = c0 / np.arange(1, kmax + 1, dtype=np.float64)
    m = int(gaps.size)
    best_coh = 0.0
    # FreeSWITCH's ticks are whole milliseconds: try those first, and only
    # then the divisors (fewer candidates per test = fewer gaps needed)
    for candidates in (whole_ms, np.setdiff1d(divisors, whole_ms)):
        candidates = candidates[candidates > 2 * same_tick_us]
        # a tick T leaves no gap much shorter than T: allow 2 % strays below 0.8 T
        below = np.searchsorted(ordered, 0.8 * candidates) / ordered.size
        candidates = candidates[below <= MAX_SHORT_GAPS]
        if not candidates.size:
            continue
        coh = _coherence(gaps, candidates)
        best_coh = max(best_coh, float(coh.max()))
        # Rayleigh test: the chance that m unrelated gaps look this coherent
        # for any of the candidates tried is about len(candidates) * exp(-m R^2)
        threshold = np.log(candidates.size / alpha)
        passing = (coh >= min_coherence) & (m * coh * coh >= threshold)
        if passing.any():
            # the largest candidate about as coherent as the best one: divisors of
            # the tick fit as well, and values a little above it fit worse
            top = float(coh[passing].max())
            good = np.nonzero(passing & (coh >= top - NEAR_BEST))[0]
            break
    else:
        if m >= CONTINUOUS_MIN_GAPS:
            # enough gaps that even a 1 ms grid would show: no grid, a µs clock
            return TickEstimate(1e-6, 1e-6, m, best_coh, 0.0)
        return TickEstimate(None, gaps=m, coherence=best_coh)
    best = float(candidates[good[-1]])
    k = np.rint(gaps / best)
    fit = (k >= 1) & (np.abs(gaps - k * best) <= best / 4)
    k, g = k[fit], gaps[fit]
    exact = float((g * k).sum() / (k * k).sum()) if k.size else best
    resid = g - k * exact
    jitter = float(np.sqrt(np.mean(resid * resid))) if resid.size else 0.0
    # state the tick to the µs; a near-whole-ms value is FreeSWITCH's nominal tick
    rounded = round(exact)
    nominal_ms = round(exact / 1000.0)
    if nominal_ms >= 1 and abs(exact - nominal_ms * 1000.0) <= max(5.0, 3 * jitter):
        rounded = nominal_ms * 1000
    return TickEstimate(rounded / 1e6, exact / 1e6, m, float(coh[good[-1]]), jitter / 1e6)


def tick_of_frame(df: Any, columns: Iterable[str] | None = None,
                  by: str = "host") -> tuple[TickEstimate, dict[str, TickEstimate]]:
    """Detect the tick of every host of a call DataFrame (each host's clock has
    its own phase, so hosts are never mixed) and the run's overall tick, the
    coarsest of them (it bounds the resolution of every latency).

    Returns ``(overall, {host: estimate})``.
    """
    cols = [c for c in (columns or fs_time_columns()) if c in df.columns]
    if not cols or len(df) == 0:
        return UNKNOWN, {}

    def stamps(part: Any) -> np.ndarray:
        arrs = []
        for c in cols:
            v = part[c].to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT"))
            arrs.append(v.view(np.int64))
        return np.concatenate(arrs)

    per_host: dict[str, TickEstimate] = {}
    if by in df.columns and df[by].notna().any():
        for key, part in df.groupby(by, observed=True, sort=True):
            per_host[str(key)] = detect_tick(stamps(part))
    else:
        per_host[""] = detect_tick(stamps(df))
    known = [t for t in per_host.values() if t.seconds is not None]
    if not known:
        overall = TickEstimate(None, gaps=sum(t.gaps for t in per_host.values()))
    else:
        worst = max(known, key=lambda t: t.seconds or 0.0)
        overall = TickEstimate(worst.seconds, worst.exact_seconds, sum(t.gaps for t in known),
                               min(t.coherence for t in known),
                               max(t.jitter_seconds for t in known))
    if list(per_host) == [""]:
        per_host = {}
    return overall, per_host
