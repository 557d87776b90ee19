"""Run the atheris fuzz targets for a bounded time each; exit 1 on any crash.

    .venv/bin/pip install -e '.[fuzz]'                  # atheris
    .venv/bin/python fuzz/run.py                         # both targets, 60 s each
    .venv/bin/python fuzz/run.py --seconds 300 --only frames
    .venv/bin/python fuzz/run.py --work /tmp/fz --rss-limit-mb 1024

Each target runs in its own process (libFuzzer via atheris) with
``-max_total_time``, ``-rss_limit_mb`` (exceeding it is a crash: memory must
stay bounded) and ``-timeout`` per input. The corpus starts from the seeds of
fuzz/seeds.py (the FreeSWITCH transcripts) in ``--work``/corpus/TARGET, which
keeps growing across runs; crash inputs are written to ``--work``/artifacts/.
Prints executions, coverage and crashes per target.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from fuzz.seeds import write_corpus  # noqa: E402

TARGETS = {"frames": HERE / "fuzz_frames.py", "commands": HERE / "fuzz_commands.py"}
_DONE = re.compile(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
_STAT = re.compile(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")


def run_target(name: str, seconds: int, work: Path, rss_limit_mb: int, timeout_s: int,
               max_len: int) -> dict[str, object]:
    """Run one target; returns its figures (``crashed`` True on any failure)."""
    corpus = work / "corpus" / name
    artifacts = work / "artifacts" / name
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    cmd = [sys.executable, str(TARGETS[name]), str(corpus), f"-max_total_time={seconds}",
           f"-rss_limit_mb={rss_limit_mb}", f"-timeout={timeout_s}", f"-max_len={max_len}",
           f"-artifact_prefix={artifacts}/", "-print_final_stats=1"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    # the wall-clock bound: libFuzzer stops itself at max_total_time; this is the backstop
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=seconds + 120)
        out, rc = proc.stderr + proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) \
            else str(exc.stderr or "")
        rc = -1
    elapsed = time.monotonic() - t0
    stats = _DONE.findall(out) or _STAT.findall(out)
    execs, cov, ft, corp = (int(x) for x in stats[-1]) if stats else (0, 0, 0, 0)
    units = re.findall(r"stat::number_of_executed_units:\s*(\d+)", out)
    if units:  # -print_final_stats: exact, also after a crash
        execs = int(units[-1])
    rss = re.findall(r"rss: (\d+)Mb", out) + re.findall(r"stat::peak_rss_mb:\s*(\d+)", out)
    new_artifacts = sorted(set(artifacts.iterdir()) - before)
    crashed = rc != 0 or bool(new_artifacts)
    return {"target": name, "seconds": round(elapsed, 1), "executions": execs,
            "exec_per_s": round(execs / elapsed, 1) if elapsed else 0.0, "coverage": cov,
            "features": ft, "corpus": corp, "max_rss_mb": max((int(r) for r in rss), default=0),
            "crashed": crashed, "exit_code": rc, "artifacts": [str(p) for p in new_artifacts],
            "tail": out[-3000:] if crashed else ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60, help="fuzzing time per target (60)")
    ap.add_argument("--only", choices=sorted(TARGETS), action="append",
                    help="run only this target (repeatable)")
    ap.add_argument("--work", type=Path, default=None,
                    help="corpus and crash directory (default: a new temporary directory)")
    ap.add_argument("--rss-limit-mb", type=int, default=2048)
    ap.add_argument("--timeout", type=int, default=10, help="seconds allowed per input")
    ap.add_argument("--max-len", type=int, default=16384, help="largest input in bytes")
    args = ap.parse_args(argv)
    if args.seconds <= 0:
        ap.error("--seconds must be positive")
    work = args.work or Path(tempfile.mkdtemp(prefix="switchlab-fuzz-"))
    write_corpus(work / "corpus")
    failed = False
    print(f"{'target':10} {'seconds':>8} {'execs':>9} {'exec/s':>8} {'cov':>6} {'ft':>6} "
          f"{'corpus':>7} {'rss MB':>7}  result")
    for name in args.only or sorted(TARGETS):
        r = run_target(name, args.seconds, work, args.rss_limit_mb, args.timeout, args.max_len)
        result = "CRASH" if r["crashed"] else "ok"
        print(f"{name:10} {r['seconds']:>8} {r['executions']:>9} {r['exec_per_s']:>8} "
              f"{r['coverage']:>6} {r['features']:>6} {r['corpus']:>7} {r['max_rss_mb']:>7}  "
              f"{result}", flush=True)
        if r["crashed"]:
            failed = True
            print(r["tail"], file=sys.stderr)
            for a in r["artifacts"]:  # type: ignore[attr-defined]
                print(f"crash input: {a}", file=sys.stderr)
    print(f"corpus and artifacts in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
