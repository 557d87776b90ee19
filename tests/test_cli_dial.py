"""``switchlab dial`` as a user runs it: a subprocess, its output and exit code."""
from __future__ import annotations

import subprocess
import sys

import pytest

from switchlab.measure import load


def dial(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchlab.cli", "dial", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_dial_sim_writes_the_run_and_prints_the_seed_lines(tmp_path):
    run_dir = tmp_path / "run"
    res = dial("--sim", "--rate", "40", "--limit", "20", "--max-offered", "60",
               "--duration", "0.2", "--metrics-file", str(run_dir), "--csv",
               "--check", "asr>=0.5", "--check", "setup_latency.p95<2s")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Slave 127.0.0.1 SIP address is at 127.0.0.1:" in out
    assert "Starting load test for server 127.0.0.1:5070 at 40cps using 1 slaves" in out
    assert "<Originator: active-calls=" in out and "state=STOPPED" in out
    assert out.rstrip().endswith("Dialing session completed!")
    assert "Traceback" not in res.stderr
    run = load(run_dir)
    assert len(run.df) == 60
    assert run.params["rate"] == 40 and run.params["limit"] == 20
    assert (run_dir / "calls.csv").exists()
    # not a tty: plain periodic progress lines
    assert "offered=" in out


def test_failed_threshold_gives_exit_code_1(tmp_path):
    res = dial("--sim", "--rate", "50", "--limit", "10", "--max-offered", "10",
               "--duration", "0.05", "--check", "asr>1.0")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "FAIL asr" in res.stdout


@pytest.mark.parametrize("args, message", [
    (("127.0.0.1:1",), "cannot connect"),
    (("no-such-host.invalid",), "no-such-host.invalid:8021"),
    (("--sim", "--check", "asr>>1"), "check"),
    (("--sim", "--app", "NoSuchApp"), "unknown app"),
    ((), "at least one FreeSWITCH host"),
])
def test_setup_errors_are_one_line_with_exit_code_2(args, message):
    res = dial(*args, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_bad_password_and_missing_profile(fshost):
    res = dial(fshost, "--password", "WrongPassword")
    assert res.returncode == 2 and "--password" in res.stderr and "Traceback" not in res.stderr
    assert "WrongPassword" not in res.stderr + res.stdout
    res = dial(fshost, "--profile", "nosuchprofile")
    assert res.returncode == 2 and "nosuchprofile" in res.stderr and "Traceback" not in res.stderr


def test_ctrl_c_stops_gracefully_and_still_writes_the_run(tmp_path):
    import signal
    import time

    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchlab.cli", "dial", "--sim", "--rate", "20", "--limit", "50",
         "--max-offered", "100000", "--duration", "0.3", "--metrics-file", str(run_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        for line in proc.stdout:
            if line.startswith("ORIGINATING") and int(line.split(" offered=")[1].split()[0]) >= 20:
                break
            assert time.monotonic() < deadline
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Dialing session completed!" in out
    assert "Traceback" not in err
    run = load(run_dir)
    assert 20 <= len(run.df) < 200, out
    assert not run.df.call_id.duplicated().any()
