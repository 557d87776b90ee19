"""Client: originate string and its validation (ESL injection), apps, hupall,
profile discovery, pool; live against the emulator or ``--fshost``."""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fakes import FakeESL, FakeSwitch, transcript_frames
from switchlab import Client, ClientPool, callback, get_client
from switchlab.apps.players import TonePlay
from switchlab.client import _uuid4, parse_sofia_url
from switchlab.errors import APIError, CommandError, ConnectionFailed
from switchlab.originator import LOAD_TEST_EVENTS
from switchlab.wire import commands
from switchlab.wire.dialstring import originate_string

U = "0cc2598a-4236-4b6b-829f-ee31a7b2f907"


# -- the originate string ---------------------------------------------------------
def test_originate_string_shape() -> None:
    c = Client("127.0.0.1")
    s = c.originate_string("Fred@127.0.0.1:5080", app_id="tone", uuid=U)
    assert s == ("originate {origination_uuid=" + U + ",sip_h_X-switchlab_call_id=" + U +
                 ",sip_h_X-switchlab_app=tone,originate_timeout=60}"
                 "sofia/external/Fred@127.0.0.1:5080 &park()")
    s = c.originate_string("x@127.0.0.1:5080", profile="internal", proxy="127.0.0.1:5070",
                           vars={"origination_caller_id_number": 1000, "ignore_early_media": True,
                                 "list": "a\\,b"}, timeout=3, uuid=U)
    assert s.endswith(",originate_timeout=3,origination_caller_id_number=1000,"
                      "ignore_early_media=true,list=a\\,b}sofia/internal/x@127.0.0.1:5080;"
                      "fs_path=sip:127.0.0.1:5070 &park()")
    assert originate_string("x@[::1]:5080", proxy="[::1]:5070") == \
        "originate sofia/external/x@[::1]:5080;fs_path=sip:[::1]:5070 &park()"
    with pytest.raises(CommandError):
        originate_string("x@[::1]:5080[a=b]")


INJECTIONS = [
    # (what, kwargs, words expected in the message)
    ("newline in dest", {"dest_url": "x@h\n\napi hupall"}, ["destination", "line break"]),
    ("CR in dest", {"dest_url": "x@h\rexit"}, ["destination", "line break"]),
    ("space in dest", {"dest_url": "x@h &bridge(sofia/external/y@z)"}, ["destination", "whitespace"]),
    ("second dial string", {"dest_url": "x@h,sofia/external/y@z"}, ["destination", "','"]),
    ("var block in dest", {"dest_url": "{a=b}x@h"}, ["destination", "'{'"]),
    ("leg vars in dest", {"dest_url": "[a=b]x@h"}, ["destination", "'['"]),
    ("pipe in dest", {"dest_url": "x@h|sofia/external/y@z"}, ["destination", "'|'"]),
    ("quote in dest", {"dest_url": "x@h'"}, ["destination"]),
    ("empty dest", {"dest_url": ""}, ["destination"]),
    ("newline in proxy", {"dest_url": "x@h", "proxy": "127.0.0.1:5070\napi hupall"}, ["proxy"]),
    ("space in proxy", {"dest_url": "x@h", "proxy": "127.0.0.1 &park()"}, ["proxy"]),
    ("brace in profile", {"dest_url": "x@h", "profile": "external}"}, ["profile"]),
    ("space in profile", {"dest_url": "x@h", "profile": "external x"}, ["profile"]),
    ("newline in profile", {"dest_url": "x@h", "profile": "external\nexit"}, ["profile"]),
    ("brace in value", {"dest_url": "x@h", "vars": {"a": "b}sofia/external/evil@h &park() "}},
     ["variable a", "'}'"]),
    ("comma in value", {"dest_url": "x@h", "vars": {"a": "1,origination_uuid=evil"}},
     ["variable a", "'\\,'"]),
    ("newline in value", {"dest_url": "x@h", "vars": {"a": "1\n\napi hupall"}},
     ["variable a", "line break"]),
    ("space in value", {"dest_url": "x@h", "vars": {"a": "1 &park()"}}, ["variable a", "whitespace"]),
    ("quote in value", {"dest_url": "x@h", "vars": {"a": "'x"}}, ["variable a", "quotes"]),
    ("bad name", {"dest_url": "x@h", "vars": {"a=b,c": "1"}}, ["variable name"]),
    ("name with brace", {"dest_url": "x@h", "vars": {"a}": "1"}}, ["variable name"]),
    ("app id with comma", {"dest_url": "x@h", "app_id": "a,b"}, ["variable", "','"]),
    ("reserved var", {"dest_url": "x@h", "vars": {"origination_uuid": "x"}}, ["origination_uuid"]),
    ("bad timeout", {"dest_url": "x@h", "timeout": -1}, ["timeout"]),
]


