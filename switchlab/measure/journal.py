"""Append-only JSON Lines journals that survive a killed process.

Each record is one line written with a single ``os.write`` on a file opened
``O_APPEND``: once :meth:`Journal.append` returns, the line is in the kernel's
page cache, so a SIGKILL, a crashed kernel or ``os._exit`` loses nothing that
was appended (``fsync=True`` also survives a power cut, at a cost of a disk
flush per record). A process killed in the middle of a write can leave a
torn last line; :func:`read_journal` drops it with a warning.

The calls journal (``calls.jsonl``) starts with a header object naming the
columns, then holds one JSON array per row, in that column order. The run
log (``log.jsonl``) holds one JSON object per entry.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from ..errors import RunDirectoryError

CALLS_FORMAT = "switchlab-calls"


class JournalWarning(UserWarning):
    """A journal had a torn or unreadable line; it was skipped."""


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Journal:
    """One append-only JSON Lines file.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> with Journal(p) as j:
    ...     j.append({"kind": "state", "message": "ORIGINATING"})
    >>> read_journal(p)
    [{'kind': 'state', 'message': 'ORIGINATING'}]
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._fd: int | None = None
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                                           0o644)
        except OSError as exc:
            raise RunDirectoryError(
                f"cannot open {self.path} for appending: {exc.strerror}; choose a writable "
                "run directory") from None
        # a previous writer killed mid-line: start on a fresh line
        if os.fstat(self._fd).st_size:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    @property
    def closed(self) -> bool:
        return self._fd is None

    def append_line(self, text: str) -> None:
        """Append one line (``text`` must not contain a newline)."""
        fd = self._fd
        if fd is None:
            raise RunDirectoryError(f"journal {self.path} is closed")
        data = (text + "\n").encode("utf-8")
        view = memoryview(data)
        while view:  # a regular file writes it all at once; loop for safety
            n = os.write(fd, view)
            view = view[n:]
        if self.fsync:
            os.fsync(fd)

    def append(self, record: Any) -> None:
        """Append one JSON value (NaN/inf floats become null)."""
        if isinstance(record, list):
            record = [_clean(v) for v in record]
        elif isinstance(record, dict):
            record = {k: _clean(v) for k, v in record.items()}
        self.append_line(json.dumps(record, separators=(",", ":"), ensure_ascii=False,
                                    default=str))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown
        with contextlib.suppress(OSError):
            self.close()


class CallsJournal(Journal):
    """The per-call journal: a header line, then one array per row."""

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str], *,
                 schema_version: int, fsync: bool = False) -> None:
        super().__init__(path, fsync=fsync)
        self.columns = tuple(columns)
        if os.fstat(self._fd).st_size == 0:  # type: ignore[arg-type]
            self.append({"format": CALLS_FORMAT, "schema_version": schema_version,
                         "columns": list(self.columns)})

    def append_row(self, row: dict[str, Any]) -> None:
        get = row.get
        self.append([get(c) for c in self.columns])


def _complete_end(data: bytes, path: Path) -> int:
    """Where the complete lines end; warns about a torn last line."""
    end = data.rfind(b"\n") + 1
    torn = len(data) - end
    if torn:
        warnings.warn(
            f"{path}: the last line is torn ({torn} bytes, the writer was killed mid-write); "
            "it was skipped", JournalWarning, stacklevel=4)
    return end


def _lines(data: bytes) -> list[bytes]:
    return [ln for ln in data.split(b"\n") if ln.strip()]


def _parse_lines(lines: list[bytes], path: Path, first_line: int) -> list[Any]:
    try:  # fast path: one parse for everything
        return json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        pass
    out = []
    for i, line in enumerate(lines):
        try:
            out.append(json.loads(line))
        except ValueError:
            warnings.warn(f"{path}: line {first_line + i} is not valid JSON "
                          f"({line[:60]!r}...); it was skipped", JournalWarning, stacklevel=4)
    return out


def read_journal(path: str | os.PathLike[str]) -> list[Any]:
    """Every complete record of a JSON Lines journal (torn or bad lines are
    skipped with a :class:`JournalWarning`, never an exception)."""
    p = Path(path)
    data = p.read_bytes()
    return _parse_lines(_lines(data[:_complete_end(data, p)]), p, 1)


def _split_calls(path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any], bytes]:
    """``(path, header, body)``: the header and the complete row lines' bytes."""
    p = Path(path)
    data = p.read_bytes()
    end = _complete_end(data, p)
    first = data.find(b"\n", 0, end)
    if first < 0:
        raise RunDirectoryError(f"{p} is empty: the run recorded no header; it holds no calls")
    try:
        header = json.loads(data[:first])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != CALLS_FORMAT or not isinstance(
            header.get("columns"), list):
        raise RunDirectoryError(f"{p} is not a switchlab calls journal (bad first line)")
    return p, header, data[first + 1:end]


