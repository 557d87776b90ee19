"""Test configuration: real FreeSWITCH with ``--fshost``, else the embedded emulator."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
WIRE = DATA / "fs-wire"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fshost", action="store", default=os.environ.get("SWITCHLAB_FSHOST"),
        help="run live tests against real FreeSWITCH: HOST[:ESLPORT][,HOST[:ESLPORT]...]")
    parser.addoption("--fspassword", action="store", default="ClueCon",
                     help="event-socket password of the --fshost servers")
    parser.addoption(
        "--fs-restart-cmd", action="store",
        default=os.environ.get("SWITCHLAB_FS_RESTART_CMD"),
        help="shell command that restarts the real FreeSWITCH given with --fshost (e.g. "
             "'ssh fs sudo systemctl restart freeswitch'); the live restart test skips "
             "without it. Also read from $SWITCHLAB_FS_RESTART_CMD")


def _real_hosts(config: pytest.Config) -> list[str]:
    raw = config.getoption("--fshost")
    if not raw:
        return []
    hosts = []
    for item in raw.split(","):
        item = item.strip()
        if item:
            hosts.append(item if ":" in item else f"{item}:8021")
    return hosts


@pytest.fixture(scope="session")
def fs_restart_cmd(pytestconfig: pytest.Config) -> str | None:
    """The command that restarts the --fshost FreeSWITCH, or None (not given)."""
    cmd = pytestconfig.getoption("--fs-restart-cmd")
    return (str(cmd).strip() or None) if cmd else None


@pytest.fixture(scope="session")
def real_fs(pytestconfig: pytest.Config) -> bool:
    """True when the live tests run against real FreeSWITCH servers."""
    return bool(_real_hosts(pytestconfig))


@pytest.fixture(scope="session")
def fspassword(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("--fspassword")


@pytest.fixture(scope="session")
def _session_emulator(pytestconfig: pytest.Config) -> Iterator[object | None]:
    if _real_hosts(pytestconfig):
        yield None
        return
    from switchlab.sim import DUTModel, Emulator

    fs = Emulator(hosts=2, port=0, dut=DUTModel(seed=7)).start_background()
    try:
        yield fs
    finally:
        fs.stop()


@pytest.fixture(scope="session")
def fshosts(pytestconfig: pytest.Config, _session_emulator: object | None) -> list[str]:
    """ESL addresses (``host:port``) of the servers under test."""
    real = _real_hosts(pytestconfig)
    if real:
        return real
    return [f"{h}:{p}" for h, p in _session_emulator.esl_addresses]  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def fshost(fshosts: list[str]) -> str:
    """The first server under test."""
    return fshosts[0]


@pytest.fixture
def emulator(_session_emulator: object | None) -> object:
    """The session's emulator, for tests about the emulator itself (skipped with --fshost)."""
    if _session_emulator is None:
        pytest.skip("emulator-only test (running against --fshost)")
    return _session_emulator