@pytest.mark.parametrize("what,kwargs,words", INJECTIONS, ids=[i[0] for i in INJECTIONS])
async def test_injection_is_refused_and_nothing_is_sent(what, kwargs, words) -> None:
    async with FakeESL(responder=FakeSwitch()) as fs:
        client = Client(fs.address)
        await client.connect()
        before = len(fs.peers[0].commands)
        kwargs = dict(kwargs)
        dest = kwargs.pop("dest_url")
        with pytest.raises(ValueError) as info:
            client.originate(dest, **kwargs)
        assert isinstance(info.value, CommandError)
        for word in words:
            assert word in str(info.value), (word, str(info.value))
        await client.api("status")  # round trip: anything sent would be before this
        lines = [c.line for c in fs.peers[0].commands[before:]]
        assert lines == ["api status"]
        await client.close()


async def test_originate_sends_exactly_its_originate_string() -> None:
    """originate builds each set of parameters' command once (a template) and only
    puts the call's uuid in: what it sends is originate_string's command, byte for byte."""
    cases = [({}, {}), ({"proxy": "127.0.0.1:5070", "app_id": "tone"}, {}),
             ({"timeout": 2.5}, {"n": 1, "flag": True, "s": "a.b"}),
             ({"timeout": 2.5}, {"n": True, "flag": 1, "s": "a.b"}),  # same key but for types
             ({"profile": "internal"}, {"x": "00000000-0000-4000-8000-00000000c0de"})]
    async with FakeESL(responder=FakeSwitch()) as fs:
        client = Client(fs.address)
        await client.connect()
        sent: list[tuple[str, str]] = []
        job_uuids: list[str] = []
        for kwargs, variables in cases * 2:  # the second time from the template
            job = client.originate("Fred@127.0.0.1:5080", vars=variables, **kwargs)
            expected = client.originate_string("Fred@127.0.0.1:5080", vars=variables,
                                               uuid=job.call_id, **kwargs)
            sent.append((job.command, expected))
            job_uuids.append(job.uuid)
            assert job.call_id and job.uuid != job.call_id
        odd = client.originate("Fred@127.0.0.1:5080", uuid_func=lambda: "call.1")  # not a uuid
        sent.append((odd.command, client.originate_string("Fred@127.0.0.1:5080", uuid="call.1")))
        job_uuids.append(odd.uuid)
        await client.api("status")
        bgapis = [c for c in fs.peers[0].commands if c.line.startswith("bgapi ")]
        lines = [c.line for c in bgapis]
        assert lines == [f"bgapi {expected}" for _, expected in sent]
        # the template's bytes are bgapi's: the Job-UUID header and nothing else
        assert [(c.headers, c.body) for c in bgapis] == [({"Job-UUID": u}, b"") for u in job_uuids]
        assert all(command == expected for command, expected in sent)
        assert len({command for command, _ in sent}) == len(sent)  # a fresh uuid per call
        await client.close()


def test_an_originate_templates_bytes_are_bgapis() -> None:
    """The template's bytes, once filled, are exactly ``commands.bgapi`` of the
    command (the checks it makes were made once, on the template)."""
    c = Client()
    job_uuid = "5be1a0f0-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    for kwargs in ({}, {"proxy": "127.0.0.1:5070", "vars": {"n": 1, "s": "a.b"}},
                   {"app_id": "tone", "timeout": 2.5}):
        for _ in range(2):  # built, then from the template
            made = c._templated("Fred@127.0.0.1:5080", kwargs.get("profile", "external"),
                                kwargs.get("proxy"), kwargs.get("app_id"), kwargs.get("vars"),
                                kwargs.get("timeout", 60), U, job_uuid)
            cmd = c.originate_string("Fred@127.0.0.1:5080", uuid=U, **kwargs)
            assert made == (cmd, commands.bgapi(cmd, job_uuid=job_uuid))
    assert c._templated("x@h", "external", None, None, None, 60, U, "job.1") is None