def _json_rows(lines: list[bytes], p: Path, ncol: int) -> list[list[Any]]:
    rows = [r for r in _parse_lines(lines, p, 2) if isinstance(r, list)]
    good = [r for r in rows if len(r) == ncol]
    if len(good) != len(rows):
        warnings.warn(f"{p}: {len(rows) - len(good)} row(s) with the wrong number of values "
                      "were skipped", JournalWarning, stacklevel=3)
    return good


def read_calls_journal(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[list[Any]]]:
    """``(header, rows)`` of a calls journal; rows are lists in header column order."""
    p, header, body = _split_calls(path)
    return header, _json_rows(_lines(body), p, len(header["columns"]))


def read_calls_table(path: str | os.PathLike[str], types: Mapping[str, pa.DataType]
                     ) -> tuple[dict[str, Any], pa.Table]:
    """``(header, table)`` of a calls journal as an Arrow table with ``types``
    (column → Arrow type; columns missing from ``types`` are dropped).

    Journal lines are JSON arrays of scalars, so without any backslash escape
    in the file each line minus its brackets is a CSV record (JSON strings
    are double-quoted, ``null`` is the null marker) and Arrow's multi-threaded
    CSV reader parses a million rows in about a second. Otherwise, or when
    that parse does not account for every line, the lines go through
    :mod:`json` one by one (bad ones skipped with a warning).
    """
    p, header, body = _split_calls(path)
    cols = [str(c) for c in header["columns"]]
    keep = [c for c in cols if c in types]
    if b"\\" not in body:
        table = _csv_whole(body, cols, types)
        if table is not None:
            return header, table
    lines = _lines(body)
    if b"\\" not in body:
        table = _csv_lines(lines, cols, types, p)
        if table is not None:
            return header, table
    rows = _json_rows(lines, p, len(cols))
    columns = list(zip(*rows)) if rows else [()] * len(cols)
    index = {c: i for i, c in enumerate(cols)}
    return header, pa.table({c: pa.array(list(columns[index[c]]), type=types[c])
                             for c in keep})


def _skip_into(skipped: list[Any]) -> Callable[[Any], str]:
    """An ``invalid_row_handler`` that skips a malformed row and keeps it in ``skipped``."""
    def skip(row: Any) -> str:
        skipped.append(row)
        return "skip"
    return skip


def _read_csv(data: bytes, cols: list[str], types: Mapping[str, pa.DataType],
              invalid: Callable[[Any], str]) -> pa.Table | None:
    try:
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=cols),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=invalid),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: t for c, t in types.items() if c in cols},
                include_columns=[c for c in cols if c in types],
                null_values=["null"], strings_can_be_null=True,
                quoted_strings_can_be_null=False, true_values=["true"],
                false_values=["false"]))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _csv_whole(body: bytes, cols: list[str], types: Mapping[str, pa.DataType]
               ) -> pa.Table | None:
    """Every line well formed (``[...]``): strip the brackets of the whole
    buffer at once; the result must have exactly one row per line."""
    buf = np.frombuffer(body, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    n = nl.size
    if n == 0 or buf[0] != 91 or nl[0] < 1 or not (buf[nl - 1] == 93).all() \
            or not (buf[nl[:-1] + 1] == 91).all():
        return None
    drop = np.zeros(buf.size, dtype=bool)       # the brackets around every line
    drop[0] = True
    drop[nl - 1] = True
    drop[nl[:-1] + 1] = True
    skipped: list[Any] = []
    table = _read_csv(buf[~drop].tobytes(), cols, types, _skip_into(skipped))
    if table is None or skipped or table.num_rows != n:
        return None
    return table


def _csv_lines(lines: list[bytes], cols: list[str], types: Mapping[str, pa.DataType],
               p: Path) -> pa.Table | None:
    """Line by line: drop lines that are not ``[...]`` with balanced quotes."""
    ok = [ln[1:-1] for ln in lines
          if ln[:1] == b"[" and ln[-1:] == b"]" and not ln.count(b'"') % 2]
    if not ok:
        return None
    skipped: list[Any] = []
    table = _read_csv(b"\n".join(ok) + b"\n", cols, types, _skip_into(skipped))
    if table is None or table.num_rows + len(skipped) != len(ok):
        return None
    bad = len(lines) - len(ok) + len(skipped)
    if bad:
        warnings.warn(f"{p}: {bad} unreadable row line(s) were skipped (a torn write, or a "
                      f"line with the wrong number of values; {len(cols)} expected)",
                      JournalWarning, stacklevel=3)
    return table
