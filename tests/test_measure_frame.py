"""RowStore (compact columnar rows) and the typed DataFrame."""
from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.errors import MeasurementError
from switchlab.measure import RowStore, coerce_frame, empty_frame, frame_from_rows
from switchlab.measure import store as store_module
from switchlab.measure.schema import COLUMN_NAMES, COLUMNS

T0 = 1_795_694_067_360_680


def full_row(i: int = 0, **over: object) -> dict:
    row = {
        "run_id": "r1", "call_id": f"call-{i}", "host": f"fs{i % 2}", "app": "TonePlay",
        "dest": "answer", "launch": T0 - 2000, "job_done": T0 + 1_040_000,
        "caller_create": T0, "caller_progress": T0 + 20_000,
        "caller_early_media": T0 + 1_020_000, "caller_answer": T0 + 2_060_000,
        "caller_hangup": T0 + 4_080_000, "callee_create": T0 + 20_000,
        "callee_answer": T0 + 2_040_000, "callee_hangup": T0 + 4_100_000,
        "rx_launch": 100.0, "rx_job": 101.042, "rx_caller_create": 100.01,
        "rx_caller_answer": 102.07, "rx_caller_hangup": 104.09,
        "hangup_cause": "NORMAL_CLEARING", "sip_code": None, "hangup_side": "caller",
        "hangup_disposition": "send_bye", "failed": False,
        "active_calls": 12.0, "erlangs": 11.5, "target_rate": 10.0,
    }
    row.update(over)
    return row


def test_dtypes_match_the_schema() -> None:
    df = frame_from_rows([full_row(0), full_row(1, sip_code=486, failed=True,
                                                 caller_answer=None, call_id=None)])
    expected = {"category": "category", "string": "string", "time": "datetime64[ns, UTC]",
                "mono": "float64", "seconds": "float64", "load": "float64", "sip": "Int16",
                "bool": "bool"}
    for col, kind in COLUMNS.items():
        assert str(df[col].dtype) == expected[kind], col
    assert list(df.columns) == list(COLUMN_NAMES)
    assert df["caller_create"].iloc[0] == pd.Timestamp(T0, unit="us", tz="UTC")
    assert df["caller_answer"].isna().tolist() == [False, True]
    assert df["sip_code"].tolist() == [pd.NA, 486]
    assert df["call_id"].tolist() == ["call-0", pd.NA]
    assert df["setup_latency"].tolist()[0] == 2.06
    assert np.isnan(df["setup_latency"].iloc[1])
    assert df["host"].cat.categories.tolist() == ["fs0", "fs1"]
    assert list(empty_frame().columns) == list(COLUMN_NAMES)
    assert str(empty_frame()["launch"].dtype) == "datetime64[ns, UTC]"


def test_derived_latencies_are_computed_from_raw_times() -> None:
    df = frame_from_rows([full_row()])
    r = df.iloc[0]
    assert r["invite_latency"] == 0.02
    assert r["post_dial_delay"] == 0.02
    assert r["early_media_latency"] == 1.02
    assert r["setup_latency"] == 2.06
    assert r["answer_latency"] == 0.02
    assert r["duration"] == 2.02
    assert r["originate_latency"] == pytest.approx(1.042)


def test_given_derived_values_are_kept() -> None:
    df = frame_from_rows([full_row(setup_latency=9.0)])
    assert df["setup_latency"].iloc[0] == 9.0


def test_pdd_of_a_refused_call_is_time_to_the_final_response() -> None:
    df = frame_from_rows([{"caller_create": T0, "caller_hangup": T0 + 40_000,
                           "hangup_disposition": "recv_refuse", "failed": True},
                          {"caller_create": T0, "caller_hangup": T0 + 40_000,
                           "hangup_disposition": "send_cancel", "failed": True}])
    assert df["post_dial_delay"].iloc[0] == 0.04
    assert np.isnan(df["post_dial_delay"].iloc[1])


def test_bad_rows_are_refused_and_nothing_is_stored() -> None:
    s = RowStore()
    s.append(full_row(0))
    with pytest.raises(MeasurementError, match="unknown row column"):
        s.append({"call_idd": "x"})
    with pytest.raises(MeasurementError, match="'caller_answer'"):
        s.append(full_row(1, caller_answer="yesterday"))
    with pytest.raises(MeasurementError, match="'sip_code'"):
        s.append(full_row(2, sip_code=99999))
    assert len(s) == 1
    rows = s.rows()
    assert len(rows) == 1 and rows[0]["call_id"] == "call-0"
    # every column still has exactly one value
    df = pd.DataFrame(s.raw_columns()["launch"])
    assert len(df) == 1


def test_numpy_scalars_are_accepted() -> None:
    s = RowStore()
    s.append(full_row(caller_create=np.int64(T0), rx_launch=np.float64(1.5),
                      sip_code=np.int16(200)))
    r = s.rows()[0]
    assert r["caller_create"] == T0 and r["rx_launch"] == 1.5 and r["sip_code"] == 200


def test_rows_roundtrip_through_the_store() -> None:
    rows = [full_row(i) for i in range(5)] + [{c: None for c in COLUMN_NAMES} | {"failed": True}]
    s = RowStore()
    s.extend(rows)
    back = s.rows()
    for orig, got in zip(rows, back):
        for col in COLUMN_NAMES:
            if orig.get(col) is not None:
                assert got[col] == orig[col], col


def test_memory_per_row_is_compact() -> None:
    s = RowStore()
    n = 20_000
    for i in range(n):
        s.append(full_row(i, call_id=f"{i:08x}-4970-47c8-beee-0eb783d7ae3e"))
    per_row = s.nbytes() / n
    # 36 columns: 10 times + 12 floats at 8 bytes, 8 category codes at 4, SIP 2,
    # bool 1, call id 36 + 9 bytes
    assert 250 < per_row < 320