def test_uuids_are_fresh_across_refills_and_in_a_forked_child() -> None:
    """``_uuid4`` draws from a buffer of random bytes (one system call per 256
    uuids): every uuid is a new version-4 uuid, and a forked child (a shard) does
    not repeat what its parent draws next."""
    drawn = [_uuid4() for _ in range(600)]  # over two refills
    assert len(set(drawn)) == 600 and all(uuid.UUID(u).version == 4 for u in drawn)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next uuid, then out at once
        os.write(write, _uuid4().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert uuid.UUID(child).version == 4 and child != _uuid4()


def test_uuids_drawn_from_many_threads_are_all_different() -> None:
    """Shards of a scale-out run may launch from threads of one process: the buffer
    is taken under a lock, so no two threads get the same bytes (switching threads
    every microsecond makes a race without the lock show up)."""
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(out: list[str]) -> None:
        for _ in range(3000):
            out.append(_uuid4())

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=draw, args=(out,)) for out in drawn]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sys.setswitchinterval(old)
    every = [u for out in drawn for u in out]
    assert len(every) == 24_000 and len(set(every)) == 24_000


def test_values_that_are_fine() -> None:
    c = Client()
    for dest in ("Fred@127.0.0.1:5080", "answer-1@fs.example.org", "+15551234@h;transport=tcp",
                 "gw/1000", "1000"):
        assert c.originate_string(dest, uuid=U)
    assert c.originate_string("x@h", vars={"sip_h_X-Foo": "a.b-c_d/e:f@g", "n": 1.5}, uuid=U)
    assert c.originate_string("x@h", profile="gateway/carrier1", uuid=U)


# -- profile discovery ----------------------------------------------------------------
def test_parse_sofia_status_from_real_bytes() -> None:
    frames = transcript_frames("api_catalog")
    body = next(f for f in frames if b"Name             \texternal" in f).split(b"\n\n", 1)[1]
    assert parse_sofia_url(body.decode()) == ("127.0.0.1", 5080)
    with pytest.raises(ValueError):
        parse_sofia_url("Invalid Profile!\n")
    assert parse_sofia_url("URL \tsip:mod_sofia@[::1]:5090;transport=udp\n") == ("::1", 5090)


async def test_sip_address_and_invalid_profile() -> None:
    async with FakeESL(responder=FakeSwitch()) as fs:
        async with get_client(fs.address) as client:
            assert await client.sip_address("external") == ("127.0.0.1", 5080)
            with pytest.raises(APIError, match="Invalid Profile"):
                await client.sip_address("nosuch")
            with pytest.raises(CommandError):
                await client.sip_address("external\napi hupall")


# -- apps and hupall -------------------------------------------------------------------
class Marked:
    @callback("CHANNEL_ANSWER")
    def on_answer(self, sess):
        sess.vars["answered"] = True


async def test_load_unload_and_hupall_by_app() -> None:
    async with FakeESL(responder=FakeSwitch()) as fs:
        async with get_client(fs.address, apps={"tone": TonePlay, "m": Marked}) as client:
            assert set(client.apps) == {"tone", "m"}
            with pytest.raises(ValueError, match="already loaded"):
                client.load_app(TonePlay, "tone")
            with pytest.raises(TypeError, match="no @callback"):
                client.load_app(object(), "empty")
            assert "empty" not in client.apps
            a = client.originate("Fred@127.0.0.1:5080", app_id="tone")
            b = client.originate("answer@127.0.0.1:5080", app_id="m")
            await asyncio.wait_for(asyncio.gather(a, b), 5)  # TonePlay answered the first
            assert client.listener.sessions[b.sess_uuid].vars["answered"]
            await client.hupall("tone")
            lines = [c.line for c in fs.peers[0].commands]
            assert "api hupall NORMAL_CLEARING sip_h_X-switchlab_app tone" in lines
            await asyncio.sleep(0.05)
            assert a.sess_uuid not in client.listener.sessions
            assert b.sess_uuid in client.listener.sessions
            await client.hupall()
            await asyncio.sleep(0.05)
            assert client.listener.sessions == {}
            client.unload_app("tone")
            assert set(client.apps) == {"m"}
            with pytest.raises(CommandError):
                client.hupall(cause="NORMAL CLEARING")


class PrePost:
    events: list[str] = []

    def prepost(self, client, greeting="hi"):
        PrePost.events.append(f"{greeting} {client.host}")
        yield
        PrePost.events.append("bye")

    @callback("CHANNEL_PARK")
    def on_park(self, sess):
        pass


async def test_prepost_runs_at_load_and_unload() -> None:
    async with FakeESL(responder=FakeSwitch()) as fs:
        async with get_client(fs.address) as client:
            client.load_app(PrePost, "pp", greeting="hello")
            assert PrePost.events == ["hello 127.0.0.1"]
        assert PrePost.events == ["hello 127.0.0.1", "bye"]


