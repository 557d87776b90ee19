"""``switchlab dial`` as a user runs it: a subprocess, its output and exit code."""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from switchlab.esl import connect
from switchlab.measure import load
from switchlab.sim import DUTModel


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


def test_sim_seed_gives_the_duts_planned_outcomes_in_call_order(tmp_path):
    """``--sim-seed`` seeds the emulated DUT: the rows, in launch order, have the
    outcomes ``DUTModel(seed=...)`` plans for that many calls (its draws depend
    only on the seed and the call order)."""
    seed, n = 64, 6
    dut = DUTModel(seed=seed)
    plans = [dut.plan() for _ in range(n)]
    assert {p.kind for p in plans} == {"answer", "fail"}  # this seed shows both outcomes
    run_dir = tmp_path / "run"
    res = dial("--sim", "--sim-seed", str(seed), "--rate", "20", "--limit", str(n),
               "--max-offered", str(n), "--duration", "0.2", "--metrics-file", str(run_dir))
    assert res.returncode == 0, res.stdout + res.stderr
    df = load(run_dir).df.sort_values("launch")
    assert list(df["failed"]) == [p.kind != "answer" for p in plans]
    assert [None if pd.isna(c) else int(c) for c in df["sip_code"]] == \
        [None if p.kind == "answer" else p.sip_code for p in plans]


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


def test_progress_lines_show_hosts_down_and_not_offered(tmp_path):
    """`switchlab dial` against a `switchlab sim` process whose only host restarts
    (down 2 s): the plain progress lines say hosts_down=1 while it is away and
    not_offered=N for the launches due meanwhile; the run ends short (exit 3)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sim = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "sim", "--port", str(port),
                            "--fault-api"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dial_proc = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and sim.poll() is None, "sim did not start"
                time.sleep(0.1)
        dial_proc = subprocess.Popen(
            [sys.executable, "-m", "switchlab.cli", "dial", f"127.0.0.1:{port}", "--proxy",
             "127.0.0.1:5070", "--rate", "20", "--limit", "10", "--duration", "0.1",
             "--max-offered", "100", "--interval", "0.2", "--metrics-file", str(tmp_path / "run")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        deadline = time.monotonic() + 60
        for line in dial_proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("ORIGINATING") and int(line.split(" offered=")[1].split()[0]) >= 10:
                break
            assert time.monotonic() < deadline, "".join(lines)

        async def restart() -> str:
            conn = await connect("127.0.0.1", port)
            try:
                return await conn.api("sim_fault restart=2", check=False)
            finally:
                await conn.close()

        assert asyncio.run(restart()).startswith("+OK restart")
        out, _ = dial_proc.communicate(timeout=60)
        lines += out.splitlines(keepends=True)
    finally:
        for proc in (dial_proc, sim):
            if proc is not None and proc.poll() is None:
                proc.kill()
    text = "".join(lines)
    assert any("hosts_down=1" in line for line in lines), text
    assert any(" not_offered=" in line for line in lines), text
    progress = [line for line in lines if line.startswith("ORIGINATING")]
    assert "hosts_down" not in progress[0] and "not_offered" not in progress[0]
    assert "hosts_down" not in progress[-1]  # the host came back
    run = load(tmp_path / "run")
    assert run.not_offered > 0 and f"not_offered={run.not_offered}" in text
    assert dial_proc.returncode == 3, text
