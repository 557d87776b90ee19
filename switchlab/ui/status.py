"""The panel's status line (one HTML line from a :class:`~switchlab.ui.live.Sample`)
and the run events it reports as errors.

>>> elapsed_text(3725)
'1:02:05'
"""
from __future__ import annotations

import html
import math
import time
from typing import Any

from .live import Sample

#: run event-log kinds shown in the error area
REPORTED_EVENTS = ("error", "host_error")
#: colour of the state word
STATE_COLOURS = {"ORIGINATING": "#1b7f1b", "STOPPED": "#a15c00"}
#: host trouble shown (in red) only while non-zero: Sample field, label
HOST_TROUBLE = (("hosts_down", "hosts down"), ("hosts_given_up", "hosts given up"),
                ("not_offered", "not offered"))
TROUBLE_COLOUR = "#b00020"


def elapsed_text(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{1e3 * seconds:.0f} ms"


def status_html(s: Sample, orig: Any) -> str:
    """The status line of ``orig`` (an originator) at sample ``s``."""
    asr = "–" if s.asr is None else f"{100 * s.asr:.1f} %"
    dur = orig.duration
    auto = " (auto)" if orig.explicit_duration is None else ""
    started = getattr(orig, "started_at", None)
    elapsed = 0.0
    if started is not None:
        end = getattr(orig, "stopped_at", None) or time.monotonic()
        elapsed = max(0.0, end - started)
    colour = STATE_COLOURS.get(s.state, "#555")

    def stat(name: str, label: str, value: str, style: str = "") -> str:
        return (f"<span class='switchlab-stat'{style}>{label} "
                f"<b class='switchlab-stat-{name}'>{html.escape(value)}</b></span>")

    trouble = [stat(key.replace("_", "-"), label, f"{getattr(s, key):,}",
                    f" style='color:{TROUBLE_COLOUR}'")
               for key, label in HOST_TROUBLE if getattr(s, key)]

    parts = [f"<b class='switchlab-stat-state' style='color:{colour}'>{s.state}</b>",
             stat("active", "active", f"{s.active:,}"),
             stat("offered", "offered", f"{s.offered:,}"),
             stat("answered", "answered", f"{s.answered:,}"),
             stat("failed", "failed", f"{s.failed:,}"),
             stat("cps", "achieved", f"{s.recent_cps:.1f}") + " calls/s" +
             (f" (target {s.target_rate:.4g})" if s.state == "ORIGINATING" else ""),
             stat("asr", "ASR", asr),
             *(stat(key.replace("_", "-"), key.replace("_", " ", 1), _ms(value))
               for key, value in s.p95.items()),
             *trouble,
             f"hold {dur:g} s{auto}", f"elapsed {elapsed_text(elapsed)}"]
    return ("<div style='font-family:monospace;font-size:13px'>"
            + " · ".join(parts) + "</div>")


class RunEventWatch:
    """Reads a run's event log incrementally: the new error events since the last look."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self._seen = len(run.events)

    def new_errors(self) -> list[tuple[str, str]]:
        """``(where, message)`` of each new ``error`` / ``host_error`` event."""
        events = self.run.events
        new = events[self._seen:]
        self._seen = len(events)
        out = []
        for e in new:
            if e.get("kind") in REPORTED_EVENTS:
                host = (e.get("data") or {}).get("host")
                out.append((f"originator ({e['kind']}{' ' + host if host else ''})",
                            e.get("message", "")))
        return out
