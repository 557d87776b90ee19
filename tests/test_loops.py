"""The event loop choice (switchlab.loops): uvloop where installed, pure asyncio always works.

Each loop kind places a real call through the emulator over loopback (blocking
API, whose private loop comes from switchlab.loops), and ``switchlab dial``
runs on the loop ``--loop`` names.
"""
from __future__ import annotations

import asyncio
import importlib.util
import time

import pytest
from click.testing import CliRunner

from switchlab import loops, sync_caller
from switchlab.apps.players import TonePlay
from switchlab.cli import main
from switchlab.connection import parse_address
from switchlab.errors import ConfigError

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None
KINDS = ["asyncio", pytest.param("uvloop", marks=pytest.mark.skipif(
    not HAVE_UVLOOP, reason="uvloop not installed (pip install 'switchlab[fast]')"))]


def test_choice_argument_then_environment_then_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loops.LOOP_ENV, raising=False)
    assert loops.loop_kind() == ("uvloop" if HAVE_UVLOOP else "asyncio")
    monkeypatch.setenv(loops.LOOP_ENV, "asyncio")
    assert loops.loop_kind() == "asyncio"
    assert loops.loop_kind("auto") == ("uvloop" if HAVE_UVLOOP else "asyncio")
    loop = loops.new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio.")
    finally:
        loop.close()
    monkeypatch.setenv(loops.LOOP_ENV, "tokio")
    with pytest.raises(ConfigError, match=r"'tokio' \(from \$SWITCHLAB_LOOP\) is not one of"):
        loops.loop_kind()
    with pytest.raises(ConfigError, match="'trio' is not one of auto, uvloop, asyncio"):
        loops.loop_kind("trio")


def test_without_uvloop_auto_is_asyncio_and_uvloop_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops, "_uvloop_factory", lambda: None)
    assert loops.loop_kind("auto") == "asyncio"
    assert loops.run(_loop_module(), loop="auto") == "asyncio"
    with pytest.raises(ConfigError, match=r"pip install 'switchlab\[fast\]'"):
        loops.loop_kind("uvloop")


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


@pytest.mark.parametrize("kind", KINDS)
def test_run_uses_the_chosen_loop(kind: str) -> None:
    assert loops.run(_loop_module(), loop=kind) == kind


@pytest.mark.parametrize("kind", KINDS)
def test_a_real_call_on_each_loop(kind: str, fshost: str, fspassword: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocking API's own loop follows $SWITCHLAB_LOOP; a call goes up and down."""
    monkeypatch.setenv(loops.LOOP_ENV, kind)
    host, port = parse_address(fshost)
    with sync_caller(host, port=port, password=fspassword, apps={"tone": TonePlay}) as caller:
        assert type(caller.client.runner.loop).__module__.split(".")[0] == kind
        sip_port = caller.client.sip_address("external")[1]
        sess, _ = caller(f"Fred@{caller.client.host}:{sip_port}", "tone")
        assert sess.is_outbound() and sess.answered
        time.sleep(0.2)
        sess.hangup()
        callee = sess.call.last
    assert callee is not None and callee.is_inbound() and callee.answered


def test_dial_rejects_an_unknown_loop_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(loops.LOOP_ENV, "nope")
    result = CliRunner().invoke(main, ["dial", "--sim", "--max-offered", "1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: event loop 'nope' (from $SWITCHLAB_LOOP) is not one of auto, uvloop, asyncio"]
