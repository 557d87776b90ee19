"""The typed per-call DataFrame.

``datetime64[ns, UTC]`` for times, float64 seconds for latencies and local
monotonic times, ``category`` for run_id/host/app/dest/cause/side/disposition,
``string`` for call_id, nullable ``Int16`` for the SIP code, bool for failed,
nullable ``boolean`` for an app's ``flag`` columns.

>>> df = frame_from_rows([{"call_id": "a", "host": "fs1", "caller_create": 1_000_000,
...                        "caller_answer": 1_020_000}])
>>> str(df["caller_answer"].dtype), df.loc[0, "setup_latency"]
('datetime64[ns, UTC]', np.float64(0.02))
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
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
from .schema import COLUMNS
from .store import NAT, NO_FLAG, NO_SIP, RowStore

STRING_DTYPE = pd.StringDtype("pyarrow")


def _times(us: np.ndarray) -> pd.Series:
    ns = us.view("datetime64[us]").astype("datetime64[ns]")
    return pd.Series(pd.DatetimeIndex(ns).tz_localize("UTC").array)


def frame_from_store(store: RowStore, start: int = 0) -> pd.DataFrame:
    """Build the typed DataFrame of a :class:`RowStore`'s rows ``start:``."""
    return frame_from_raw(store.raw_columns(start))


def frame_from_raw(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Build the typed DataFrame from :meth:`RowStore.raw_columns`."""
    data: dict[str, Any] = {}
    for name, value in raw.items():
        kind = COLUMNS[name]
        if kind == TIME:
            data[name] = _times(value).array
        elif kind == CATEGORY:
            codes, values = value
            data[name] = pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object),
                                                   validate=False)
        elif kind == STRING:
            data[name] = pd.arrays.ArrowStringArray(value.cast(pa.string()))
        elif kind == SIP:
            data[name] = pd.arrays.IntegerArray(value, value == NO_SIP)
        elif kind == BOOL:
            data[name] = value.astype(bool)
        elif kind == FLAG:
            data[name] = pd.arrays.BooleanArray(value == 1, value == NO_FLAG)
        else:
            data[name] = value
    return pd.DataFrame(data, copy=False)


#: Arrow type of each column kind in the journal (times are integer µs).
ARROW_TYPES: dict[str, pa.DataType] = {
    TIME: pa.int64(), CATEGORY: pa.string(), STRING: pa.string(), MONO: pa.float64(),
    SECONDS: pa.float64(), LOAD: pa.float64(), SIP: pa.int16(), BOOL: pa.bool_(),
    FLAG: pa.bool_(),
}


def journal_arrow_types() -> dict[str, pa.DataType]:
    """Column → Arrow type of the calls journal's values."""
    return {name: ARROW_TYPES[kind] for name, kind in COLUMNS.items()}


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """The typed DataFrame from an Arrow table of journal values (columns it
    lacks come out empty)."""
    n = table.num_rows
    data: dict[str, Any] = {}
    for name, kind in COLUMNS.items():
        if name in table.column_names:
            col = table.column(name).combine_chunks()
        else:
            col = pa.nulls(n, ARROW_TYPES[kind])
        if kind == TIME:
            us = col.cast(pa.int64()).fill_null(NAT).to_numpy()
            data[name] = _times(us).array
        elif kind == CATEGORY:
            data[name] = pd.Categorical(col.to_pandas(), categories=None) \
                if n else pd.Categorical([])
        elif kind == STRING:
            data[name] = pd.arrays.ArrowStringArray(col.cast(pa.string()))
        elif kind == SIP:
            values = col.cast(pa.int16()).fill_null(NO_SIP).to_numpy()
            data[name] = pd.arrays.IntegerArray(values, values == NO_SIP)
        elif kind == BOOL:
            data[name] = col.cast(pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False)
        elif kind == FLAG:
            flags = col.cast(pa.bool_())
            data[name] = pd.arrays.BooleanArray(
                flags.fill_null(False).to_numpy(zero_copy_only=False),
                flags.is_null().to_numpy(zero_copy_only=False))
        else:
            data[name] = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return pd.DataFrame(data, copy=False)


def frame_from_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build the typed DataFrame from row dicts (missing derived latencies are computed)."""
    store = RowStore()
    store.extend(rows)
    return frame_from_store(store)


def empty_frame() -> pd.DataFrame:
    """A typed DataFrame with every column and no rows."""
    return frame_from_store(RowStore())


def coerce_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Give a DataFrame read back from CSV, Parquet or elsewhere the row
    schema's dtypes (columns it lacks are added, empty). Raises
    :class:`~switchlab.errors.MeasurementError` naming a column that cannot
    be converted."""
    out = {}
    n = len(df)
    for name, kind in COLUMNS.items():
        if name not in df.columns:
            col = pd.Series([None] * n, index=df.index, dtype=object)
        else:
            col = df[name]
        try:
            out[name] = _coerce(col, kind)
        except (TypeError, ValueError) as exc:
            raise MeasurementError(f"column {name!r} cannot be read as {kind}: {exc}") from None
    extra = [c for c in df.columns if c not in COLUMNS]
    result = pd.DataFrame(out, index=df.index)
    for c in extra:
        result[c] = df[c]
    return result


def _coerce(col: pd.Series, kind: str) -> pd.Series:
    if kind == TIME:
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            return col.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        if pd.api.types.is_numeric_dtype(col.dtype):
            return pd.to_datetime(col, unit="us", utc=True).astype("datetime64[ns, UTC]")
        return pd.to_datetime(col, utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    if kind == CATEGORY:
        if isinstance(col.dtype, pd.CategoricalDtype):
            return col
        return col.astype(object).where(col.notna(), None).astype("category")
    if kind == STRING:
        return col.astype(STRING_DTYPE)
    if kind == SIP:
        return pd.to_numeric(col, errors="raise").astype("Int16")
    if kind == BOOL:
        if col.dtype == bool:
            return col
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            lowered = col.astype(str).str.lower()
            return lowered.isin(["true", "1", "yes"])
        return col.fillna(False).astype(bool)
    if kind == FLAG:
        if isinstance(col.dtype, pd.BooleanDtype):
            return col
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            words = {"true": True, "1": True, "yes": True, "false": False, "0": False,
                     "no": False}
            return col.astype(str).str.lower().map(words).astype("boolean")
        return col.astype("boolean")
    if kind in (MONO, SECONDS, LOAD):
        return pd.to_numeric(col, errors="raise").astype("float64")
    raise AssertionError(kind)  # pragma: no cover


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate call frames keeping the categorical columns categorical."""
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0]
    out = pd.concat(frames, ignore_index=True)
    for name, kind in COLUMNS.items():
        if kind == CATEGORY and name in out.columns and \
                not isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("category")
    return out