def test_coerce_frame_restores_dtypes_from_csv(tmp_path) -> None:
    df = frame_from_rows([full_row(0), full_row(1, sip_code=503, failed=True,
                                                 caller_answer=None)])
    p = tmp_path / "calls.csv"
    df.to_csv(p, index=False)
    back = coerce_frame(pd.read_csv(p))
    assert back.dtypes.astype(str).tolist() == df.dtypes.astype(str).tolist()
    pd.testing.assert_frame_equal(back, df, check_categorical=False)


def test_coerce_frame_names_the_bad_column() -> None:
    with pytest.raises(MeasurementError, match="'sip_code'"):
        coerce_frame(pd.DataFrame({"sip_code": ["four hundred"]}))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "call_id": st.one_of(st.none(), st.text(max_size=40)),
    "host": st.one_of(st.none(), st.sampled_from(["a", "b", "ü"])),
    "caller_create": st.one_of(st.none(), st.integers(0, 2**53)),
    "caller_answer": st.one_of(st.none(), st.integers(0, 2**53)),
    "sip_code": st.one_of(st.none(), st.integers(100, 699)),
    "rx_launch": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "failed": st.booleans(),
}), max_size=30))
def test_store_frame_agrees_with_pandas_built_from_dicts(rows: list[dict]) -> None:
    df = frame_from_rows(rows)
    assert len(df) == len(rows)
    for i, row in enumerate(rows):
        assert (df["call_id"].iloc[i] if not pd.isna(df["call_id"].iloc[i]) else None) \
            == row["call_id"]
        for col in ("caller_create", "caller_answer"):
            v = df[col].iloc[i]
            assert (None if pd.isna(v) else (v - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(
                microseconds=1)) == row[col]
        assert (None if pd.isna(df["sip_code"].iloc[i]) else int(df["sip_code"].iloc[i])) \
            == row["sip_code"]
        assert bool(df["failed"].iloc[i]) == row["failed"]


# every kind of value a row column may be given, good or bad
_ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["", "x", "486", "1.5", "\ud800"]),
    st.builds(np.int64, st.integers(min_value=-2**63, max_value=2**63 - 1)),
    st.builds(np.float64, st.floats()), st.just([1]), st.just({"a": 1}))


def _stored(s: RowStore) -> object:
    raw = s.raw_columns()
    return {k: (v[0].tolist(), v[1]) if isinstance(v, tuple) else
            (v.to_pylist() if hasattr(v, "to_pylist") else v.tobytes()) for k, v in raw.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(list(COLUMNS)), _ANY_VALUE, max_size=6),
                min_size=1, max_size=4))
def test_append_in_one_pass_equals_column_by_column(changes: list[dict]) -> None:
    """``RowStore.append`` converts a row in one pass (kinds grouped): the same
    buffers, category dictionaries and errors as appending column by column."""
    fast, plain = RowStore(), RowStore()
    for i, over in enumerate(changes):
        row = full_row(i, **over)
        said = []
        for store, add in ((fast, fast.append), (plain, plain._append_each)):
            try:
                add(row, derived=True) if add == fast.append else add(row)
                said.append(None)
            except MeasurementError as exc:
                said.append(str(exc))
        assert said[0] == said[1]
        assert len(fast) == len(plain)
        assert _stored(fast) == _stored(plain)
        assert [c.values for c in fast._cat_cols] == [c.values for c in plain._cat_cols]


def test_rows_staged_between_reads_are_stored_as_column_by_column() -> None:
    """The one-pass append stages rows (their fixed-width values packed in one
    buffer) and moves them into the columns every few hundred rows or before a
    read: over staging boundaries, with bad rows and reads in between, the
    buffers, sizes and errors are those of appending column by column."""
    fast, plain = RowStore(), RowStore()
    bad = {"sip_code": 70_000}, {"launch": 2**64}, {"active_calls": "many"}
    n = 2 * store_module._STAGE_ROWS + 37
    for i in range(n):
        row = full_row(i, sip_code=480 + i % 20, hangup_cause=f"CAUSE_{i % 7}",
                       failed=bool(i % 3), rx_job=None if i % 5 else 101.5)
        if i % 97 == 13:
            row.update(bad[i % 3])
        said = []
        for add in (lambda r: fast.append(r, derived=True), plain._append_each):
            try:
                add(row)
                said.append(None)
            except MeasurementError as exc:
                said.append(str(exc))
        assert said[0] == said[1]
        assert len(fast) == len(plain) and fast.nbytes() == plain.nbytes()  # no read: staged
        if i in (5, store_module._STAGE_ROWS + 3):  # a read in the middle moves them
            assert list(fast.column("sip_code")) == list(plain.column("sip_code"))
    assert 0 < fast._staged < store_module._STAGE_ROWS  # some rows are still staged here
    assert _stored(fast) == _stored(plain) and fast._staged == 0
    assert [c.values for c in fast._cat_cols] == [c.values for c in plain._cat_cols]
    assert fast.rows(n - 40) == plain.rows(n - 40)


def test_any_mapping_is_a_row() -> None:
    """A row need not be a dict (the one-pass key check is for dicts only)."""
    s = RowStore()
    s.append(MappingProxyType(full_row(0)))
    with pytest.raises(MeasurementError, match="unknown row column"):
        s.append(MappingProxyType({"call_idd": "x"}))
    assert len(s) == 1 and s.rows()[0]["call_id"] == "call-0"
