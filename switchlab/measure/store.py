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
from array import array
from collections import deque
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
from .record import derive
from .schema import COLUMNS, DERIVE_PLAN

#: int64 sentinel for a missing time (it is numpy's NaT).
NAT = np.iinfo(np.int64).min
#: int16 sentinel for a missing SIP code.
NO_SIP = -1
#: int8 sentinel for a missing flag.
NO_FLAG = -1
_NAN = float("nan")


class _Categories:
    """Dictionary encoder: value → small int code (``-1`` for None)."""

    __slots__ = ("codes", "index", "values")

    def __init__(self) -> None:
        self.codes = array("i")
        self.values: list[str] = []
        self.index: dict[str, int] = {}

    def append(self, value: Any) -> None:
        if value is None:
            self.codes.append(-1)
            return
        code = self.index.get(value)
        if code is None:
            value = str(value)
            code = self.index.get(value)
            if code is None:
                code = self.index[value] = len(self.values)
                self.values.append(value)
        self.codes.append(code)

    def pop(self) -> None:
        self.codes.pop()

    def nbytes(self) -> int:
        return self.codes.itemsize * len(self.codes)


class _Strings:
    """UTF-8 strings in one buffer with int64 offsets (Arrow's large_string layout)."""

    __slots__ = ("data", "offsets", "valid")

    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets = array("q", [0])
        self.valid = bytearray()

    def append(self, value: Any) -> None:
        if value is None:
            self.valid.append(0)
        else:
            self.data += str(value).encode("utf-8")
            self.valid.append(1)
        self.offsets.append(len(self.data))

    def pop(self) -> None:
        self.offsets.pop()
        self.valid.pop()
        del self.data[self.offsets[-1]:]

    def nbytes(self) -> int:
        return len(self.data) + 8 * len(self.offsets) + len(self.valid)

    def to_arrow(self, n: int) -> pa.Array:
        offsets = np.frombuffer(self.offsets, dtype=np.int64, count=n + 1).copy()
        data = bytes(self.data[: int(offsets[-1])])
        valid = np.frombuffer(bytes(self.valid[:n]), dtype=np.uint8).astype(bool)
        mask_buf = None
        nulls = int(n - valid.sum())
        if nulls:
            mask_buf = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
        return pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data), mask_buf, nulls)


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


_call = operator.call
_drain = deque[Any](maxlen=0).extend  # runs an iterator to its end

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
        return _Categories()
    if kind == STRING:
        return _Strings()
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
        self._cat_cols: tuple[_Categories, ...] = tuple(self._cols[n] for n in group[CATEGORY])
        self._cat_gets = tuple(c.index.get for c in self._cat_cols)
        self._str_cols: tuple[_Strings, ...] = tuple(self._cols[n] for n in group[STRING])
        self._str_names = group[STRING]
        fixed = (*self._time_names, *self._float_names, *self._sip_names, *self._bool_names,
                 *self._flag_names)
        self._adds = tuple(self._cols[n].append for n in fixed) + tuple(
            c.codes.append for c in self._cat_cols)

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
            values, strings = self._converted(row.get)
        except (TypeError, ValueError, OverflowError, MeasurementError):
            values = None  # the column by column path below says which column is bad
        if values is not None:
            _drain(map(_call, self._adds, values))
            for col, data in zip(self._str_cols, strings):
                if data is None:
                    col.valid.append(0)
                else:
                    col.data += data
                    col.valid.append(1)
                col.offsets.append(len(col.data))
            self._n += 1
            return
        self._append_each(row)

    def _converted(self, get: Any) -> tuple[list[Any], list[bytes | None]]:
        """Every value of a row converted for its buffer, in ``_adds`` order (a
        category as its code, new categories added), and the string columns'
        UTF-8 bytes. Nothing is stored if this raises; the conversions are those
        of :data:`_CONVERT` and :meth:`_Categories.append`."""
        times = array("q", [NAT if v is None else v if v.__class__ is int else _time_value(v)
                            for v in map(get, self._time_names)])
        floats = [_NAN if v is None else v if v.__class__ is float else float(v)
                  for v in map(get, self._float_names)]
        sips = array("h", [NO_SIP if v is None else int(v) for v in map(get, self._sip_names)])
        bools = [1 if v else 0 for v in map(get, self._bool_names)]
        flags = [NO_FLAG if v is None else 1 if v else 0 for v in map(get, self._flag_names)]
        cats = list(map(get, self._cat_names))
        codes = [-1 if v is None else cget(v, -2) for cget, v in zip(self._cat_gets, cats)]
        strings = [None if v is None else str(v).encode("utf-8")
                   for v in map(get, self._str_names)]
        if -2 in codes:  # a value not seen before in its column
            new = [(j, str(cats[j])) for j, code in enumerate(codes) if code == -2]
            for j, text in new:
                col = self._cat_cols[j]
                code = col.index.get(text)
                if code is None:
                    code = col.index[text] = len(col.values)
                    col.values.append(text)
                codes[j] = code
        return [*times, *floats, *sips, *bools, *flags, *codes], strings

    def _append_each(self, row: Mapping[str, Any]) -> None:
        """Append ``row`` column by column (raises for the first bad column)."""
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
        total = 0
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
