"""``switchlab dial``: every bad input is refused before the first call.

Each case runs the real command in a subprocess against the session's
FreeSWITCH (the emulator, or ``--fshost``) and checks: exit code 2, one line
on stderr naming the option and saying what to write, no traceback, and the
server saw no new session (``api status``: "N session(s) since startup").
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from switchlab.cli import main
from switchlab.errors import CommandError
from switchlab.sync import sync_client
from switchlab.wire.validate import check_host, check_proxy, check_sip_dest, check_sip_user


def dial(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchlab.cli", "dial", *args],
                          capture_output=True, text=True, timeout=timeout)


def sessions_since_startup(address: str, password: str) -> int:
    host, _, port = address.rpartition(":")
    with sync_client(host, int(port), password=password) as client:
        text = client.api("status")
    m = re.search(r"(\d+) session\(s\) since startup", text)
    assert m, text
    return int(m.group(1))


#: (extra arguments, option named in the message, words of the advice)
BAD_INPUTS = [
    (("--dest-user", "a b"), "--dest-user", "letters, digits"),
    (("--dest-user", "x@evil"), "--dest-user", "letters, digits"),
    (("--dest-user", ""), "--dest-user", "letters, digits"),
    (("--proxy", "x;y"), "--proxy", "name=value"),
    (("--proxy", "a b"), "--proxy", "host name"),
    (("--proxy", "h:5060,evil"), "--proxy", "port"),
    (("--proxy", "127.0.0.1:0"), "--proxy", "1-65535"),
    (("--proxy", "::1:5070"), "--proxy", "expected host[:port]"),
    (("--proxy", "[::g]:5070"), "--proxy", "IPv6"),
    (("--proxy", "300.1.1.1"), "--proxy", "IPv4"),
    (("--proxy", "fred@127.0.0.1"), "--proxy", "expected host[:port]"),
    (("--dest-url", "nohost"), "--dest-url", "user@host[:port]"),
    (("--dest-url", "a b@127.0.0.1"), "--dest-url", "letters, digits"),
    (("--dest-url", "a@127.0.0.1:99999"), "--dest-url", "1-65535"),
    (("--dest-url", "a@h;x"), "--dest-url", "name=value"),
    (("--profile", "a b"), "--profile", "one word"),
    (("--profile", "ext{x}"), "--profile", "one word"),
    (("--app", "NoSuchApp"), "--app", "unknown app"),
    (("--app", "os:sep"), "--app", "not a class"),
    (("--app", "TonePlay=nan"), "--app", "must be > 0 and finite"),
    (("--app", "TonePlay=-1"), "--app", "must be > 0 and finite"),
    (("--app", "TonePlay=heavy"), "--app", "must be a number"),
    (("--app", "no/such/file.py:App"), "--app", "does not exist"),
    (("--check", "asr>>1"), "--check", "e.g."),
    (("--check", "asr>=x"), "--check", "e.g."),
    (("--check", "nosuchkpi>1"), "--check", "asr"),
    (("--rate", "-1"), "--rate", ">= 0"),
    (("--rate", "nan"), "--rate", "finite"),
    (("--rate", "inf"), "--rate", "finite"),
    (("--rate", "0"), "--rate", "> 0"),
    (("--limit", "0"), "--limit", ">= 1"),
    (("--limit", "-3"), "--limit", ">= 1"),
    (("--duration", "-1"), "--duration", ">= 0"),
    (("--duration", "nan"), "--duration", ">= 0"),
    (("--duration", "inf"), "--duration", "finite"),
    (("--max-offered", "0"), "--max-offered", ">= 1"),
    (("--max-offered", "-5"), "--max-offered", ">= 0"),
    (("--interval", "0"), "--interval", "> 0"),
    (("--password", "a\nb"), "--password", "line break"),
    (("--sim-seed", "7"), "--sim-seed", "add --sim"),
]


def run_in_process(*args: str) -> Result:
    """The command in this process (click's runner): fast, same code path."""
    return CliRunner().invoke(main, ["dial", *args], catch_exceptions=False)


@pytest.mark.parametrize("args, option, advice", BAD_INPUTS,
                         ids=[" ".join(a) for a, _, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line_and_places_no_call(fshost: str, fspassword: str,
                                                            args: tuple[str, ...], option: str,
                                                            advice: str) -> None:
    before = sessions_since_startup(fshost, fspassword)
    res = run_in_process(fshost, "--password", fspassword, "--rate", "50", "--max-offered", "5",
                         *args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"Error: {option}"), lines[0]
    assert advice in lines[0], lines[0]
    assert res.stdout == ""  # nothing started, nothing connected
    assert sessions_since_startup(fshost, fspassword) == before


@pytest.mark.parametrize("args, message", [
    (("--dest-user", "a b"), "Error: --dest-user: destination user 'a b' is refused"),
    (("--proxy", "x;y"), "Error: --proxy: proxy 'x;y': parameter ';y' is refused"),
    (("--rate", "0"), "Error: --rate: rate 0 would never place a call"),
])
def test_issue_inputs_as_a_user_runs_them(fshost: str, fspassword: str, args: tuple[str, ...],
                                          message: str) -> None:
    """The issue's cases in a real subprocess: exit 2, one line, no traceback, no call."""
    before = sessions_since_startup(fshost, fspassword)
    res = dial(fshost, "--password", fspassword, *args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert res.stderr.startswith(message), res.stderr
    assert "Dialing session completed!" not in res.stdout and "Traceback" not in res.stderr
    assert sessions_since_startup(fshost, fspassword) == before


@pytest.mark.parametrize("host, words", [
    ("a b", "not a valid host"),
    ("999.1.1.1", "IPv4"),
    ("[::1:8021", "IPv6"),
    ("fs1;x", "host name"),
    ("127.0.0.1:70000", "port"),
])
def test_bad_host_argument_exits_2_before_connecting(host: str, words: str) -> None:
    res = run_in_process(host)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: HOST"), res.stderr
    assert words in lines[0]


def test_bad_metrics_file_is_refused_before_the_run(tmp_path: Path, fshost: str) -> None:
    file = tmp_path / "taken"
    file.write_text("not a directory")
    res = run_in_process(fshost, "--metrics-file", str(file))
    assert res.exit_code == 2 and "--metrics-file" in res.stderr and "not a directory" in res.stderr
    assert file.read_text() == "not a directory"


def test_good_inputs_pass_and_the_run_places_calls(fshost: str, fspassword: str,
                                                   tmp_path: Path) -> None:
    """The checks let valid inputs through: the run goes on to place calls."""
    before = sessions_since_startup(fshost, fspassword)
    res = dial(fshost, "--password", fspassword, "--rate", "20", "--limit", "5",
               "--max-offered", "4", "--duration", "0.1", "--dest-user", "+1555.x_y",
               "--app", "TonePlay=2", "--check", "asr>=0", "--metrics-file",
               str(tmp_path / "run"))
    assert res.returncode in (0, 1), res.stdout + res.stderr  # 1: another helper's exit codes
    assert "Dialing session completed!" in res.stdout
    assert sessions_since_startup(fshost, fspassword) > before


@pytest.mark.parametrize("proxy", ["127.0.0.1", "127.0.0.1:5070", "[::1]:5070", "sip:fs1:5060",
                                   "dut.example.com;transport=tcp", "10.0.0.1;lr"])
def test_valid_proxies_are_accepted(proxy: str) -> None:
    assert check_proxy(proxy) == proxy.removeprefix("sip:")


@pytest.mark.parametrize("proxy", ["x;y", "x;", "a b", "h:5060,evil", "[::1", "h:0", "h:port",
                                   "u@h", "", "h;a=b c", "1.2.3", "h\napi hupall"])
def test_invalid_proxies_are_refused(proxy: str) -> None:
    with pytest.raises(CommandError, match="proxy"):
        check_proxy(proxy)


def test_sip_dest_and_user_checks() -> None:
    assert check_sip_dest("Fred@[::1]:5080;transport=udp") == "Fred@[::1]:5080;transport=udp"
    assert check_sip_user("*98#") == "*98#"
    assert check_host("host", "fs_1.lab.") == "fs_1.lab."
    for bad in ("Fred", "@h", "a b@h", "F@h:0", "F@[::1", "F@h;y", "F@h,x"):
        with pytest.raises(CommandError):
            check_sip_dest(bad)
    for bad in ("a b", "a@b", "a:b", "", "a'b", "a\nb"):
        with pytest.raises(CommandError, match="destination user"):
            check_sip_user(bad)
