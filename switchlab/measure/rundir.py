"""The files of a run directory: what :class:`~switchlab.measure.Run` writes and reads.

A run directory holds ``run.json`` (metadata), ``calls.jsonl`` (the
append-only per-call journal, one line per finished call, written as the call
finishes), ``log.jsonl`` (event log and retunes, append-only), and after
``run.save()`` ``calls.parquet`` and ``timeseries.parquet``. A run whose
process was killed reads back from its journals.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import RunDirectoryError
from .frame import coerce_frame, empty_frame, frame_from_arrow, journal_arrow_types
from .journal import CallsJournal, Journal, JournalWarning, read_calls_table, read_journal
from .schema import COLUMNS, SCHEMA_VERSION, column_names, register_saved_columns

META_FILE = "run.json"
CALLS_JOURNAL = "calls.jsonl"
LOG_JOURNAL = "log.jsonl"
CALLS_PARQUET = "calls.parquet"
TIMESERIES_PARQUET = "timeseries.parquet"
RUN_FORMAT = "switchlab-run"


def now_iso(t: float | None = None) -> str:
    return _dt.datetime.fromtimestamp(time.time() if t is None else t,
                                      _dt.UTC).isoformat(timespec="microseconds")


def new_run_id() -> str:
    """``20260512T101500Z-3f2a9c``: UTC start time and a random suffix."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def jsonable(value: Any) -> Any:
    """Parameters as JSON: numbers/str/bool/None/lists/dicts kept, numpy scalars
    unwrapped, anything else (callables, load shapes...) as its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


def make_directory(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirectoryError(f"cannot create run directory {path}: {exc.strerror}") \
            from None


def open_journals(path: Path, fsync: bool) -> tuple[CallsJournal, Journal]:
    """Start a run in ``path`` (created if missing; refused if it holds a run):
    its calls and log journals."""
    make_directory(path)
    taken = [n for n in (META_FILE, CALLS_JOURNAL, CALLS_PARQUET) if (path / n).exists()]
    if taken:
        raise RunDirectoryError(
            f"{path} already holds a run ({', '.join(taken)}); choose a new directory "
            "or delete the old run first")
    calls = CallsJournal(path / CALLS_JOURNAL, column_names(), schema_version=SCHEMA_VERSION,
                         fsync=fsync)
    return calls, Journal(path / LOG_JOURNAL, fsync=fsync)


def write_meta(path: Path, meta: dict[str, Any], saved: bool,
               journal_bytes: int | None = None) -> None:
    """Write ``run.json`` atomically."""
    meta = {**meta, "saved": now_iso() if saved else None, "journal_bytes": journal_bytes}
    tmp = path / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path / META_FILE)


def journal_size(path: Path) -> int | None:
    journal = path / CALLS_JOURNAL
    return journal.stat().st_size if journal.exists() else None


def write_parquet(path: Path, calls: pd.DataFrame, ts: pd.DataFrame) -> None:
    """Write ``calls.parquet`` and ``timeseries.parquet`` (each atomically)."""
    for name, frame, index in ((CALLS_PARQUET, calls, False), (TIMESERIES_PARQUET, ts, True)):
        tmp = path / (name + ".tmp")
        frame.to_parquet(tmp, engine="pyarrow", index=index)
        os.replace(tmp, path / name)


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A per-call CSV written by ``run.to_csv``, with the typed dtypes back."""
    return coerce_frame(pd.read_csv(path, low_memory=False))


def _frame_from_journal(path: Path) -> pd.DataFrame:
    header, table = read_calls_table(path, journal_arrow_types())
    unknown = [c for c in header["columns"] if c not in COLUMNS]
    if unknown:
        warnings.warn(f"{path}: columns {unknown} are not in this switchlab's schema; "
                      "they were dropped", JournalWarning, stacklevel=4)
    return frame_from_arrow(table)


def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / META_FILE
    if not meta_path.exists():
        return {}
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunDirectoryError(f"{meta_path} is not valid JSON ({exc})") from None
    if meta.get("format") != RUN_FORMAT:
        raise RunDirectoryError(f"{meta_path} is not switchlab run metadata")
    if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
        raise RunDirectoryError(
            f"{path} was written with row schema {meta['schema_version']}, newer than this "
            f"switchlab's ({SCHEMA_VERSION}); upgrade switchlab to open it")
    return meta


@dataclass
class RunFiles:
    """What a run directory holds: metadata, rows, retunes and event log."""

    meta: dict[str, Any]
    df: pd.DataFrame
    retunes: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run_id(self) -> str | None:
        return self.meta.get("run_id")


def read_run_files(path: Path) -> RunFiles:
    """Read a run directory (saved, or recovered from its journals)."""
    if not path.is_dir():
        raise RunDirectoryError(f"{path} is not a directory; pass the run directory "
                                "(the one holding run.json and calls.jsonl)")
    meta = _read_meta(path)
    register_saved_columns(meta.get("app_columns"))
    parquet, journal = path / CALLS_PARQUET, path / CALLS_JOURNAL
    use_parquet = parquet.exists() and (
        not journal.exists() or meta.get("journal_bytes") in (None, journal.stat().st_size))
    if use_parquet:
        df = coerce_frame(pd.read_parquet(parquet, engine="pyarrow"))
    elif journal.exists():
        df = _frame_from_journal(journal)
    elif meta:
        df = empty_frame()
    else:
        raise RunDirectoryError(f"{path} holds no run: no {META_FILE}, {CALLS_PARQUET} "
                                f"or {CALLS_JOURNAL}")
    files = RunFiles(meta, df, list(meta.get("retunes") or []), list(meta.get("events") or []))
    log_path = path / LOG_JOURNAL
    if log_path.exists():  # the journal is complete even when run.json is not
        retunes, events = [], []
        for entry in read_journal(log_path):
            if not isinstance(entry, dict):
                continue
            if entry.get("kind") == "retune":
                retunes.append({k: v for k, v in entry.items() if k != "kind"})
            else:
                events.append(entry)
        files.retunes, files.events = retunes, events
    return files
