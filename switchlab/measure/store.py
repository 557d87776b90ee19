"""`RowStore`: finished rows kept compactly in memory, one typed array per column.

A row dict costs about 2 KB in Python; here a row costs about 250 bytes:
times are int64 µs in ``array('q')``, floats ``array('d')``, categories are
dictionary-encoded (``array('i')`` codes + one list of distinct values), the
call id is UTF-8 bytes in one ``bytearray`` with int64 offsets. Turning the
store into a DataFrame copies each array once (no per-row Python work except
for the call id, which becomes an Arrow string array directly).
"""
from __future__ import annotations

import math
import operator
import struct
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import MeasurementError
from .columns import (
    BOOL,
    CATEGORY,
    FLAG,
    LOAD,
    MONO,
    SECONDS,
    SIP,
    STRING,
    TIME,
)
from .buffers import Categories, Strings
from .record import derive
from .schema import COLUMNS, DERIVE_PLAN

#: int64 sentinel for a missing time (it is numpy's NaT).
NAT = np.iinfo(np.int64).min
#: int16 sentinel for a missing SIP code.
NO_SIP = -1
#: int8 sentinel for a missing flag.
NO_FLAG = -1
_NAN = float("nan")


def _time_value(value: Any) -> int:
    if value is None:
        return NAT
    if isinstance(value, float):
        if math.isnan(value):
            return NAT
        return round(value)
    try:
        return operator.index(value)
    except TypeError:
        raise MeasurementError(
            f"time value {value!r} is not integer microseconds since the epoch") from None


def _float_value(value: Any) -> float:
    return _NAN if value is None else float(value)


def _sip_value(value: Any) -> int:
    return NO_SIP if value is None else int(value)


def _bool_value(value: Any) -> int:
    return 1 if value else 0


def _flag_value(value: Any) -> int:
    return NO_FLAG if value is None else (1 if value else 0)


#: rows staged before their values move into the columns
_STAGE_ROWS = 512

_CONVERT = {TIME: _time_value, MONO: _float_value, SECONDS: _float_value,
            LOAD: _float_value, SIP: _sip_value, BOOL: _bool_value, FLAG: _flag_value}


def checked_derive(row: dict[str, Any]) -> dict[str, Any]:
    """:func:`~switchlab.measure.record.derive`, with a
    :class:`~switchlab.errors.MeasurementError` naming the column when a value
    has the wrong type."""
    try:
        return derive(row)
    except (TypeError, ValueError, OverflowError):
        for name, kind in COLUMNS.items():
            conv = _CONVERT.get(kind)
            if conv is not None:
                try:
                    conv(row.get(name))
                except (TypeError, ValueError, OverflowError, MeasurementError) as exc:
                    raise MeasurementError(
                        f"row column {name!r}: bad value {row.get(name)!r} ({exc}); "
                        "nothing was stored") from None
        raise MeasurementError(f"row cannot be derived: {row!r}") from None


#: The array typecode holding each fixed-width kind (the others have their own buffers).
_TYPECODES = {TIME: "q", MONO: "d", SECONDS: "d", LOAD: "d", SIP: "h", BOOL: "b", FLAG: "b"}


def _new_buffer(kind: str) -> Any:
    """An empty buffer for one column of ``kind``."""
    if kind == CATEGORY:
        return Categories()
    if kind == STRING:
        return Strings()
    return array(_TYPECODES[kind])


