"""The per-call row schema, generated from the column declarations.

One row per call attempt. The columns are declared once, in
:mod:`switchlab.measure.columns` (built-in) or by an app through
:func:`register_columns`; this module keeps the registry and derives every
list the rest of the package needs from it. In a row dict and in the run's
journal file every value is a plain JSON value:

* ``time`` columns: integer microseconds since the Unix epoch (FreeSWITCH's
  ``Event-Date-Timestamp`` unit), or ``None``;
* ``mono`` columns: local ``time.monotonic()`` seconds (float) or ``None``;
* ``seconds``/``load`` columns: float or ``None``;
* ``category``/``string`` columns: str or ``None``; ``sip`` an int or ``None``;
  ``bool`` a bool; ``flag`` a bool or ``None``.

Register an app's columns before the run that records them is created:

>>> register_columns([ColumnSpec("dtmf_ok", FLAG, "digits received = digits sent",
...                              ratio=True)])
>>> COLUMNS["dtmf_ok"], "dtmf_ok" in ratio_columns()
('flag', True)
>>> unregister_columns(["dtmf_ok"])
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from ..errors import MeasurementError
from .columns import (
    BOOL,
    BUILTIN_COLUMNS,
    CATEGORY,
    DTYPES,
    FLAG,
    FS_CLOCK,
    MONO,
    SECONDS,
    TIME,
    ColumnSpec,
    Diff,
)

#: Bumped when a column changes meaning; written into every run's metadata.
SCHEMA_VERSION: Final = 1

#: One step of :func:`~switchlab.measure.record.derive`: ``(name, end, start,
#: microseconds, func)``: ``end - start`` (÷ 1e6 for µs times), or ``func(row)``.
DeriveStep = tuple[str, str, str, bool, Callable[[Mapping[str, Any]], Any] | None]

_SPECS: dict[str, ColumnSpec] = {}
#: Every column of a row, in order, with its kind (kept current by :func:`register_columns`).
COLUMNS: Final[dict[str, str]] = {}
#: How :func:`~switchlab.measure.record.derive` fills the derived columns, in row
#: order (kept current by :func:`register_columns`).
DERIVE_PLAN: Final[list[DeriveStep]] = []


def _check(spec: ColumnSpec, kinds: Mapping[str, str], aliases: set[str]) -> None:
    """Raise MeasurementError when ``spec`` cannot join columns of ``kinds``."""
    where = f"column {spec.name!r}"
    if not spec.name.isidentifier():
        raise MeasurementError(f"{where}: a column name must be a Python identifier")
    if spec.name in kinds:
        raise MeasurementError(f"{where} already exists; choose another name (e.g. prefix "
                               "it with the app's name)")
    if spec.kind not in DTYPES:
        raise MeasurementError(f"{where}: unknown kind {spec.kind!r}; use one of {list(DTYPES)}")
    d = spec.derive
    if isinstance(d, Diff):
        ends = (kinds.get(d.end), kinds.get(d.start))
        if ends not in ((TIME, TIME), (MONO, MONO)):
            raise MeasurementError(f"{where}: Diff({d.end!r}, {d.start!r}) needs two existing "
                                   "'time' columns or two 'mono' columns")
    if isinstance(d, Diff) and spec.kind != SECONDS:
        raise MeasurementError(f"{where}: a Diff gives seconds; declare the kind {SECONDS!r}")
    if (spec.kpi_rank is not None or spec.timeseries) and spec.kind != SECONDS:
        raise MeasurementError(f"{where}: only {SECONDS!r} columns have percentiles "
                               "(kpi_rank, timeseries)")
    if spec.ratio and spec.kind not in (BOOL, FLAG):
        raise MeasurementError(f"{where}: ratio=True needs a {BOOL!r} or {FLAG!r} column")
    if spec.alias is not None and spec.alias in aliases:
        raise MeasurementError(f"{where}: check alias {spec.alias!r} is taken")


def _rebuild() -> None:
    COLUMNS.clear()
    COLUMNS.update((name, spec.kind) for name, spec in _SPECS.items())
    plan: list[DeriveStep] = []
    for spec in _SPECS.values():
        d = spec.derive
        if isinstance(d, Diff):
            plan.append((spec.name, d.end, d.start, COLUMNS[d.end] == TIME, None))
        elif d is not None:
            plan.append((spec.name, "", "", False, d.func))
    DERIVE_PLAN[:] = plan


def register_columns(specs: Iterable[ColumnSpec]) -> None:
    """Add per-call columns (an app's own, e.g. ``dtmf_sent``/``dtmf_ok``):
    they join the row schema, the typed DataFrame, the journal and Parquet
    files, and, as declared, ``derive``, the KPIs, the checks and the plot
    labels. Register them when the app's module is imported, before any
    :class:`~switchlab.measure.Run` that records them is created. A spec
    equal to one already registered is accepted again (re-import); a name
    clash, or a declaration that makes no sense, raises
    :class:`~switchlab.errors.MeasurementError` and registers nothing."""
    kinds = dict(COLUMNS)
    aliases = {s.alias for s in _SPECS.values() if s.alias is not None}
    new: list[ColumnSpec] = []
    for spec in specs:
        if _SPECS.get(spec.name) == spec:
            continue
        _check(spec, kinds, aliases)
        kinds[spec.name] = spec.kind
        if spec.alias is not None:
            aliases.add(spec.alias)
        new.append(spec)
    for spec in new:
        _SPECS[spec.name] = spec
    _rebuild()


def app_columns(app: object) -> tuple[ColumnSpec, ...]:
    """The per-call columns an app class (or instance) declares in its ``columns``
    attribute (none: ``()``); anything but :class:`ColumnSpec` items is refused."""
    specs = tuple(getattr(app, "columns", None) or ())
    name = getattr(app, "__name__", type(app).__name__)
    for spec in specs:
        if not isinstance(spec, ColumnSpec):
            raise MeasurementError(f"app {name}: `columns` must hold ColumnSpec items, "
                                   f"not {spec!r}")
    return specs


def register_app_columns(app: object) -> tuple[ColumnSpec, ...]:
    """Register the columns an app declares (its ``columns`` attribute); returns them.
    The originator does this for its apps before it creates its run."""
    specs = app_columns(app)
    if specs:
        register_columns(specs)
    return specs


#: the ColumnSpec fields saved in run.json for an app's columns (a derivation is not)
_SAVED_FIELDS: Final = ("name", "kind", "meaning", "label", "unit", "source", "clock", "alias",
                        "ratio", "live")


def app_column_records() -> list[dict[str, Any]]:
    """The registered non-built-in columns, as JSON-able dicts (``run.json``), so a
    stored run is read back with its app columns typed and their ratio KPIs."""
    builtin = {s.name for s in BUILTIN_COLUMNS}
    return [{f: getattr(s, f) for f in _SAVED_FIELDS} for s in _SPECS.values()
            if s.name not in builtin and s.derive is None]


def register_saved_columns(records: Iterable[Mapping[str, Any]] | None) -> None:
    """Register the app columns a stored run declares (see :func:`app_column_records`);
    a name already registered is left as it is."""
    specs = [ColumnSpec(**{f: r[f] for f in _SAVED_FIELDS if f in r}) for r in records or ()
             if isinstance(r, Mapping) and r.get("name") not in _SPECS]
    if specs:
        register_columns(specs)


def unregister_columns(names: Iterable[str]) -> None:
    """Remove registered columns (not built-in ones); unknown names are ignored."""
    builtin = {s.name for s in BUILTIN_COLUMNS}
    for name in names:
        if name in builtin:
            raise MeasurementError(f"column {name!r} is built in and cannot be removed")
        _SPECS.pop(name, None)
    _rebuild()


# -- views: everything generated from the declarations ---------------------------------
def column_specs() -> tuple[ColumnSpec, ...]:
    """Every column's declaration, in row order."""
    return tuple(_SPECS.values())


def column_spec(name: str) -> ColumnSpec | None:
    return _SPECS.get(name)


def column_names() -> tuple[str, ...]:
    return tuple(_SPECS)


def latency_columns() -> tuple[str, ...]:
    """Derived latencies (float seconds)."""
    return tuple(n for n, s in _SPECS.items() if s.kind == SECONDS)


def fs_latency_columns() -> tuple[str, ...]:
    """Latencies measured on FreeSWITCH's clock (quantised by its tick)."""
    return tuple(n for n, s in _SPECS.items() if s.kind == SECONDS and s.clock == FS_CLOCK)


def fs_time_columns() -> tuple[str, ...]:
    """Times stamped by FreeSWITCH's clock (the ones the tick applies to)."""
    return tuple(n for n, s in _SPECS.items() if s.kind == TIME and s.clock == FS_CLOCK)


def kpi_latencies() -> tuple[str, ...]:
    """Latencies summarised with percentiles by ``df.calls.kpis``, by rank."""
    ranked = [s for s in _SPECS.values() if s.kpi_rank is not None]
    return tuple(s.name for s in sorted(ranked, key=lambda s: s.kpi_rank or 0))


def ts_latencies() -> tuple[str, ...]:
    """Latencies with percentiles per window in ``df.calls.timeseries``, by rank."""
    return tuple(n for n in kpi_latencies() if _SPECS[n].timeseries) + tuple(
        s.name for s in _SPECS.values() if s.timeseries and s.kpi_rank is None)


def ratio_columns() -> tuple[str, ...]:
    """``bool``/``flag`` columns whose share of True is a KPI (``<name>.ratio``)."""
    return tuple(n for n, s in _SPECS.items() if s.ratio)


def check_aliases() -> dict[str, str]:
    """Short name in checks → column (``"setup"`` → ``"setup_latency"``)."""
    return {s.alias: n for n, s in _SPECS.items() if s.alias is not None}


def live_columns() -> tuple[ColumnSpec, ...]:
    """Columns the notebook panel shows live in its status line (as ``p95 <alias>``)."""
    return tuple(s for s in _SPECS.values() if s.live)


def latency_labels() -> dict[str, str]:
    """Latency column → human label without unit (``"post-dial delay"``)."""
    return {n: s.display_label for n, s in _SPECS.items() if s.kind == SECONDS}


def column_labels() -> dict[str, str]:
    """Other columns → human label with unit (``"target rate at launch (calls/s)"``)."""
    return {n: s.label_with_unit for n, s in _SPECS.items() if s.kind != SECONDS}


def _kpi_cell(spec: ColumnSpec) -> str:
    parts = []
    if spec.kpi_rank is not None:
        parts.append("count, mean, p50, p90, p95, p99, max")
    if spec.timeseries:
        parts.append("percentiles per window")
    if spec.ratio:
        parts.append(f"`{spec.name}.ratio`")
    if spec.alias is not None:
        parts.append(f"check alias `{spec.alias}`")
    if spec.live:
        parts.append("live in the panel")
    return "; ".join(parts)


def markdown_table() -> str:
    """The Markdown table of the columns (docs/MEASUREMENT.md holds it verbatim;
    regenerate it with ``python -c "from switchlab.measure.schema import
    markdown_table; print(markdown_table(), end='')"``)."""
    lines = ["| column | dtype | source or formula | meaning | KPIs |",
             "|---|---|---|---|---|"]
    for s in _SPECS.values():
        dtype = f"{s.dtype} s" if s.kind == SECONDS else s.dtype
        cells = (s.name, dtype, s.origin(), s.meaning, _kpi_cell(s))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


register_columns(BUILTIN_COLUMNS)

# Built-in snapshots, for imports that predate registration (the functions
# above include registered columns too).
COLUMN_NAMES: Final = column_names()
TIME_COLUMNS: Final = tuple(c for c, k in COLUMNS.items() if k == TIME)
FS_TIME_COLUMNS: Final = fs_time_columns()
CATEGORY_COLUMNS: Final = tuple(c for c, k in COLUMNS.items() if k == CATEGORY)
LATENCY_COLUMNS: Final = latency_columns()
FS_LATENCY_COLUMNS: Final = fs_latency_columns()

#: Values of ``hangup_side``.
SIDE_CALLER: Final = "caller"   # the calling FreeSWITCH leg ended it (send_bye/cancel/refuse)
SIDE_CALLEE: Final = "callee"   # the far end ended it (recv_bye/cancel/refuse)
SIDE_LOCAL: Final = "local"     # switchlab itself hung it up (uuid_kill, hupall, ...)
