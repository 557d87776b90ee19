"""``switchlab dial --workers N`` / ``--scheduler``: a subprocess, its output, exit code, run."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from switchlab.measure import load
from switchlab.sim import DUTModel

pytest.importorskip("distributed")


def dial(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchlab.cli", "dial", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_dial_workers_sim_one_run_from_two_shards(tmp_path):
    run_dir = tmp_path / "run"
    res = dial("--sim", "--workers", "2", "--rate", "30", "--limit", "20", "--max-offered",
               "60", "--duration", "0.2", "--metrics-file", str(run_dir), "--no-progress",
               "--interval", "0.5", "--check", "asr>=0.5", "--loop", "asyncio",
               "--sim-seed", "32")
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert len(re.findall(r"^Shard [01] on Dask worker tcp://127\.0\.0\.1:\d+: 1 host\(s\)",
                          out, re.M)) == 2
    assert "using 2 shards" in out and "Dialing session completed!" in out
    progress = re.findall(r"^(?:INITIAL|ORIGINATING|STOPPED)\s+offered=(\d+) ", out, re.M)
    assert len(progress) >= 2  # the aggregated status, every 0.5 s
    assert "Stored the run (60 calls, 2 shards)" in out
    df = load(run_dir).df
    assert len(df) == 60 and sorted(df["shard"].astype(str).unique()) == ["0", "1"]
    shards = json.loads((run_dir / "run.json").read_text())["params"]["shards"]
    assert [sh["loop"] for sh in shards] == ["asyncio", "asyncio"]  # --loop reached the shards
    # --sim-seed reached the shards: shard i's DUT is seeded 32 + i (seeds 32 and 33 refuse
    # 2 and 1 of their 30 calls), its calls fail as that DUT plans them, in launch order
    for shard, rows in df.sort_values("launch").groupby(df["shard"].astype(str)):
        dut = DUTModel(seed=32 + int(shard))
        assert list(rows["failed"]) == [dut.plan().kind != "answer" for _ in range(len(rows))]


@pytest.mark.parametrize("args, message", [
    (("--sim", "--workers", "0"), "--workers 0: give a whole number"),
    (("--sim", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"), "give one of them"),
    (("--sim", "--scheduler", "not an address"), "--scheduler 'not an address'"),
    (("127.0.0.1:8021", "127.0.0.1:8022", "--workers", "3"), "every worker needs"),
    (("--sim", "--scheduler", "tcp://127.0.0.1:9"), "no Dask scheduler answered"),
])
def test_dial_scale_bad_input_exits_2(args, message):
    res = dial(*args, "--rate", "5", "--max-offered", "5", timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_dial_workers_unreachable_host_exits_2():
    """A host no shard can reach: one line, exit 2, and the LocalCluster is gone."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = dial(f"127.0.0.1:{port}", "--workers", "1", "--rate", "5", "--max-offered", "5",
               timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], res.stderr
