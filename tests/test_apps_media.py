"""The media apps (DtmfChecker, PlayRec, Bert) and the media Session API, over real
sockets: on the session emulator by default, on real FreeSWITCH with ``--fshost``
(dialplan: ``answer*`` answered then parked). DUT behaviours (a DTMF-eating or a
media-echoing far end) and mod_bert's error outcomes use an emulator of their own.
"""
from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchlab import Client
from switchlab.apps.bert import Bert
from switchlab.apps.dtmf import DtmfChecker
from switchlab.apps.playrec import PlayRec
from switchlab.errors import SessionGone
from switchlab.measure import load, register_columns, unregister_columns
from switchlab.sim import DUTModel, Emulator
from switchlab.state import Session


@contextlib.asynccontextmanager
async def client_with(address: str, password: str, **apps: Any
                      ) -> AsyncIterator[tuple[Client, str]]:
    """A connected client with ``apps`` loaded (app id -> app) and the host's
    ``external`` SIP address as ``host:port``."""
    client = Client(address, password=password)
    await client.connect()
    try:
        for app_id, app in apps.items():
            client.load_app(app, app_id)
        host, port = await client.sip_address("external")
        yield client, f"{host}:{port}"
    finally:
        await client.close()


async def one_call(client: Client, dest: str, app_id: str, wait: float = 20) -> dict[str, Any]:
    """Place a call for ``app_id``, wait until it is over, return its outcome columns."""
    job = client.originate(dest, app_id=app_id)
    await asyncio.wait_for(job, 15)
    call = client.listener.calls[job.call_id]
    await asyncio.wait_for(call.wait(), wait)
    return dict(call.columns or {})


def emulator_address(fs: Emulator) -> str:
    host, port = fs.esl_addresses[0]
    return f"{host}:{port}"


# -- on the server under test (emulator, or --fshost) --------------------------------------
@pytest.mark.parametrize("mode", ["rtp", "inband"])
async def test_dtmf_checker_sees_the_digits_on_the_other_leg(fshost: str, fspassword: str,
                                                             mode: str) -> None:
    async with client_with(fshost, fspassword, d=DtmfChecker("19*#", mode=mode)) as (c, sip):
        out = await one_call(c, f"answer-dtmf@{sip}", "d")
    assert out == {"dtmf_sent": "19*#", "dtmf_received": "19*#", "dtmf_ok": True}


async def test_playrec_records_what_the_other_leg_played(fshost: str, fspassword: str) -> None:
    async with client_with(fshost, fspassword, p=PlayRec(play_ms=800)) as (c, sip):
        out = await one_call(c, f"answer-playrec@{sip}", "p")
    assert out["playrec_played"] == pytest.approx(0.8)
    assert 0.5 <= out["playrec_recorded"] <= 1.0 and out["playrec_ok"] is True


@pytest.mark.parametrize("two_sided", [True, False])
async def test_bert_reaches_sync(fshost: str, fspassword: str, two_sided: bool) -> None:
    async with client_with(fshost, fspassword, b=Bert(two_sided=two_sided, hold=0.5)) as (c, sip):
        if await c.api("module_exists mod_bert") != "true":
            pytest.skip("mod_bert is not loaded on the server under test (module_exists "
                        "mod_bert: false)")
        out = await one_call(c, f"answer-bert@{sip}", "b")
    assert out["bert_outcome"] == "in_sync" and out["bert_sync"] is True
    assert 0.5 < out["bert_sync_time"] < 3.0


async def test_session_media_api_completes_on_freeswitch_events(fshost: str,
                                                                fspassword: str) -> None:
    """execute/playback/record_start/record_stop resolve with their own
    CHANNEL_EXECUTE_COMPLETE (matched by Application-UUID; the last one for loops=2)."""
    async with client_with(fshost, fspassword) as (c, sip):
        job = c.originate(f"answer-api@{sip}")
        await asyncio.wait_for(job, 15)
        call = c.listener.calls[job.call_id]
        for _ in range(100):
            if len(call.legs) == 2:
                break
            await asyncio.sleep(0.02)
        a, b = call.first, call.last
        assert isinstance(a, Session) and isinstance(b, Session)
        path = "${recordings_dir}/switchlab-test-" + a.uuid + ".wav"
        started = await asyncio.wait_for(b.record_start(path), 10)
        assert started["Application"] == "record_session"
        twice = await asyncio.wait_for(a.playback("tone_stream://%(300,0,440)", loops=2), 10)
        assert twice["Application-Response"] == "FILE PLAYED"
        assert twice["variable_playback_ms"] == "300"
        stop = await asyncio.wait_for(b.record_stop(path), 10)
        assert stop["Application"] == "stop_record_session"
        assert 300 <= int(stop["variable_record_ms"]) <= 700  # two 300 ms plays arrived
        done = await asyncio.wait_for(a.execute("sleep", "50"), 10)
        assert done["Application"] == "sleep" and done.get("Application-UUID")
        await asyncio.wait_for(a.hangup(), 10)
        await asyncio.wait_for(call.wait(), 10)
        with pytest.raises(SessionGone):
            await a.playback("tone_stream://%(100,0,440)")


