"""The per-call row: its columns, their kinds, and the schema version.

One row per call attempt (docs/ARCHITECTURE.md, "Per-call row"). In a row
dict and in the run's journal file every value is a plain JSON value:

* ``time`` columns: integer microseconds since the Unix epoch (FreeSWITCH's
  ``Event-Date-Timestamp`` unit), or ``None``;
* ``mono`` columns: local ``time.monotonic()`` seconds (float) or ``None``;
* ``seconds``/``load`` columns: float or ``None``;
* ``category``/``string`` columns: str or ``None``; ``sip`` an int or ``None``;
  ``bool`` a bool.

The typed DataFrame (:func:`switchlab.measure.frame.frame_from_columns`) turns
them into ``datetime64[ns, UTC]``, float64, ``category``, ``Int16`` and bool.
"""
from __future__ import annotations

from typing import Final

#: Bumped when a column changes meaning; written into every run's metadata.
SCHEMA_VERSION: Final = 1

# column kinds
CATEGORY: Final = "category"
STRING: Final = "string"
TIME: Final = "time"          # int µs since the epoch -> datetime64[ns, UTC]
MONO: Final = "mono"          # local monotonic seconds -> float64
SECONDS: Final = "seconds"    # derived latency -> float64 seconds
LOAD: Final = "load"          # load context -> float64
SIP: Final = "sip"            # SIP status -> Int16
BOOL: Final = "bool"

#: Every column of a row, in order, with its kind.
COLUMNS: Final[dict[str, str]] = {
    # identity
    "run_id": CATEGORY,
    "call_id": STRING,
    "host": CATEGORY,
    "app": CATEGORY,
    "dest": CATEGORY,
    # local wall clock
    "launch": TIME,
    "job_done": TIME,
    # FreeSWITCH clock (Event-Date-Timestamp)
    "caller_create": TIME,
    "caller_progress": TIME,
    "caller_early_media": TIME,
    "caller_answer": TIME,
    "caller_hangup": TIME,
    "callee_create": TIME,
    "callee_answer": TIME,
    "callee_hangup": TIME,
    # local monotonic receive times (ordering, not latency)
    "rx_launch": MONO,
    "rx_job": MONO,
    "rx_caller_create": MONO,
    "rx_caller_answer": MONO,
    "rx_caller_hangup": MONO,
    # outcome
    "hangup_cause": CATEGORY,
    "sip_code": SIP,
    "hangup_side": CATEGORY,
    "hangup_disposition": CATEGORY,
    "failed": BOOL,
    # load context at launch
    "active_calls": LOAD,
    "erlangs": LOAD,
    "target_rate": LOAD,
    # derived latencies
    "originate_latency": SECONDS,
    "invite_latency": SECONDS,
    "post_dial_delay": SECONDS,
    "early_media_latency": SECONDS,
    "setup_latency": SECONDS,
    "answer_latency": SECONDS,
    "duration": SECONDS,
}

COLUMN_NAMES: Final = tuple(COLUMNS)
TIME_COLUMNS: Final = tuple(c for c, k in COLUMNS.items() if k == TIME)
#: Columns stamped by FreeSWITCH's clock (the ones the tick applies to).
FS_TIME_COLUMNS: Final = tuple(c for c in TIME_COLUMNS if c.startswith(("caller_", "callee_")))
CATEGORY_COLUMNS: Final = tuple(c for c, k in COLUMNS.items() if k == CATEGORY)
LATENCY_COLUMNS: Final = tuple(c for c, k in COLUMNS.items() if k == SECONDS)
#: Latencies measured on FreeSWITCH's clock (quantised by its tick).
FS_LATENCY_COLUMNS: Final = tuple(c for c in LATENCY_COLUMNS if c != "originate_latency")

#: Values of ``hangup_side``.
SIDE_CALLER: Final = "caller"   # the calling FreeSWITCH leg ended it (send_bye/cancel/refuse)
SIDE_CALLEE: Final = "callee"   # the far end ended it (recv_bye/cancel/refuse)
SIDE_LOCAL: Final = "local"     # switchlab itself hung it up (uuid_kill, hupall, ...)
