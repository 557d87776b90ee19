"""The per-call columns, each declared once: :class:`ColumnSpec` and the built-in list.

Everything else about a column is generated from its declaration (see
:mod:`switchlab.measure.schema`): the row schema and the typed DataFrame's
dtypes, :func:`~switchlab.measure.record.derive`, the KPI and time-series
latency lists, the plot labels, the short names of ``run.check``/``--check``,
the live status fields of the notebook panel and the column table of
docs/MEASUREMENT.md. An app adds its own columns with
:func:`switchlab.measure.register_columns`.

>>> spec = ColumnSpec("dtmf_ok", FLAG, "the digits received were the digits sent",
...                   ratio=True)
>>> spec.dtype, spec.display_label
('boolean', 'dtmf ok')
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

# -- column kinds: how a value is held in a row dict, and its DataFrame dtype --------
CATEGORY: Final = "category"  # str or None -> category
STRING: Final = "string"      # str or None -> string (Arrow)
TIME: Final = "time"          # int µs since the epoch or None -> datetime64[ns, UTC]
MONO: Final = "mono"          # local monotonic seconds or None -> float64
SECONDS: Final = "seconds"    # derived latency, float seconds or None -> float64
LOAD: Final = "load"          # load context, float or None -> float64
SIP: Final = "sip"            # SIP status, int or None -> Int16
BOOL: Final = "bool"          # bool (None counts as False) -> bool
FLAG: Final = "flag"          # True / False / None (not applicable) -> boolean (nullable)

#: Each kind's pandas dtype.
DTYPES: Final[Mapping[str, str]] = {
    CATEGORY: "category", STRING: "string", TIME: "datetime64[ns, UTC]", MONO: "float64",
    SECONDS: "float64", LOAD: "float64", SIP: "Int16", BOOL: "bool", FLAG: "boolean",
}

#: Which clock a time or latency column is on.
FS_CLOCK: Final = "freeswitch"   # Event-Date-Timestamp: quantised by FreeSWITCH's tick
LOCAL_CLOCK: Final = "local"


@dataclass(frozen=True)
class Diff:
    """A derived latency ``end - start`` in seconds: two ``time`` columns
    (µs, divided by 1e6) or two ``mono`` columns (seconds, rounded to the ns)."""

    end: str
    start: str

    def describe(self) -> str:
        return f"`{self.end} - {self.start}`"


@dataclass(frozen=True)
class Formula:
    """A derived value computed by ``func(row)`` (row: column → plain value;
    return None when it cannot be computed); ``text`` says how, for the docs."""

    func: Callable[[Mapping[str, Any]], Any]
    text: str

    def describe(self) -> str:
        return self.text


Derivation = Diff | Formula


@dataclass(frozen=True)
class ColumnSpec:
    """One per-call column.

    ``name``/``kind``/``meaning``: the column, its kind (:data:`DTYPES`) and
    one line saying what it is. ``label``: human name for plots (default: the
    name with spaces); ``unit``: its display unit (latencies: ``"ms"`` or
    ``"s"``). ``source``: where a recorded value comes from (docs);
    ``derive``: how a derived one is computed (:class:`Diff` or
    :class:`Formula`). ``clock``: :data:`FS_CLOCK` or :data:`LOCAL_CLOCK` for
    times and latencies. ``alias``: short name in checks (``p95_<alias>_max``).
    ``kpi_rank``: a latency summarised with percentiles by ``df.calls.kpis``
    (tables list them by rank). ``timeseries``: percentiles per window in
    ``df.calls.timeseries``. ``ratio``: a ``bool``/``flag`` column whose share
    of True is a KPI (``<name>.ratio``). ``live``: shown live in the
    notebook panel's status line.
    """

    name: str
    kind: str
    meaning: str
    label: str = ""
    unit: str = ""
    source: str = ""
    derive: Derivation | None = None
    clock: str = ""
    alias: str | None = None
    kpi_rank: int | None = None
    timeseries: bool = False
    ratio: bool = False
    live: bool = False

    @property
    def dtype(self) -> str:
        """The pandas dtype of the column."""
        return DTYPES[self.kind]

    @property
    def display_label(self) -> str:
        """The human label without unit."""
        return self.label or self.name.replace("_", " ")

    @property
    def label_with_unit(self) -> str:
        """``"target rate at launch (calls/s)"``."""
        return f"{self.display_label} ({self.unit})" if self.unit else self.display_label

    @property
    def is_latency(self) -> bool:
        return self.kind == SECONDS

    def origin(self) -> str:
        """Source or formula, as written in the docs table."""
        return self.derive.describe() if self.derive is not None else self.source


def _post_dial_delay(row: Mapping[str, Any]) -> float | None:
    """First of progress / early media / answer ``- caller_create``; for a
    call refused before any of them, ``caller_hangup - caller_create``."""
    g = row.get
    create = g("caller_create")
    if create is None:
        return None
    firsts = [t for t in (g("caller_progress"), g("caller_early_media"), g("caller_answer"))
              if t is not None]
    if firsts:
        return (min(firsts) - create) / 1e6
    if g("hangup_disposition") == "recv_refuse":
        hangup = g("caller_hangup")
        return None if hangup is None else (hangup - create) / 1e6
    return None


def _fs(leg: str, event: str) -> str:
    return f"{leg} leg's first `{event}` `Event-Date-Timestamp`"


def _time(name: str, meaning: str, source: str, clock: str = FS_CLOCK) -> ColumnSpec:
    return ColumnSpec(name, TIME, meaning, label=name.replace("_", " "), source=source,
                      clock=clock)


def _rx(name: str, what: str) -> ColumnSpec:
    return ColumnSpec(name, MONO, f"local monotonic time {what} (ordering, not latency)",
                      unit="s", source="`time.monotonic()`", clock=LOCAL_CLOCK)


#: The built-in columns, in row order (the order of the journal and the DataFrame).
BUILTIN_COLUMNS: Final[tuple[ColumnSpec, ...]] = (
    # identity
    ColumnSpec("run_id", CATEGORY, "the run", label="run", source="`Run.run_id`"),
    ColumnSpec("call_id", STRING, "caller leg uuid", source="originate `origination_uuid`"),
    ColumnSpec("host", CATEGORY, "FreeSWITCH host that placed the call", source="originator"),
    ColumnSpec("app", CATEGORY, "client app driving the call", source="originator"),
    ColumnSpec("dest", CATEGORY, "destination dialled", label="destination",
               source="originator"),
    ColumnSpec("handled_by", CATEGORY,
               "which mode handled the call: `outbound` (an app of an outbound-socket "
               "server), `inbound` (apps of `switchlab serve` on inbound connections); "
               "empty for calls the originator placed", label="handled by",
               source="`switchlab serve` (`switchlab.outbound`)"),
    # local wall clock
    _time("launch", "local wall clock at launch", "`time.time()`", LOCAL_CLOCK),
    _time("job_done", "local wall clock when the bgapi result arrived",
          "launch + monotonic time to the `BACKGROUND_JOB`", LOCAL_CLOCK),
    # FreeSWITCH clock
    _time("caller_create", "caller leg created (INVITE sent)", _fs("caller", "CHANNEL_CREATE")),
    _time("caller_progress", "caller leg got 180 Ringing", _fs("caller", "CHANNEL_PROGRESS")),
    _time("caller_early_media", "caller leg got 183 early media",
          _fs("caller", "CHANNEL_PROGRESS_MEDIA")),
    _time("caller_answer", "caller leg answered (200 OK)", _fs("caller", "CHANNEL_ANSWER")),
    _time("caller_hangup", "caller leg hung up",
          "caller leg's `CHANNEL_HANGUP` (else `CHANNEL_HANGUP_COMPLETE`) "
          "`Event-Date-Timestamp`"),
    _time("callee_create", "callee leg created (INVITE received)",
          _fs("callee", "CHANNEL_CREATE")),
    _time("callee_answer", "callee leg answered", _fs("callee", "CHANNEL_ANSWER")),
    _time("callee_hangup", "callee leg hung up",
          "callee leg's `CHANNEL_HANGUP` (else `CHANNEL_HANGUP_COMPLETE`) "
          "`Event-Date-Timestamp`"),
    # local monotonic receive times
    _rx("rx_launch", "at launch"),
    _rx("rx_job", "when the bgapi result was received"),
    _rx("rx_caller_create", "when the caller's `CHANNEL_CREATE` was received"),
    _rx("rx_caller_answer", "when the caller's `CHANNEL_ANSWER` was received"),
    _rx("rx_caller_hangup", "when the caller's first hangup event was received"),
    # outcome
    ColumnSpec("hangup_cause", CATEGORY, "why the call ended",
               source="caller leg's `Hangup-Cause` (else the job's `-ERR` cause, "
                      "else the callee's)"),
    ColumnSpec("sip_code", SIP, "SIP status that ended the caller leg", label="SIP code",
               source="`variable_sip_term_status`, else "
                      "`variable_sip_invite_failure_status`"),
    ColumnSpec("hangup_side", CATEGORY,
               "`caller` (caller leg `send_bye/cancel/refuse`), `callee` (`recv_*`) or "
               "`local` (switchlab hung it up)",
               source="`variable_sip_hangup_disposition` of both legs"),
    ColumnSpec("hangup_disposition", CATEGORY, "caller leg's SIP hangup disposition",
               source="caller leg's `variable_sip_hangup_disposition`"),
    ColumnSpec("failed", BOOL, "not answered, or the originate job said `-ERR`",
               source="caller answer and job result"),
    # load context at launch
    ColumnSpec("active_calls", LOAD, "calls in progress at launch",
               label="active calls at launch", source="originator"),
    ColumnSpec("erlangs", LOAD, "traffic in progress at launch", label="erlangs at launch",
               source="originator"),
    ColumnSpec("target_rate", LOAD, "rate the originator aimed at, at launch",
               label="target rate at launch", unit="calls/s", source="originator"),
    # scale-out (switchlab.scale): which shard and Dask worker made the call
    ColumnSpec("shard", CATEGORY, "scale-out shard that made the call (null in a "
               "one-process run)", source="`switchlab.scale` shard index"),
    ColumnSpec("worker", CATEGORY, "Dask worker that ran the shard (null in a one-process "
               "run)", source="Dask worker address"),
    # derived latencies
    ColumnSpec("originate_latency", SECONDS, "launch to bgapi result, local clock",
               unit="ms", derive=Diff("rx_job", "rx_launch"), clock=LOCAL_CLOCK,
               alias="originate", kpi_rank=5),
    ColumnSpec("invite_latency", SECONDS, "caller leg created to callee leg created",
               label="INVITE latency", unit="ms", derive=Diff("callee_create", "caller_create"),
               clock=FS_CLOCK, alias="invite", kpi_rank=4),
    ColumnSpec("post_dial_delay", SECONDS, "INVITE to the first 180/183/200, or to the "
               "final refusal (RFC 6076 session request delay)",
               label="post-dial delay", unit="ms",
               derive=Formula(_post_dial_delay,
                              "first of `caller_progress`, `caller_early_media`, "
                              "`caller_answer` `- caller_create`; refused before any: "
                              "`caller_hangup - caller_create`"),
               clock=FS_CLOCK, alias="pdd", kpi_rank=2, timeseries=True),
    ColumnSpec("early_media_latency", SECONDS, "INVITE to early media",
               label="early-media latency", unit="ms",
               derive=Diff("caller_early_media", "caller_create"), clock=FS_CLOCK),
    ColumnSpec("setup_latency", SECONDS, "INVITE to answer", unit="ms",
               derive=Diff("caller_answer", "caller_create"), clock=FS_CLOCK, alias="setup",
               kpi_rank=1, timeseries=True, live=True),
    ColumnSpec("answer_latency", SECONDS, "callee answered to caller answered",
               unit="ms", derive=Diff("caller_answer", "callee_answer"), clock=FS_CLOCK,
               alias="answer", kpi_rank=3),
    ColumnSpec("duration", SECONDS, "answer to hangup", label="call duration", unit="s",
               derive=Diff("caller_hangup", "caller_answer"), clock=FS_CLOCK,
               alias="duration", kpi_rank=6),
)