# -- DUT behaviours and error outcomes (an emulator of their own) ------------------------
@pytest.mark.parametrize(("loss", "received", "ok"), [(1.0, "", False), (0.0, "123", True)])
async def test_dtmf_checker_through_a_dut(emulator: object, loss: float, received: str,
                                          ok: bool) -> None:
    """A DUT that eats RFC 2833 digits (dtmf_loss=1) makes the check fail; one that
    passes them does not. The DUT echoes the media back to the caller leg."""
    dut = DUTModel(seed=3, failures={}, answer_probability=1.0, echo_media=True,
                   dtmf_loss=loss)
    async with Emulator(hosts=1, port=0, dut=dut) as fs:
        async with client_with(emulator_address(fs), "ClueCon",
                               d=DtmfChecker("123", timeout=0.5)) as (c, _sip):
            out = await one_call(c, "echo@127.0.0.1:5070", "d")
    assert out == {"dtmf_sent": "123", "dtmf_received": received, "dtmf_ok": ok}


async def test_inband_dtmf_passes_a_dtmf_eating_dut(emulator: object) -> None:
    dut = DUTModel(seed=3, failures={}, answer_probability=1.0, echo_media=True, dtmf_loss=1.0)
    async with Emulator(hosts=1, port=0, dut=dut) as fs:
        async with client_with(emulator_address(fs), "ClueCon",
                               d=DtmfChecker("42", mode="inband")) as (c, _sip):
            out = await one_call(c, "echo@127.0.0.1:5070", "d")
    assert out["dtmf_ok"] is True and out["dtmf_received"] == "42"


@pytest.mark.parametrize(("echo", "ok"), [(False, False), (True, True)])
async def test_playrec_against_a_dut_records_only_what_comes_back(emulator: object, echo: bool,
                                                                  ok: bool) -> None:
    dut = DUTModel(seed=3, failures={}, answer_probability=1.0, echo_media=echo)
    async with Emulator(hosts=1, port=0, dut=dut) as fs:
        async with client_with(emulator_address(fs), "ClueCon",
                               p=PlayRec(play_ms=400)) as (c, _sip):
            out = await one_call(c, "rec@127.0.0.1:5070", "p")
    assert out["playrec_played"] == pytest.approx(0.4)
    assert out["playrec_recorded"] == pytest.approx(0.4 if echo else 0.0)
    assert out["playrec_ok"] is ok


async def test_bert_times_out_without_a_far_end_returning_the_pattern(emulator: object) -> None:
    dut = DUTModel(seed=3, failures={}, answer_probability=1.0)  # does not echo
    async with Emulator(hosts=1, port=0, dut=dut) as fs:
        async with client_with(emulator_address(fs), "ClueCon",
                               b=Bert(two_sided=False, timeout_ms=1000)) as (c, _sip):
            out = await one_call(c, "quiet@127.0.0.1:5070", "b")
    assert out["bert_outcome"] == "timeout" and out["bert_sync"] is False
    assert out["bert_sync_time"] is None


async def test_bert_loses_sync_when_the_echo_is_interrupted(emulator: object) -> None:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=3)) as fs:
        async with client_with(emulator_address(fs), "ClueCon") as (c, sip):
            await c.subscribe(["mod_bert::in_sync", "mod_bert::lost_sync"])
            job = c.originate(f"answer-lost@{sip}")
            await asyncio.wait_for(job, 15)
            call = c.listener.calls[job.call_id]
            a, b = call.first, call.last
            assert isinstance(a, Session) and isinstance(b, Session)
            b.echo()
            a.bert_start()
            assert await a.bert_outcome(timeout=5) == "mod_bert::in_sync"
            b.playback("tone_stream://%(2000,0,440)")  # b plays instead of echoing
            assert await a.bert_outcome(timeout=5) == "mod_bert::lost_sync"
            assert await a.getvar("bert_stats_sync_lost") == "true"
            await asyncio.wait_for(a.hangup(), 10)
            await asyncio.wait_for(call.wait(), 10)


# -- the CLI -------------------------------------------------------------------------------
@pytest.mark.parametrize(("app", "column"), [(DtmfChecker, "dtmf_ok"),
                                             (PlayRec, "playrec_ok"), (Bert, "bert_sync")])
def test_dial_app_writes_its_columns_and_ratio_kpi(tmp_path: Any, app: type, column: str) -> None:
    run_dir = tmp_path / "run"
    # seed 67: the DUT answers the first four calls and refuses the fifth (486), as
    # DUTModel(seed=67).plan() decides them in call order
    res = subprocess.run([sys.executable, "-m", "switchlab.cli", "dial", "--sim", "--sim-seed",
                          "67", "--rate", "10",
                          "--limit", "5", "--max-offered", "5", "--duration", "4",
                          "--app", app.__name__, "--metrics-file", str(run_dir)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    register_columns(app.columns)  # as the dial process did: the stored run is read typed
    try:
        check_run(load(run_dir).df, column)
    finally:
        unregister_columns(spec.name for spec in app.columns)


def check_run(df: Any, column: str) -> None:
    assert len(df) == 5 and str(df[column].dtype) == "boolean"
    answered, failed = df[~df["failed"]], df[df["failed"]]
    assert len(answered) == 4 and answered[column].all()
    assert len(failed) == 1 and failed[column].isna().all()  # not applicable: the app never ran
    assert df.calls.kpis()[f"{column}.ratio"].iloc[0] == 1.0