# -- live --------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def live_toneplay(fshost: str, fspassword: str, *app_ids: str,
                        **kwargs: Any) -> AsyncIterator[tuple[Client, str, int]]:
    """A client of ``fshost`` (``kwargs``: more Client options) with TonePlay loaded
    as each of ``app_ids``, and the host's ``external`` SIP address; closed on the
    way out."""
    client = Client(fshost, password=fspassword, **kwargs)
    await client.connect()
    try:
        for app_id in app_ids:
            client.load_app(TonePlay, app_id)
        host, port = await client.sip_address("external")
        yield client, host, port
    finally:
        await client.close()


async def test_live_call_ties_both_legs_and_releases(fshost: str, fspassword: str) -> None:
    async with live_toneplay(fshost, fspassword, "tone") as (client, host, port):
        job = client.originate(f"answer-tie@{host}:{port}", app_id="tone")
        uuid = await asyncio.wait_for(job, 15)
        call = client.listener.calls[job.call_id]
        for _ in range(100):  # the callee leg is there before the answer
            if len(call.legs) == 2:
                break
            await asyncio.sleep(0.02)
        assert [s.direction for s in call.legs] == ["outbound", "inbound"]
        assert call.first.uuid == uuid and call.last.app_id == "tone"
        assert call.first.answered and call.last.answered
        create = call.first.first("CHANNEL_CREATE")
        assert create is not None and create[0] > 1_500_000_000_000_000  # µs since epoch
        ended = call.wait()
        await asyncio.wait_for(call.first.hangup(), 10)
        await asyncio.wait_for(ended, 10)
        assert job.call_id not in client.listener.calls
        assert uuid not in client.listener.sessions


async def call_and_hang_up(client: Client, host: str, port: int, app_id: str) -> Any:
    """Originate an answered call for ``app_id``, hang its caller leg up, and
    return the call once every leg of it was released."""
    assert client.listener is not None
    job = client.originate(f"answer-{app_id}@{host}:{port}", app_id=app_id)
    await asyncio.wait_for(job, 15)
    call = client.listener.calls[job.call_id]
    ended = call.wait()
    await asyncio.wait_for(call.first.hangup(), 10)
    await asyncio.wait_for(ended, 10)
    return call


@pytest.mark.parametrize("destroy", [False, True], ids=["no-destroy", "destroy"])
async def test_live_sessions_end_at_hangup_complete_unless_destroy_is_subscribed(
        fshost: str, fspassword: str, destroy: bool) -> None:
    """A client not subscribed to CHANNEL_DESTROY (the load test's set) releases each
    session right after its CHANNEL_HANGUP_COMPLETE was dispatched, with no timer;
    subscribed, it releases at CHANNEL_DESTROY. Handlers see the session either way."""
    events = [*LOAD_TEST_EVENTS, "CHANNEL_PARK", *(["CHANNEL_DESTROY"] if destroy else [])]
    async with live_toneplay(fshost, fspassword, "rel", events=events) as (client, host, port):
        listener = client.listener
        assert listener is not None and listener.destroy_comes is destroy
        names: list[str] = []
        held_at_complete: list[bool] = []
        listener.add_handler("*", lambda ev: names.append(ev.name))
        listener.add_handler("CHANNEL_HANGUP_COMPLETE",
                             lambda ev: held_at_complete.append(ev.uuid in listener.sessions))
        call = await call_and_hang_up(client, host, port, "rel")
        assert held_at_complete == [True, True]
        assert listener.sessions == {} and listener.calls == {}
        assert len(call.legs) == 2 and all(s.destroyed and not s.lost for s in call.legs)
        assert listener._unreleased == {}
        if destroy:
            for _ in range(100):  # the second leg's CHANNEL_DESTROY ended the call
                if names.count("CHANNEL_DESTROY") == 2:
                    break
                await asyncio.sleep(0.01)
            assert names.count("CHANNEL_DESTROY") == 2
            assert names.index("CHANNEL_DESTROY") > names.index("CHANNEL_HANGUP_COMPLETE")
        else:
            assert "CHANNEL_DESTROY" not in names and listener._release_timer is None
            await client.subscribe(["CHANNEL_DESTROY"])  # an app may want it after all
            assert listener.destroy_comes


class DestroyWatcher:
    """An app that wants each of its sessions' CHANNEL_DESTROY."""

    def __init__(self) -> None:
        self.destroyed: list[str] = []

    @callback("CHANNEL_DESTROY")
    def on_destroy(self, sess: Any) -> None:
        self.destroyed.append(sess.uuid)


