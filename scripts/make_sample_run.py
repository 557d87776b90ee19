#!/usr/bin/env python3
"""Regenerate ``data/sample_run``: the run the notebooks open without a server.

The demo scenario (:func:`switchlab.demo.run_demo`): two emulated FreeSWITCH
hosts calling themselves back through an emulated DUT (capacity 300 calls,
a latency knee, ~2 % busy, ~1 % unavailable / not found / temporarily
unavailable, some unanswered calls), ramped from 10 % to the peak rate so the
top of the ramp meets the DUT's capacity (503 congestion). About
``(peak / 10 + peak) / 2 * seconds`` calls: ~2,750 with the defaults.

Saved as Parquet + JSON only (no journals), well under 1 MB.

    .venv/bin/python scripts/make_sample_run.py [--out data/sample_run] [--seconds 50]
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from switchlab.demo import run_demo

#: the sample run must stay small enough to live in the repository
MAX_BYTES = 1_000_000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "sample_run")
    ap.add_argument("--seconds", type=float, default=50.0, help="length of the ramp")
    ap.add_argument("--peak-rate", type=float, default=100.0, help="calls/s at the top")
    ap.add_argument("--hold", type=float, default=3.0, help="seconds each answered call is held")
    ap.add_argument("--seed", type=int, default=2026, help="DUT random seed")
    args = ap.parse_args(argv)

    out: Path = args.out
    if out.exists():
        if not (out / "run.json").exists():
            print(f"{out} exists and is not a switchlab run directory; choose another --out",
                  file=sys.stderr)
            return 2
        shutil.rmtree(out)
    print(f"recording: ramp to {args.peak_rate:g} calls/s over {args.seconds:g} s, "
          f"calls held {args.hold:g} s ...", flush=True)
    run = asyncio.run(run_demo(seconds=args.seconds, peak_rate=args.peak_rate,
                               hold=args.hold, seed=args.seed, out=None))
    run.params["recorded_by"] = "scripts/make_sample_run.py"
    run.save(out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    df = run.df
    causes = df.loc[df.failed, "hangup_cause"].value_counts()
    print(f"{len(df):,} calls, {int(df.failed.sum()):,} failed, tick {run.tick.label}; "
          f"{size / 1e3:.0f} kB in {out}")
    print(causes[causes > 0].to_string())
    if size > MAX_BYTES:
        print(f"the sample run is {size:,} bytes, over {MAX_BYTES:,}: use fewer --seconds",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
