"""Threshold checks on KPIs: ``run.check(asr_min=0.99, p95_setup_max=0.2)``.

Two spellings, freely mixed:

* keyword form ``<kpi>_min=x`` (KPI ≥ x) / ``<kpi>_max=x`` (KPI ≤ x), where
  ``<kpi>`` is a KPI name with dots as underscores (``setup_latency_p95_max``)
  or a short alias ``p<NN>_<latency>`` (``p95_setup_max``; the aliases are
  declared with the columns: ``setup``, ``pdd``, ``answer``, ``invite``,
  ``originate``, ``duration``, see :func:`~switchlab.measure.schema.check_aliases`);
* a mapping of KPI name → condition string: ``{"asr": ">= 0.99",
  "setup_latency.p95": "< 200ms"}``; conditions are ``<``, ``<=``, ``>``,
  ``>=``, ``==`` or ``!=`` and a number, optionally with ``%`` (ratio),
  ``s``, ``ms`` or ``us``/``µs`` (converted to seconds).

A KPI that is NaN (e.g. a percentile with no answered call) fails its check.
"""
from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnknownKPIError
from .schema import check_aliases

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}
_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "%": 0.01}
_COND = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                   r"\s*(%|ms|us|µs|s)?\s*$")
_ALIAS = re.compile(r"^(p\d+(?:\.\d+)?|max|mean)_(\w+)$")


@dataclass(frozen=True)
class Threshold:
    """One evaluated threshold."""

    kpi: str
    op: str
    limit: float
    value: float
    passed: bool

    def __str__(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        return f"{mark} {self.kpi} = {_fmt(self.value)} (required {self.op} {_fmt(self.limit)})"


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    return f"{x:.6g}"


@dataclass
class CheckResult:
    """Pass/fail of a set of thresholds; ``bool(result)`` is ``passed``.

    ``failures`` lists the offending figures; ``exit_code`` is 0 or 1 (for
    the command line); ``tick`` is the FreeSWITCH clock tick the latencies
    were measured with.
    """

    results: list[Threshold] = field(default_factory=list)
    tick: str = "unknown"

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[Threshold]:
        return [r for r in self.results if not r.passed]

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = "PASS" if self.passed else f"FAIL ({len(self.failures)} of {len(self.results)})"
        lines = [f"{head} (FreeSWITCH clock tick {self.tick})"]
        lines += [f"  {r}" for r in self.results]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckResult {'PASS' if self.passed else 'FAIL'} {len(self.failures)} failed>"


def parse_condition(text: str) -> tuple[str, float]:
    """``"< 200ms"`` → ``("<", 0.2)``; raises ValueError for anything else."""
    m = _COND.match(text)
    if not m:
        raise ValueError(
            f"condition {text!r} is not understood: write an operator (<, <=, >, >=, ==, !=) "
            "and a number, optionally with %, s, ms or us, e.g. '>= 0.99' or '< 200ms'")
    op, num, unit = m.group(1), float(m.group(2)), m.group(3) or ""
    return op, num * _UNITS[unit]


def _resolve(name: str, known: list[str]) -> str:
    """A KPI name as written by the user → the table's column name."""
    if name in known:
        return name
    dotted = name.replace("__", ".")
    if dotted in known:
        return dotted
    m = _ALIAS.match(name)
    short = check_aliases()
    if m and m.group(2) in short:
        cand = f"{short[m.group(2)]}.{m.group(1)}"
        if cand in known:
            return cand
    for k in known:  # setup_latency_p95 → setup_latency.p95
        if k.replace(".", "_") == name:
            return k
    spellings = list(dict.fromkeys(known + [k.replace(".", "_") for k in known]))
    close = difflib.get_close_matches(name, spellings, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownKPIError(
        f"unknown KPI {name!r}.{hint} Known KPIs: {', '.join(known)} "
        "(keyword form: <kpi>_min / <kpi>_max, e.g. asr_min=0.99, p95_setup_max=0.2)")


def evaluate(kpis: Mapping[Any, Any], thresholds: Mapping[str, Any] | None = None, *,
             tick: str = "unknown", **limits: float) -> CheckResult:
    """Evaluate thresholds against one row of KPIs (a mapping name → value)."""
    known = [str(k) for k in kpis]
    items: list[tuple[str, str, float]] = []
    for name, cond in (thresholds or {}).items():
        if isinstance(cond, str):
            op, limit = parse_condition(cond)
        elif isinstance(cond, tuple) and len(cond) == 2 and cond[0] in _OPS:
            op, limit = cond[0], float(cond[1])
        else:
            raise ValueError(f"threshold for {name!r} must be a string such as '>= 0.99' or "
                             f"a tuple ('>=', 0.99), not {cond!r}")
        items.append((_resolve(name, known), op, limit))
    for key, limit in limits.items():
        if key.endswith("_min"):
            op, base = ">=", key[:-4]
        elif key.endswith("_max"):
            op, base = "<=", key[:-4]
        else:
            raise UnknownKPIError(
                f"keyword {key!r} must end in _min or _max (e.g. asr_min=0.99, "
                "p95_setup_max=0.2), or pass a mapping {'asr': '>= 0.99'}")
        items.append((_resolve(base, known), op, float(limit)))
    if not items:
        raise ValueError("no thresholds given: e.g. run.check(asr_min=0.99, p95_setup_max=0.2)")
    results = []
    for kpi, op, limit in items:
        raw = kpis[kpi]
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        passed = not math.isnan(value) and _OPS[op](value, limit)
        results.append(Threshold(kpi, op, limit, value, passed))
    return CheckResult(results, tick)