async def test_live_an_app_that_wants_destroy_gets_it_on_a_load_test_client(
        fshost: str, fspassword: str) -> None:
    """Loading an app subscribes what it needs: with CHANNEL_DESTROY among it, the
    listener goes back to releasing sessions there, so the app sees every leg's."""
    async with live_toneplay(fshost, fspassword, "rel2",
                             events=[*LOAD_TEST_EVENTS, "CHANNEL_PARK"]) as (client, host, port):
        listener = client.listener
        assert listener is not None and not listener.destroy_comes
        watcher = DestroyWatcher()
        client.load_app(watcher, "rel2")
        assert listener.destroy_comes
        call = await call_and_hang_up(client, host, port, "rel2")
        assert sorted(watcher.destroyed) == sorted(s.uuid for s in call.legs)
        assert len(call.legs) == 2 and listener.sessions == {}


async def test_live_toneplay_answers_parked_callee(fshost: str, fspassword: str) -> None:
    async with live_toneplay(fshost, fspassword, "tone") as (client, host, port):
        job = client.originate(f"Fred@{host}:{port}", app_id="tone")
        await asyncio.wait_for(job, 15)  # parked callee: only TonePlay's answer completes it
        call = client.listener.calls[job.call_id]
        assert call.last is not None and call.last.answered and call.last.is_inbound()
        await client.hupall("tone")
        await asyncio.wait_for(call.wait(), 10)


async def test_live_hupall_only_hits_its_app(fshost: str, fspassword: str) -> None:
    async with live_toneplay(fshost, fspassword, "a", "b") as (client, host, port):
        ja = client.originate(f"answer-a@{host}:{port}", app_id="a")
        jb = client.originate(f"answer-b@{host}:{port}", app_id="b")
        await asyncio.wait_for(asyncio.gather(ja, jb), 15)
        call_a, call_b = client.listener.calls[ja.call_id], client.listener.calls[jb.call_id]
        await client.hupall("a")
        await asyncio.wait_for(call_a.wait(), 10)
        assert not call_b.ended
        await client.hupall("b")
        await asyncio.wait_for(call_b.wait(), 10)
        assert client.own_calls() == []


async def test_live_pool_of_all_hosts(fshosts: list[str], fspassword: str) -> None:
    async with ClientPool(fshosts, password=fspassword) as pool:
        pool.load_app(TonePlay, "tone")
        addrs = await pool.sip_addresses("external")
        jobs = [c.originate(f"answer-pool@{h}:{p}", app_id="tone")
                for c, (h, p) in zip(pool.clients, addrs)]
        await asyncio.wait_for(asyncio.gather(*jobs), 15)
        for c, j in zip(pool.clients, jobs):
            assert len(c.listener.calls[j.call_id].legs) >= 1
        await pool.hupall("tone")
        for _ in range(250):
            if pool.count_calls() == 0:
                break
            await asyncio.sleep(0.02)
        assert pool.count_calls() == 0


async def test_live_many_calls_leave_nothing_behind(fshost: str, fspassword: str) -> None:
    async with live_toneplay(fshost, fspassword, "tone-load") as (client, host, port):
        listener = client.listener
        for _ in range(4):
            jobs = [client.originate(f"answer-load@{host}:{port}", app_id="tone-load")
                    for _ in range(25)]
            await asyncio.wait_for(asyncio.gather(*jobs), 30)
            await client.hupall("tone-load")
            for _ in range(500):
                if not client.own_calls():
                    break
                await asyncio.sleep(0.02)
            assert client.own_calls() == []
            assert [s for s in listener.sessions.values() if s.app_id == "tone-load"] == []
        assert sum(1 for j in jobs if j.successful()) == 25
        assert client.connection.pending_jobs == 0


# -- property: whatever the input, the originate string cannot be broken out of ----------
from hypothesis import given, settings, strategies as st  # noqa: E402

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["a,b", "a\\,b", "}", "{", "x y", "\n", "a'b", "^^:a", "a\\", "[x]", "|", "&park()"])


@settings(max_examples=300, deadline=None)
@given(dest=_text, value=_text, name=_text, proxy=_text | st.none())
def test_no_input_can_break_out_of_originate(dest, value, name, proxy) -> None:
    variables = {"a": "1", name: value, "z": "2"}
    try:
        s = originate_string(dest, proxy=proxy, vars=variables)
    except CommandError:
        return
    assert "\n" not in s and "\r" not in s and "\x00" not in s
    assert s.count(" ") == 2 and s.endswith(" &park()")  # 'originate', the dial string, the app
    head, dial, app = s.split(" ")
    block, rest = dial[1:].split("}", 1)  # exactly one variable block...
    assert "{" not in block and "}" not in rest and "{" not in rest
    pairs = re.split(r"(?<!\\),", block)
    assert [p.split("=", 1)[0] for p in pairs] == list(variables)  # ...with exactly our variables
    assert rest.startswith("sofia/external/")
    assert "," not in rest and "|" not in rest
