"""How the measurement layer scales: 1 M call rows.

Feeds N synthetic rows (3 hosts on a 20 ms FreeSWITCH tick, 2 apps, a
realistic failure mix, 1000 calls/s) through ``Run.add_row`` with the
append-only journal on, then times building the typed DataFrame, the KPI
tables, the 1 s time series, saving Parquet and recovering from the journal.
Prints the figures and writes them to ``data/bench/measure_scale.json``.

    .venv/bin/python benchmarks/measure_scale.py [--rows 1000000]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from switchlab.measure import Run, load

TICK = 20_000
T0 = 1_795_694_067_000_000
CAUSES = ["NORMAL_CLEARING", "USER_BUSY", "NO_ANSWER", "NORMAL_TEMPORARY_FAILURE",
          "RECOVERY_ON_TIMER_EXPIRE"]
SIP = [None, 486, 487, 503, 408]
CAUSE_P = [0.95, 0.02, 0.015, 0.01, 0.005]


def synthetic_rows(n: int, seed: int = 0):
    """Rows as the recorder would produce them (plain Python values)."""
    rng = np.random.default_rng(seed)
    launch = T0 + np.arange(n) * 1000 + rng.integers(0, 300, n)           # 1000 cps
    create = (launch + 700) // TICK * TICK + 680
    pdd = TICK * rng.integers(1, 4, n)
    setup = TICK * np.maximum(1, np.round(rng.gamma(4, 0.03, n) * 1e6 / TICK)).astype(np.int64)
    hold = TICK * rng.integers(50, 1500, n)                               # 1..30 s
    cause = rng.choice(len(CAUSES), n, p=CAUSE_P)
    host = rng.integers(0, 3, n)
    app = rng.integers(0, 2, n)
    cols = [x.tolist() for x in (launch, create, pdd, setup, hold, cause, host, app)]
    for i, (la, cr, pd_, su, ho, ca, h, a) in enumerate(zip(*cols)):
        ok = ca == 0
        rx = 1000.0 + (la - T0) / 1e6
        row = {"call_id": f"{i:08x}-4970-47c8-beee-0eb783d7ae3e", "host": f"fs{h}",
               "app": "TonePlay" if a else "Bert", "dest": "answer", "launch": la,
               "job_done": la + 40_000, "caller_create": cr, "caller_progress": cr + pd_,
               "callee_create": cr + TICK, "rx_launch": rx, "rx_job": rx + 0.04,
               "rx_caller_create": rx + 0.002, "hangup_cause": CAUSES[ca], "sip_code": SIP[ca],
               "failed": not ok, "active_calls": 5000.0, "erlangs": 4900.0,
               "target_rate": 1000.0}
        if ok:
            ans = cr + su
            row.update(caller_answer=ans, callee_answer=ans - TICK, caller_hangup=ans + ho,
                       callee_hangup=ans + ho + TICK, rx_caller_answer=rx + su / 1e6,
                       rx_caller_hangup=rx + (su + ho) / 1e6, hangup_side="local",
                       hangup_disposition="send_bye")
        else:
            row.update(caller_hangup=cr + pd_ + TICK, rx_caller_hangup=rx + 0.1,
                       hangup_side="callee", hangup_disposition="recv_refuse")
        yield row


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default=str(REPO / "data" / "bench" / "measure_scale.json"))
    args = ap.parse_args()
    n = args.rows
    proc = psutil.Process()
    res: dict = {"rows": n, "python": platform.python_version(), "machine": platform.machine(),
                 "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        rundir = Path(tmp) / "run"
        gc.collect()
        rss0 = proc.memory_info().rss
        run = Run({"rate": 1000, "limit": 5000, "dest": "answer"}, directory=rundir)
        rows = synthetic_rows(n)
        t = time.perf_counter()
        for row in rows:
            run.add_row(row)
        fill = time.perf_counter() - t
        gc.collect()
        rss1 = proc.memory_info().rss
        run.close()
        _, gen = timed(lambda: sum(1 for _ in synthetic_rows(n)))
        res["add_row_us_per_row"] = (fill - gen) / n * 1e6      # journal on, generation excluded
        res["store_bytes_per_row"] = run.store_nbytes / n
        res["rss_bytes_per_row"] = (rss1 - rss0) / n
        res["journal_bytes_per_row"] = (rundir / "calls.jsonl").stat().st_size / n

        df, res["dataframe_s"] = timed(lambda: run.df)
        res["dataframe_bytes_per_row"] = int(df.memory_usage(deep=True).sum()) / n
        k, res["kpis_s"] = timed(lambda: df.calls.kpis())
        _, res["kpis_by_host_s"] = timed(lambda: df.calls.kpis(by="host"))
        _, res["kpis_by_app_host_s"] = timed(lambda: df.calls.kpis(by=["app", "host"]))
        _, res["failures_s"] = timed(lambda: df.calls.failures(["hangup_cause", "sip_code"]))
        ts, res["timeseries_1s_s"] = timed(lambda: df.calls.timeseries("1s"))
        res["dataframe_plus_kpis_s"] = res["dataframe_s"] + res["kpis_s"]
        res["tick"] = run.tick.label
        res["asr"] = float(k.loc["all", "asr"])
        res["setup_p95_s"] = float(k.loc["all", "setup_latency.p95"])
        res["timeseries_windows"] = len(ts)
        _, res["save_parquet_s"] = timed(lambda: run.save())
        res["parquet_bytes_per_row"] = (rundir / "calls.parquet").stat().st_size / n
        (rundir / "calls.parquet").unlink()                  # force the recovery path
        back, res["recover_from_journal_s"] = timed(lambda: load(rundir).df)
        assert len(back) == n
        run.save(Path(tmp) / "copy")
        _, res["load_parquet_s"] = timed(lambda: load(Path(tmp) / "copy").df)
    for key, value in res.items():
        print(f"{key:40s} {value:.4g}" if isinstance(value, float) else f"{key:40s} {value}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
