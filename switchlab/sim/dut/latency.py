"""Delay distributions of the DUT model (:class:`Latency`), in milliseconds.

>>> Latency.parse("100-300")
Latency(kind='uniform', a=100.0, b=300.0)
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Union

LatencyLike = Union["Latency", float, int, tuple[float, float]]


@dataclass(frozen=True)
class Latency:
    """A delay distribution in milliseconds.

    >>> rng = random.Random(0)
    >>> Latency.fixed(20).sample_ms(rng)
    20.0
    >>> 10 <= Latency.uniform(10, 30).sample_ms(rng) <= 30
    True
    """

    kind: str
    a: float
    b: float = 0.0

    _KINDS = ("fixed", "uniform", "normal", "lognormal", "exponential")

    def __post_init__(self) -> None:
        if self.kind not in self._KINDS:
            raise ValueError(f"latency kind {self.kind!r} is not one of {', '.join(self._KINDS)}")
        if self.a < 0 or self.b < 0:
            raise ValueError(f"latency parameters must be >= 0, got {self.a}, {self.b}")

    @classmethod
    def fixed(cls, ms: float) -> Latency:
        """Always ``ms``."""
        return cls("fixed", float(ms))

    @classmethod
    def uniform(cls, low_ms: float, high_ms: float) -> Latency:
        """Uniform between ``low_ms`` and ``high_ms``."""
        if high_ms < low_ms:
            raise ValueError(f"uniform latency needs low <= high, got {low_ms} > {high_ms}")
        return cls("uniform", float(low_ms), float(high_ms))

    @classmethod
    def normal(cls, mean_ms: float, sd_ms: float) -> Latency:
        """Normal, truncated at 0."""
        return cls("normal", float(mean_ms), float(sd_ms))

    @classmethod
    def lognormal(cls, median_ms: float, sigma: float = 0.5) -> Latency:
        """Log-normal with the given median and shape ``sigma`` (long right tail)."""
        return cls("lognormal", float(median_ms), float(sigma))

    @classmethod
    def exponential(cls, mean_ms: float) -> Latency:
        """Exponential with the given mean."""
        return cls("exponential", float(mean_ms))

    @classmethod
    def coerce(cls, value: LatencyLike, what: str = "latency") -> Latency:
        """A :class:`Latency` from a Latency, a number (fixed) or a (low, high) pair."""
        if isinstance(value, Latency):
            return value
        if isinstance(value, bool):
            raise TypeError(f"{what} must be milliseconds or a Latency, not a bool")
        if isinstance(value, (int, float)):
            return cls.fixed(value)
        if isinstance(value, tuple) and len(value) == 2:
            return cls.uniform(*value)
        raise TypeError(
            f"{what} must be a Latency, a number of milliseconds or a (low, high) pair, "
            f"not {value!r}")

    @classmethod
    def parse(cls, text: str) -> Latency:
        """From text: ``150`` (fixed), ``100-300`` (uniform), ``lognormal:150:0.5``,
        ``normal:150:30``, ``exponential:100``.

        >>> Latency.parse("100-300")
        Latency(kind='uniform', a=100.0, b=300.0)
        """
        text = text.strip()
        try:
            if ":" in text:
                kind, *params = text.split(":")
                values = [float(p) for p in params]
                if kind == "fixed" and len(values) == 1:
                    return cls.fixed(values[0])
                if kind == "uniform" and len(values) == 2:
                    return cls.uniform(*values)
                if kind in ("normal", "lognormal") and len(values) == 2:
                    return cls(kind, values[0], values[1])
                if kind == "lognormal" and len(values) == 1:
                    return cls.lognormal(values[0])
                if kind == "exponential" and len(values) == 1:
                    return cls.exponential(values[0])
                raise ValueError(kind)
            if "-" in text.lstrip("-"):
                low, high = text.split("-", 1)
                return cls.uniform(float(low), float(high))
            return cls.fixed(float(text))
        except ValueError:
            raise ValueError(
                f"latency {text!r} is not understood: give milliseconds (150), a range "
                "(100-300), or kind:params (lognormal:150:0.5, normal:150:30, exponential:100)"
            ) from None

    def sample_ms(self, rng: random.Random) -> float:
        """One draw (always consumes exactly one uniform from ``rng``)."""
        u = rng.random()
        kind = self.kind
        if kind == "fixed":
            return self.a
        if kind == "uniform":
            return self.a + (self.b - self.a) * u
        if kind == "exponential":
            return -self.a * math.log(1.0 - u)
        z = _inv_norm(min(max(u, 1e-12), 1 - 1e-12))
        if kind == "normal":
            return max(0.0, self.a + self.b * z)
        return self.a * math.exp(self.b * z)  # lognormal

    def mean_ms(self) -> float:
        """The distribution's mean."""
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        if self.kind == "exponential":
            return self.a
        if self.kind == "normal":
            return self.a
        return self.a * math.exp(self.b ** 2 / 2)


def _inv_norm(p: float) -> float:
    """Inverse of the standard normal CDF (Acklam's approximation)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(1 - p))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
