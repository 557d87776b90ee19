"""``switchlab serve``: both modes in a real process, on the emulator (``--sim``)."""
from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from switchlab.esl import connect
from switchlab.measure import load
from test_cli_signals import Lines

APP = str(Path(__file__).parent / "data" / "apps" / "serve_apps.py") + ":AnswerPlayHangup"


def start(*args: str) -> tuple[subprocess.Popen[str], Lines]:
    proc = subprocess.Popen([sys.executable, "-m", "switchlab.cli", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    return proc, Lines(proc.stdout)


async def call(esl: str, dest: str) -> None:
    """A self-loop call; its two legs are one call (the tracking variable crosses over SIP)."""
    conn = await connect(esl)
    try:
        await conn.api("originate {origination_caller_id_number=1000,"
                       f"sip_h_X-switchlab_call_id=c1}}sofia/external/{dest}"
                       "@127.0.0.1:5080 &park()")
    finally:
        await conn.close()


def rows(run_dir: Path) -> list[dict[str, object]]:
    return load(run_dir).df.to_dict("records")


@pytest.mark.parametrize("mode", ["outbound", "inbound"])
def test_serve_handles_calls_and_writes_the_run(tmp_path: Path, mode: str) -> None:
    run_dir = tmp_path / "run"
    outbound = ["--outbound", "127.0.0.1:0"] if mode == "outbound" else []
    proc, out = start(*outbound, "--app", APP, "--sim", "--max-calls", "1", "--interval", "0.2",
                      "--metrics-file", str(run_dir))
    try:
        if mode == "outbound":
            esl = out.until(r"Emulator event socket at (\S+)", 30).group(1)
            out.until(r"Serving outbound sockets on 127\.0\.0\.1:\d+ with AnswerPlayHangup", 10)
            dest = "outbound1"
        else:
            esl = out.until(r"Serving calls on (\S+) with AnswerPlayHangup", 30).group(1)
            dest = "park1"
        asyncio.run(call(esl, dest))
        text = out.rest(30)
        assert proc.wait(10) == 0, text
    finally:
        proc.kill()
    assert "1 done" in text and "Stored the run (1 calls)" in text
    got = rows(run_dir)
    assert [r["handled_by"] for r in got] == [mode]
    assert got[0]["hangup_cause"] == "NORMAL_CLEARING"


def test_sigterm_stops_and_writes_the_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc, out = start("--outbound", "127.0.0.1:0", "--app", APP, "--sim", "--interval", "0.2",
                      "--metrics-file", str(run_dir))
    try:
        out.until(r"Serving outbound sockets", 30)
        out.until(r"0 calls, 0 active", 10)  # the live status line
        proc.send_signal(signal.SIGTERM)
        text = out.rest(30)
        assert proc.wait(10) == 0, text
    finally:
        proc.kill()
    assert "Stored the run (0 calls)" in text and (run_dir / "calls.jsonl").exists()


@pytest.mark.parametrize("args,message", [
    (["--outbound", "127.0.0.1", "--app", APP], "--outbound: listen address '127.0.0.1'"),
    (["--outbound", "127.0.0.1:70000", "--app", APP], "port '70000' must be a number"),
    (["--outbound", "127.0.0.1:0", "--app", "nosuch:App"], "--app: cannot load app"),
    (["--outbound", "127.0.0.1:0", "--app", APP, "--acl", "ten/8"], "--acl: ACL entry"),
    (["127.0.0.1:8021", "--outbound", "127.0.0.1:0", "--app", APP], "not both"),
    (["--app", APP], "nothing to serve"),
    (["--outbound", "127.0.0.1:0", "--app", APP, "--call-timeout", "0"], "--call-timeout"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    res = subprocess.run([sys.executable, "-m", "switchlab.cli", "serve", *args],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
