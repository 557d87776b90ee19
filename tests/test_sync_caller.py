"""sync_caller: the seed script, in a plain script, under a running loop and in a real
Jupyter kernel."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from fakes import FakeESL, FakeSwitch
from switchlab import callback, sync_caller
from switchlab.apps.players import TonePlay
from switchlab.connection import parse_address
from switchlab.errors import APIError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_switch():
    """A FakeESL + FakeSwitch served from a background thread (for blocking tests)."""
    ready = threading.Event()
    box = {}

    def run():
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        fs = FakeESL(responder=FakeSwitch())
        loop.run_until_complete(fs.__aenter__())
        box["fs"] = fs
        ready.set()
        loop.run_forever()
        loop.run_until_complete(fs.stop())
        loop.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait(5)
    yield box["fs"]
    box["loop"].call_soon_threadsafe(box["loop"].stop)
    t.join(5)


def test_seed_script_live(fshost: str, fspassword: str) -> None:
    """The seed, as written (the SIP port is discovered, not assumed)."""
    host, port = parse_address(fshost)
    with sync_caller(host, port=port, password=fspassword, apps={"tone": TonePlay}) as caller:
        sip_port = caller.client.sip_address("external")[1]
        sess, waitfor = caller('Fred@{}:{}'.format(caller.client.host, sip_port), "tone")
        assert sess.is_outbound() and sess.answered
        time.sleep(1)
        sess.hangup()
        callee = sess.call.last
    assert callee is not None and callee.is_inbound() and callee.answered  # TonePlay answered it
    # hung up and destroyed by FreeSWITCH's events before the client closed
    assert sess.hungup and sess.hangup_cause == "NORMAL_CLEARING"
    assert sess.destroyed and not sess.lost and callee.destroyed and not callee.lost


def test_seed_script_with_fake_switch(fake_switch: FakeESL) -> None:
    with sync_caller(fake_switch.address, apps={"tone": TonePlay}) as caller:
        assert caller.app_names == ["tone"]
        sess, waitfor = caller('Fred@{}:{}'.format(caller.client.host, 5080), "tone")
        time.sleep(0.2)
        sess.hangup()
    assert sess.hungup and sess.call.last.answered
    peer = fake_switch.peers[0]
    lines = [c.line for c in peer.commands]
    assert any(line.startswith("api uuid_kill ") for line in lines)
    assert "api hupall NORMAL_CLEARING sip_h_X-switchlab_app tone" in lines


class SetsVar:
    @callback("CHANNEL_ANSWER")
    def on_answer(self, sess):
        if sess.is_outbound():
            sess.vars["ready"] = True


def test_waitfor_and_errors(fake_switch: FakeESL) -> None:
    with sync_caller(fake_switch.address, apps={"v": SetsVar, "tone": TonePlay}) as caller:
        sess, waitfor = caller("answer@127.0.0.1:5080", "v", waitfor=("ready", 2))
        assert waitfor(sess, "ready", 1) is True
        with pytest.raises(TimeoutError, match="never"):
            waitfor(sess, "never", 0.1)
        with pytest.raises(ValueError, match="no app loaded"):
            caller("answer@127.0.0.1:5080", "nosuch")
        with pytest.raises(APIError) as info:
            caller("busy@127.0.0.1:5080", "tone")
        assert info.value.text == "USER_BUSY"
        with pytest.raises(ValueError):
            caller("x@h\napi hupall", "tone")
        client = caller.client
        assert client.api("status") == "+OK\n"
        client.sleep(0.01)
    assert client.aio.listener.calls == {}


SCRIPT = """
import asyncio, time
from switchlab import sync_caller
from switchlab.apps.players import TonePlay

def seed(host, port, password):
    with sync_caller(host, port=port, password=password, apps={{"tone": TonePlay}}) as caller:
        sip_port = caller.client.sip_address("external")[1]
        sess, waitfor = caller('Fred@{{}}:{{}}'.format(caller.client.host, sip_port), "tone")
        time.sleep(0.5)
        sess.hangup()
    return sess

{body}
"""


def run_script(body: str, timeout: float = 60) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(body=body)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_inside_a_running_loop(fshost: str, fspassword: str) -> None:
    """As in a Jupyter cell: blocking code while the thread's loop is running."""
    host, port = parse_address(fshost)
    out = run_script(textwrap.dedent(f"""
        async def cell():
            sess = seed({host!r}, {port}, {fspassword!r})   # blocking, inside the loop
            print("answered", sess.answered, sess.call.last.answered, sess.hungup)
        asyncio.run(cell())
    """))
    assert out.strip() == "answered True True True"


@pytest.mark.notebook
def test_in_a_real_jupyter_kernel(fshost: str, fspassword: str) -> None:
    """The seed in a live ipykernel; between cells the kernel's loop keeps the engine going."""
    jupyter_client = pytest.importorskip("jupyter_client")
    host, port = parse_address(fshost)
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)

        def run(code: str) -> str:
            out = []

            def hook(msg):
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    out.append("ERROR " + "\n".join(msg["content"]["traceback"]))
            reply = kc.execute_interactive(code, timeout=60, output_hook=hook)
            assert reply["content"]["status"] == "ok", "".join(out)
            return "".join(out)

        out = run(textwrap.dedent(f"""
            import time
            from switchlab import sync_caller
            from switchlab.apps.players import TonePlay
            with sync_caller({host!r}, port={port}, password={fspassword!r},
                             apps={{"tone": TonePlay}}) as caller:
                sip_port = caller.client.sip_address("external")[1]
                sess, waitfor = caller('Fred@{{}}:{{}}'.format(caller.client.host, sip_port), "tone")
                time.sleep(0.5)
                sess.hangup()
            print("seed", sess.answered, sess.call.last.answered, sess.hungup)
        """))
        assert "seed True True True" in out
        # a call started in one cell completes while the kernel is idle
        run(textwrap.dedent(f"""
            from switchlab import SyncClient
            client = SyncClient({host!r}, {port}, {fspassword!r}).connect()
            client.load_app(TonePlay, "tone")
            sip_port = client.sip_address("external")[1]
            job = client.originate("answer-idle@127.0.0.1:" + str(sip_port), app_id="tone")
        """))
        time.sleep(1.5)  # the kernel is idle: only its own loop can resolve the job
        out = run("print('idle', job.done(), job.successful()); client.hupall(); client.drain(); "
                  "client.close()")
        assert "idle True True" in out
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
