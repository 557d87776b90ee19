"""What a user may set on an originator, checked in one place: call rates,
the concurrency limit, the hold duration, the cap on offered calls, app
weights, and the text forms the panel's fields accept. Each check returns
the normalised value or raises :class:`ValueError` saying what is allowed.
(Values that go on the ESL wire are checked by the wire layer, not here.)

>>> check_limit(50)
50
>>> check_duration(None) is None
True
>>> parse_duration("2.5s"), parse_duration("auto")
(2.5, None)
>>> parse_max_offered("10_000"), format_max_offered(None)
(10000, 'none')
"""
from __future__ import annotations

import math
from typing import Any

#: texts meaning "no explicit value" in the duration / max-offered fields
AUTO_DURATION = ("", "auto")
NO_CAP = ("", "none", "inf", "∞")


def check_rate(rate: float, what: str = "rate") -> float:
    """A call rate: a finite number of calls/s >= 0.

    >>> check_rate(2)
    2.0
    >>> check_rate(-1)
    Traceback (most recent call last):
    ValueError: rate must be a finite number of calls/s >= 0, got -1.0
    """
    rate = float(rate)
    if not rate >= 0 or rate == float("inf"):
        raise ValueError(f"{what} must be a finite number of calls/s >= 0, got {rate!r}")
    return rate


def check_limit(limit: Any) -> int:
    """The concurrency limit: a whole number of calls >= 1.

    >>> check_limit(0)
    Traceback (most recent call last):
    ValueError: limit must be a whole number of concurrent calls >= 1, got 0
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a whole number of concurrent calls >= 1, got {limit!r}")
    return int(limit)


def check_duration(duration: Any) -> float | None:
    """Seconds each answered call is held (>= 0), or None for Erlang's ``limit / rate``.

    >>> check_duration(3)
    3.0
    """
    if duration is None:
        return None
    if (not isinstance(duration, (int, float)) or isinstance(duration, bool)
            or not 0 <= duration < math.inf):
        raise ValueError(f"duration must be a finite number of seconds >= 0 (or None for "
                         f"limit/rate), got {duration!r}")
    return float(duration)


def check_max_offered(max_offered: Any) -> int | None:
    """The cap on offered calls: a whole number >= 0, or None for no cap.

    >>> check_max_offered(1.5)
    Traceback (most recent call last):
    ValueError: max_offered must be a whole number >= 0 (or None), got 1.5
    """
    if max_offered is None:
        return None
    if not isinstance(max_offered, int) or isinstance(max_offered, bool) or max_offered < 0:
        raise ValueError(f"max_offered must be a whole number >= 0 (or None), got {max_offered!r}")
    return max_offered


def check_weight(weight: Any, what: str = "app weight") -> float:
    """An app's share of the calls: a finite number > 0.

    >>> check_weight(float("nan"))
    Traceback (most recent call last):
    ValueError: app weight must be > 0 and finite, got nan
    """
    try:
        value = float(weight)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number > 0, got {weight!r}") from None
    if not 0 < value < math.inf:
        raise ValueError(f"{what} must be > 0 and finite, got {value!r}")
    return value


def app_weight(spec: Any) -> float:
    """The weight of an ``apps`` entry: ``(AppClass, weight)`` or ``AppClass`` (weight 1).

    >>> app_weight((object, 3)), app_weight(object)
    (3.0, 1.0)
    """
    return float(spec[1]) if isinstance(spec, tuple) else 1.0


def app_class(spec: Any) -> Any:
    """The app class of an ``apps`` entry (see :func:`app_weight`)."""
    return spec[0] if isinstance(spec, tuple) else spec


def parse_duration(text: str) -> float | None:
    """``"auto"``/empty → None (Erlang's limit / rate), else seconds >= 0."""
    t = text.strip().lower().removesuffix("s").strip()
    if t in AUTO_DURATION:
        return None
    try:
        value = float(t)
    except ValueError:
        raise ValueError(f"duration must be seconds (e.g. 3 or 2.5) or 'auto', got {text!r}") \
            from None
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"duration must be seconds >= 0 or 'auto', got {text!r}")
    return value


def parse_max_offered(text: str) -> int | None:
    """``"none"``/empty → None (no cap), else a whole number >= 0."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    if t in NO_CAP:
        return None
    try:
        value = int(t)
    except ValueError:
        raise ValueError(f"max offered must be a whole number of calls or 'none', got {text!r}") \
            from None
    if value < 0:
        raise ValueError(f"max offered must be >= 0 or 'none', got {text!r}")
    return value


def format_duration(value: float | None) -> str:
    """The text :func:`parse_duration` reads back as ``value``."""
    return "auto" if value is None else f"{value:g}"


def format_max_offered(value: int | None) -> str:
    """The text :func:`parse_max_offered` reads back as ``value``."""
    return "none" if value is None else str(value)
