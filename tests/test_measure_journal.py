"""Append-only journals: a SIGKILLed writer loses no finished call."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchlab.errors import RunDirectoryError
from switchlab.measure import JournalWarning, load
from switchlab.measure.journal import Journal, read_calls_journal, read_journal

REPO = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent("""
    import sys, time
    from switchlab.measure import Run
    run = Run({"rate": 1000, "dest": "answer"}, directory=sys.argv[1])
    run.log("state", "ORIGINATING")
    T0 = 1_795_694_067_360_680
    i = 0
    while True:
        run.add_row({"call_id": f"call-{i}", "host": "fs1", "app": "load",
                     "launch": T0 + 1000 * i, "caller_create": T0 + 1000 * i,
                     "caller_answer": T0 + 1000 * i + 20_000, "hangup_cause": "NORMAL_CLEARING",
                     "failed": False, "rx_launch": 1.0 + i, "rx_job": 1.05 + i})
        # reported finished only after add_row returned
        print(f"finished call-{i}", flush=True)
        i += 1
        if i % 50 == 0:
            run.retune(rate=1000 + i)
""")


def test_sigkill_mid_run_loses_no_finished_call(tmp_path: Path) -> None:
    rundir = tmp_path / "run"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script), str(rundir)], stdout=subprocess.PIPE,
                            env=env, text=True)
    reported: list[str] = []
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        while len(reported) < 700 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            reported.append(line.split()[1])
        os.kill(proc.pid, signal.SIGKILL)
        # lines already in the pipe were reported finished too
        rest = proc.stdout.read()
        reported += [ln.split()[1] for ln in rest.splitlines() if ln.startswith("finished")]
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(reported) >= 700, "the writer did not get going"
    assert not (rundir / "calls.parquet").exists()      # never saved: recovery path

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = load(rundir)
    # killed mid-write: the torn last line is dropped with a warning, never a crash
    journal_warnings = [w for w in caught if issubclass(w.category, JournalWarning)]
    assert len(journal_warnings) <= 1
    assert all("torn" in str(w.message) for w in journal_warnings)
    on_disk = set(run.df["call_id"].tolist())
    assert set(reported) <= on_disk
    assert len(on_disk) <= len(reported) + 1          # at most the one being reported
    assert run.params == {"rate": 1000, "dest": "answer"}
    assert [e["message"] for e in run.events] == ["ORIGINATING"]
    assert len(run.retunes) >= len(reported) // 50 - 1
    assert str(run.df["launch"].dtype) == "datetime64[ns, UTC]"
    assert run.df["setup_latency"].dropna().eq(0.02).all()


def test_torn_last_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    from switchlab.measure import Run
    with Run({"rate": 5}, directory=tmp_path / "r") as run:
        for i in range(3):
            run.add_row({"call_id": f"c{i}", "launch": 1_000_000 * i, "failed": True,
                         "hangup_cause": "USER_BUSY"})
    journal = tmp_path / "r" / "calls.jsonl"
    with open(journal, "ab") as f:
        f.write(b'["r","c3",nu')                       # the writer died here
    with pytest.warns(JournalWarning, match="torn"):
        back = load(tmp_path / "r")
    assert back.df["call_id"].tolist() == ["c0", "c1", "c2"]
    # reopening for append starts a fresh line: the next row is readable
    with pytest.warns(JournalWarning):
        header, rows = read_calls_journal(journal)
    j = Journal(journal)
    j.append_line(json.dumps([None] * len(header["columns"])))
    j.close()
    with pytest.warns(JournalWarning, match="line 5 is not valid JSON"):
        header, rows = read_calls_journal(journal)
    assert len(rows) == 4


def test_corrupt_middle_line_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "log.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":\n{"c":3}\n')
    with pytest.warns(JournalWarning, match="line 2"):
        assert read_journal(p) == [{"a": 1}, {"c": 3}]


def test_nan_is_written_as_null_and_fsync_mode(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p, fsync=True) as j:
        j.append({"x": float("nan"), "y": 1.5})
        j.append([float("inf"), "a"])
    assert p.read_text() == '{"x":null,"y":1.5}\n[null,"a"]\n'
    assert read_journal(p) == [{"x": None, "y": 1.5}, [None, "a"]]


def test_closed_journal_and_unwritable_directory(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.close()
    with pytest.raises(RunDirectoryError, match="closed"):
        j.append({"a": 1})
    with pytest.raises(RunDirectoryError, match="cannot open"):
        Journal(tmp_path / "missing-dir" / "j.jsonl")


def test_not_a_calls_journal(tmp_path: Path) -> None:
    p = tmp_path / "calls.jsonl"
    p.write_text('{"something": "else"}\n')
    with pytest.raises(RunDirectoryError, match="not a switchlab calls journal"):
        read_calls_journal(p)
    p.write_text("")
    with pytest.raises(RunDirectoryError, match="empty"):
        read_calls_journal(p)


def _journal_run(tmp_path: Path, rows: list[dict]) -> Path:
    from switchlab.measure import Run
    d = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    with Run({}, directory=d) as run:
        for r in rows:
            run.add_row(r)
    return d


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({
    "call_id": st.one_of(st.none(), st.text(min_size=1, max_size=12)),
    "host": st.one_of(st.none(), st.sampled_from(["fs1", "null", 'a"b', "x,y]", "ü\\n"])),
    "app": st.one_of(st.none(), st.text(min_size=1, max_size=5)),
    "caller_create": st.one_of(st.none(), st.integers(1, 2**53)),
    "sip_code": st.one_of(st.none(), st.integers(100, 699)),
    "rx_launch": st.one_of(st.none(), st.floats(-1e9, 1e9)),
    "failed": st.booleans(),
}), min_size=1, max_size=20))
def test_journal_recovery_is_exact_for_any_strings(tmp_path_factory, rows: list[dict]) -> None:
    """Both journal readers (the Arrow CSV fast path and the json fallback, taken
    when a value needed a backslash escape) give back exactly what was recorded."""
    from switchlab.measure import Run
    d = _journal_run(tmp_path_factory.mktemp("j"), rows)
    live = Run({})
    for r in rows:
        live.add_row(r)
    back = load(d).df
    expected = live.df
    for col in ("call_id", "host", "app", "caller_create", "sip_code", "rx_launch", "failed"):
        got = [None if pd.isna(v) else v for v in back[col].tolist()]
        exp = [None if pd.isna(v) else v for v in expected[col].tolist()]
        assert got == exp, col


def test_fast_and_fallback_readers_agree(tmp_path: Path) -> None:
    from switchlab.measure.frame import journal_arrow_types
    from switchlab.measure.journal import read_calls_table
    rows = [{"call_id": f"c{i}", "host": "fs1", "caller_create": 1_000_000 + i,
             "sip_code": 486 if i % 2 else None, "failed": bool(i % 2)} for i in range(50)]
    d = _journal_run(tmp_path, rows)
    _, fast = read_calls_table(d / "calls.jsonl", journal_arrow_types())
    with open(d / "calls.jsonl", "ab") as f:          # one escaped value forces json
        ncol = len(json.loads((d / "calls.jsonl").read_text().split("\n")[0])["columns"])
        f.write(json.dumps([None, 'c"50'] + [None] * (ncol - 2)).encode() + b"\n")
    _, slow = read_calls_table(d / "calls.jsonl", journal_arrow_types())
    assert slow.num_rows == 51 and slow.column("call_id")[50].as_py() == 'c"50'
    assert slow.slice(0, 50).equals(fast)


def test_row_with_wrong_value_count_is_skipped_with_a_warning(tmp_path: Path) -> None:
    d = _journal_run(tmp_path, [{"call_id": "a"}, {"call_id": "b"}])
    lines = (d / "calls.jsonl").read_bytes().split(b"\n")
    lines.insert(2, b'["r","x",1]')
    (d / "calls.jsonl").write_bytes(b"\n".join(lines))
    with pytest.warns(JournalWarning, match="1 unreadable row line"):
        back = load(d)
    assert back.df["call_id"].tolist() == ["a", "b"]