class RowStore:
    """Append-only, columnar, compact store of finished rows.

    >>> s = RowStore()
    >>> s.append({"call_id": "a", "caller_create": 1_000_000, "caller_answer": 1_020_000})
    >>> len(s), float(s.column("setup_latency")[0])
    (1, 0.02)
    """

    def __init__(self) -> None:
        self._n = 0
        self._cols: dict[str, Any] = {name: _new_buffer(kind) for name, kind in COLUMNS.items()}
        self._kinds = [(name, kind, self._cols[name]) for name, kind in COLUMNS.items()]
        self._names = tuple(self._cols)
        self._derived = tuple(step[0] for step in DERIVE_PLAN)
        self._appenders = [(name, _CONVERT.get(kind), col.append)
                           for name, kind, col in self._kinds]
        # append's one pass: the columns grouped by kind, and the append of each
        # column's buffer in that order (categories append codes, strings are apart)
        by_kind: dict[str, list[str]] = {}
        for name, kind in COLUMNS.items():
            by_kind.setdefault(kind, []).append(name)
        group = {kind: tuple(by_kind.get(kind, ())) for kind in
                 (TIME, MONO, SECONDS, LOAD, SIP, BOOL, FLAG, CATEGORY, STRING)}
        self._time_names = group[TIME]
        self._float_names = group[MONO] + group[SECONDS] + group[LOAD]
        self._sip_names, self._bool_names = group[SIP], group[BOOL]
        self._flag_names, self._cat_names = group[FLAG], group[CATEGORY]
        self._cat_cols: tuple[Categories, ...] = tuple(self._cols[n] for n in group[CATEGORY])
        self._cat_gets = tuple(c.index.get for c in self._cat_cols)
        self._str_cols: tuple[Strings, ...] = tuple(self._cols[n] for n in group[STRING])
        self._str_names = group[STRING]
        fixed = (*self._time_names, *self._float_names, *self._sip_names, *self._bool_names,
                 *self._flag_names)
        # Rows are staged row-major: the fixed-width values of a row (and the category
        # codes) packed in one struct call into one buffer (an array append parses
        # its argument: ~40 of those per row cost more than the rest of append), then
        # moved into their columns every _STAGE_ROWS rows, or before any read.
        targets = [*(self._cols[n] for n in fixed), *(c.codes for c in self._cat_cols)]
        codes = "".join(t.typecode for t in targets)
        self._pack = struct.Struct("=" + codes).pack
        self._stage = bytearray()
        self._staged = 0
        self._stage_dtype = np.dtype([(f"c{j}", "=" + np.dtype(c).str[1:])
                                      for j, c in enumerate(codes)])
        self._stage_targets = tuple(targets)

    def __len__(self) -> int:
        return self._n

    def append(self, row: Mapping[str, Any], *, derived: bool = False) -> None:
        """Append one row (a mapping of column → plain value, see
        :mod:`~switchlab.measure.schema`). Missing columns are None; derived
        latencies that are missing are computed. Raises
        :class:`~switchlab.errors.MeasurementError` for an unknown column or a
        value of the wrong type, leaving the store unchanged. ``derived=True``:
        the caller already ran :func:`checked_derive` on ``row``."""
        cols = self._cols
        # a dict's keys are checked in one C pass; any other mapping key by key
        known = isinstance(row, dict) and cols.keys() >= row.keys()
        unknown = [] if known else [k for k in row if k not in cols]
        if unknown:
            raise MeasurementError(
                f"unknown row column(s) {unknown}; the columns are {list(self._names)} "
                "(an app's own columns must be registered before the store is created)")
        if not derived and any(row.get(c) is None for c in self._derived):
            row = checked_derive(dict(row))
        try:
            values, strings, new = self._converted(row.get)
            packed = self._pack(*values)  # checks each value's range, like the arrays
        except (TypeError, ValueError, OverflowError, MeasurementError, struct.error):
            values = None  # the column by column path below says which column is bad
        if values is not None and new:  # values not seen before in their columns
            self._add_categories(values, new)
            packed = self._pack(*values)
        if values is not None:
            self._stage += packed
            for col, data in zip(self._str_cols, strings):
                col.add(data)
            self._n += 1
            self._staged += 1
            if self._staged >= _STAGE_ROWS:
                self._flush()
            return
        self._append_each(row)

    def _flush(self) -> None:
        """Move the staged rows' fixed-width values into their columns."""
        if not self._staged:
            return
        rows = np.frombuffer(self._stage, dtype=self._stage_dtype)
        for j, target in enumerate(self._stage_targets):
            target.frombytes(rows[f"c{j}"].tobytes())
        del rows  # (the buffer cannot be cleared while a view of it exists)
        self._stage.clear()
        self._staged = 0

    def _converted(self, get: Any) -> tuple[list[Any], list[bytes | None], list[tuple[int, str]]]:
        """Every value of a row converted for its buffer, in ``_pack`` order (a
        category as its code), the string columns' UTF-8 bytes, and the
        categories not seen before (``(j, text)``: their codes are -2 until
        :meth:`_add_categories`). Nothing is changed here; the conversions are
        those of :data:`_CONVERT` and :meth:`Categories.append`."""
        times = [NAT if v is None else v if v.__class__ is int else _time_value(v)
                 for v in map(get, self._time_names)]
        floats = [_NAN if v is None else v if v.__class__ is float else float(v)
                  for v in map(get, self._float_names)]
        sips = [NO_SIP if v is None else int(v) for v in map(get, self._sip_names)]
        bools = [1 if v else 0 for v in map(get, self._bool_names)]
        flags = [NO_FLAG if v is None else 1 if v else 0 for v in map(get, self._flag_names)]
        cats = list(map(get, self._cat_names))
        codes = [-1 if v is None else cget(v, -2) for cget, v in zip(self._cat_gets, cats)]
        strings = [None if v is None else str(v).encode("utf-8")
                   for v in map(get, self._str_names)]
        new = [(j, str(cats[j])) for j, code in enumerate(codes) if code == -2] \
            if -2 in codes else []
        return [*times, *floats, *sips, *bools, *flags, *codes], strings, new

    def _add_categories(self, values: list[Any], new: list[tuple[int, str]]) -> None:
        """Give the new category values of a row (its ``_converted`` values) their codes."""
        first = len(values) - len(self._cat_cols)
        for j, text in new:
            values[first + j] = self._cat_cols[j].code(text)

    def _append_each(self, row: Mapping[str, Any]) -> None:
        """Append ``row`` column by column (raises for the first bad column)."""
        self._flush()
        get = row.get
        done = 0
        try:
            for name, conv, add in self._appenders:
                value = get(name)
                add(value if conv is None else conv(value))
                done += 1
        except (TypeError, ValueError, OverflowError, MeasurementError) as exc:
            for _name, _kind, col in self._kinds[:done]:
                col.pop()
            bad = self._kinds[done][0]
            raise MeasurementError(
                f"row column {bad!r}: bad value {get(bad)!r} ({exc}); nothing was stored") \
                from None
        self._n += 1

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.append(row)

    def nbytes(self) -> int:
        """Bytes held by the column buffers (the per-row cost, without the
        few Python objects of the category dictionaries)."""
        total = len(self._stage)  # the staged rows' fixed-width values
        for _name, kind, col in self._kinds:
            if kind in (CATEGORY, STRING):
                total += col.nbytes()
            else:
                total += col.itemsize * len(col)
        return total

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (a copy): times int64 µs (NAT when
        missing), floats with NaN, SIP int16 (-1 missing), categories as
        object arrays."""
        self._flush()
        col = self._cols[name]
        kind = next(k for c, k, _ in self._kinds if c == name)
        n = self._n
        if kind == FLAG:
            flags = np.array(col[:n], dtype=np.int8)
            return np.array([None if f == NO_FLAG else bool(f) for f in flags], dtype=object)
        if kind == CATEGORY:
            codes = np.frombuffer(col.codes, dtype=np.int32, count=n)
            cats = np.array(col.values + [None], dtype=object)
            return cats[codes]
        if kind == STRING:
            return np.array(col.to_arrow(n).to_pylist(), dtype=object)
        return np.array(col[:n]) if n else np.array([], dtype=col.typecode)

    def raw_columns(self, start: int = 0) -> dict[str, Any]:
        """Columns of rows ``start:`` as copied numpy arrays (categories as
        ``(codes, values)``, the call id as an Arrow array), for
        :func:`switchlab.measure.frame.frame_from_raw`. Only this copy needs
        the store to stand still; building the DataFrame from it does not."""
        self._flush()
        n = self._n
        start = max(0, min(start, n))
        out: dict[str, Any] = {}
        for name, kind, col in self._kinds:
            if kind == CATEGORY:
                out[name] = (np.frombuffer(col.codes, dtype=np.int32, count=n)[start:].copy(),
                             list(col.values))
            elif kind == STRING:
                out[name] = col.to_arrow(n).slice(start) if start else col.to_arrow(n)
            else:
                dtype = {"q": np.int64, "d": np.float64, "h": np.int16, "b": np.int8}[col.typecode]
                out[name] = np.frombuffer(col, dtype=dtype, count=n)[start:].copy()
        return out

    def rows(self, start: int = 0) -> list[dict[str, Any]]:
        """Rows from ``start`` as plain dicts (slow; for tests and small runs)."""
        cols = {name: self.column(name)[start:] for name in self._names}
        out = []
        for i in range(self._n - start):
            row: dict[str, Any] = {}
            for name, kind, _col in self._kinds:
                v = cols[name][i]
                if kind == TIME:
                    v = None if v == NAT else int(v)
                elif kind in (MONO, SECONDS, LOAD):
                    v = None if math.isnan(v) else float(v)
                elif kind == SIP:
                    v = None if v == NO_SIP else int(v)
                elif kind == BOOL:
                    v = bool(v)
                row[name] = v
            out.append(row)
        return out
