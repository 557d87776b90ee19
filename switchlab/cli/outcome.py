"""The exit code of ``switchlab dial`` and the lines that say why.

0 only when the run did what was asked; 3 when it ended short (a host was
given up, fewer calls were offered than ``--max-offered`` without the user
stopping the run, launches were not offered because no host was up); 1 when a
``--check`` failed (and the run did not end short); 2 (set elsewhere) for bad
input or a set-up error.

>>> class FakeRun:
...     not_offered = 4
...     outages = []
...     def __len__(self): return 96
>>> exit_code(FakeRun(), Asked(max_offered=100))
(3, ['ended short: 96 of 100 calls offered', '4 launches not offered: no host was up'])
>>> exit_code(FakeRun(), Asked(max_offered=100, stopped_by_user=True))[1]
['4 launches not offered: no host was up']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Asked", "EXIT_CHECK_FAILED", "EXIT_CODES_HELP", "EXIT_OK", "EXIT_SHORT",
           "exit_code"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_SHORT = 3

#: the epilog of ``switchlab dial --help`` (``\b``: click keeps the lines as they are)
EXIT_CODES_HELP = """\b
Exit codes:
  0  the run did what was asked
  1  a --check failed
  2  bad input or set-up error (one line says what)
  3  the run ended short: a host was given up (down past --host-down-deadline),
     fewer calls offered than --max-offered, or launches not offered while no
     host was up (3 wins over 1: the KPIs are of a partial run)
The last lines of the output give one reason per line."""


class RunLike(Protocol):
    """What :func:`exit_code` reads of a run (:class:`switchlab.measure.Run`)."""

    @property
    def not_offered(self) -> int: ...
    @property
    def outages(self) -> Any: ...
    def __len__(self) -> int: ...


@dataclass(frozen=True)
class Asked:
    """What the user asked for: ``max_offered`` calls (None: no cap), and
    whether they stopped the run themselves (Ctrl-C / SIGTERM)."""

    max_offered: int | None
    stopped_by_user: bool = False


def _given_up_lines(outages: Any) -> list[str]:
    if outages is None or len(outages) == 0:
        return []
    rows = outages[outages["given_up"]] if hasattr(outages, "columns") else []
    lines = []
    for row in (rows.itertuples() if hasattr(rows, "itertuples") else rows):
        dur = row.duration
        lines.append(f"host {row.host} given up after {dur:.1f} s down ({row.reason})"
                     if dur == dur else f"host {row.host} given up ({row.reason})")
    return lines


def exit_code(run: RunLike, asked: Asked, check: Any = None) -> tuple[int, list[str]]:
    """``(code, reasons)`` for a finished run; ``check``: the
    :class:`~switchlab.measure.CheckResult` of ``--check`` (None without)."""
    short = _given_up_lines(run.outages)
    offered = len(run)
    if asked.max_offered is not None and offered < asked.max_offered and not asked.stopped_by_user:
        short.append(f"ended short: {offered} of {asked.max_offered} calls offered")
    if run.not_offered:
        short.append(f"{run.not_offered} launches not offered: no host was up")
    failed_check = check is not None and not check.passed
    reasons = list(short)
    if failed_check:
        reasons.append("a --check failed (see above)")
    if short:
        return EXIT_SHORT, reasons
    if failed_check:
        return EXIT_CHECK_FAILED, reasons
    return EXIT_OK, reasons
