"""Host outages and launches not offered, read from a run's event log.

The originator logs, per host: ``host_down`` when its event socket drops,
``host_up`` when it is back (``data``: ``start``, ``end``, ``restarted``: a new
Core-UUID, i.e. FreeSWITCH restarted) or ``host_given_up`` when it stayed down
past the deadline (``data``: ``start``, ``end``). Launches due while no host
was up are logged as ``not_offered`` entries (``data``: ``count``). The event
log is saved with the run, so these survive ``save()``/``load()``.

>>> events = [
...     {"time": 10.0, "kind": "host_down", "message": "connection lost", "data": {"host": "a:8021"}},
...     {"time": 13.0, "kind": "host_up", "message": "back", "data": {"host": "a:8021",
...      "start": 10.0, "end": 13.0, "restarted": True}},
...     {"time": 14.0, "kind": "not_offered", "message": "", "data": {"count": 5}}]
>>> df = outages_frame(events)
>>> df[["host", "duration", "reason", "restarted", "given_up"]].to_dict("records")
[{'host': 'a:8021', 'duration': 3.0, 'reason': 'connection lost', 'restarted': True, 'given_up': False}]
>>> not_offered_count(events)
5
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = ["HOST_DOWN", "HOST_GIVEN_UP", "HOST_UP", "NOT_OFFERED", "OUTAGE_COLUMNS",
           "not_offered_count", "outage_records", "outages_frame"]

HOST_DOWN = "host_down"
HOST_UP = "host_up"
HOST_GIVEN_UP = "host_given_up"
NOT_OFFERED = "not_offered"

#: the columns of :func:`outages_frame`
OUTAGE_COLUMNS = ("host", "start", "end", "duration", "reason", "restarted", "given_up")


def outages_frame(events: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per host outage: ``host``, ``start``/``end`` (UTC timestamps;
    ``end`` NaT while still down when the run ended), ``duration`` (s, NaN if
    open), ``reason`` (why it dropped), ``restarted`` (came back with a new
    Core-UUID), ``given_up`` (stayed down past the deadline)."""
    rows = outage_records(events)
    df = pd.DataFrame(rows, columns=[c for c in OUTAGE_COLUMNS if c != "duration"])
    start = pd.to_numeric(df["start"], errors="coerce").astype("float64")
    end = pd.to_numeric(df["end"], errors="coerce").astype("float64")
    df["start"] = pd.to_datetime(start, unit="s", utc=True)
    df["end"] = pd.to_datetime(end, unit="s", utc=True)
    df["duration"] = end - start
    df["restarted"] = df["restarted"].astype(bool)
    df["given_up"] = df["given_up"].astype(bool)
    df["host"] = df["host"].astype("string")
    df["reason"] = df["reason"].astype("string")
    return df[list(OUTAGE_COLUMNS)]


def outage_records(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The outages as plain dicts (times: Unix seconds, ``end`` None while open),
    as written in ``run.json`` under ``outages``."""
    rows: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for ev in events:
        kind = ev.get("kind")
        data = ev.get("data") or {}
        host = data.get("host")
        if kind == HOST_DOWN and host is not None:
            row = {"host": host, "start": float(ev["time"]), "end": None,
                   "reason": str(ev.get("message", "")), "restarted": False, "given_up": False}
            open_[host] = row
            rows.append(row)
        elif kind in (HOST_UP, HOST_GIVEN_UP) and host is not None:
            found = open_.pop(host, None)
            if found is not None:
                row = found
            else:  # the down entry is missing: rebuild from the data
                row = {"host": host, "start": float(data.get("start", ev["time"])), "end": None,
                       "reason": "", "restarted": False, "given_up": False}
                rows.append(row)
            row["end"] = float(data.get("end", ev["time"]))
            row["restarted"] = bool(data.get("restarted", False))
            row["given_up"] = kind == HOST_GIVEN_UP
    return rows


def not_offered_count(events: Iterable[Mapping[str, Any]]) -> int:
    """Launches that were due while no host was up (sum of ``not_offered`` entries)."""
    return sum(int((ev.get("data") or {}).get("count", 0)) for ev in events
               if ev.get("kind") == NOT_OFFERED)
