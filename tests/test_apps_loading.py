"""App loading (``switchlab.apps``): the decorators, ``load_app``/``unload_app``
with ``prepost`` at load and unload, the registry, the CLI's app specs, and
apps loaded into a live client (the emulator, or real FreeSWITCH with
``--fshost``)."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from switchlab import Client
from switchlab.apps import (app, callback, coroutine, get, get_callbacks, handler, iterapps,
                            load_app, unload_app)
from switchlab.cli import main as cli_main


class RecordingListener:
    """Stands in for an EventListener: records what an app registers."""

    def __init__(self) -> None:
        self.handlers: list[tuple[str, Callable[..., Any]]] = []
        self.callbacks: list[tuple[str, str, str, Callable[..., Any], bool]] = []

    def add_handler(self, name: str, fn: Callable[..., Any]) -> None:
        self.handlers.append((name, fn))

    def remove_handler(self, name: str, fn: Callable[..., Any]) -> None:
        self.handlers.remove((name, fn))

    def add_callback(self, name: str, app_id: str, fn: Callable[..., Any],
                     prepend: bool = False) -> None:
        self.callbacks.append(("callback", name, app_id, fn, prepend))

    def add_coroutine(self, name: str, app_id: str, fn: Callable[..., Any],
                      prepend: bool = False) -> None:
        self.callbacks.append(("coroutine", name, app_id, fn, prepend))

    def remove_callback(self, name: str, app_id: str, fn: Callable[..., Any]) -> None:
        self.callbacks = [c for c in self.callbacks if c[1:4] != (name, app_id, fn)]


class Marked:
    @handler("CHANNEL_CREATE")
    def on_create(self, ev: Any) -> None:
        pass

    @callback("CHANNEL_ANSWER", "CHANNEL_HANGUP")
    def on_answer_or_hangup(self, sess: Any) -> None:
        pass

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        pass


# -- decorators ----------------------------------------------------------------------
def test_marks_are_listed_handlers_first() -> None:
    got = [(event, kind, fn.__name__) for event, kind, fn in get_callbacks(Marked())]
    assert got[0] == ("CHANNEL_CREATE", "handler", "on_create")
    assert sorted(got[1:]) == [("CHANNEL_ANSWER", "callback", "on_answer_or_hangup"),
                               ("CHANNEL_HANGUP", "callback", "on_answer_or_hangup"),
                               ("CHANNEL_PARK", "coroutine", "on_park")]


def test_one_method_can_carry_several_marks() -> None:
    class Both:
        @callback("CHANNEL_ANSWER")
        @handler("CHANNEL_ANSWER")
        def both(self, x: Any) -> None:
            pass

    assert sorted((e, k) for e, k, _ in get_callbacks(Both())) == [
        ("CHANNEL_ANSWER", "callback"), ("CHANNEL_ANSWER", "handler")]


@pytest.mark.parametrize("decorate, message", [
    (lambda: callback(), "needs one or more event names"),
    (lambda: handler(""), "needs one or more event names"),
    (lambda: callback(42), "needs one or more event names"),
])
def test_a_mark_needs_event_names(decorate: Callable[[], Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        decorate()


def test_coroutine_marks_async_functions_only() -> None:
    def plain(sess: Any) -> None:
        pass

    async def not_plain(sess: Any) -> None:
        pass

    with pytest.raises(TypeError, match="use @callback"):
        coroutine("CHANNEL_PARK")(plain)
    with pytest.raises(TypeError, match="mark it @coroutine"):
        callback("CHANNEL_PARK")(not_plain)
    with pytest.raises(TypeError, match="mark it @coroutine"):
        handler("CHANNEL_PARK")(not_plain)


# -- load_app / unload_app ------------------------------------------------------------
def test_load_registers_every_mark_under_the_app_id() -> None:
    listener = RecordingListener()
    loaded = load_app(listener, Marked, "m1")
    inst = loaded.instance
    assert isinstance(inst, Marked) and inst.app_id == "m1"
    assert (loaded.app_id, loaded.name) == ("m1", "Marked")
    assert loaded.events == {"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_PARK"}
    assert listener.handlers == [("CHANNEL_CREATE", inst.on_create)]
    assert sorted((kind, name, app_id) for kind, name, app_id, _fn, _p in listener.callbacks) == [
        ("callback", "CHANNEL_ANSWER", "m1"), ("callback", "CHANNEL_HANGUP", "m1"),
        ("coroutine", "CHANNEL_PARK", "m1")]
    unload_app(listener, loaded)
    assert listener.handlers == [] and listener.callbacks == []


def test_load_defaults_the_app_id_to_the_class_name_and_keeps_an_instance() -> None:
    listener = RecordingListener()
    inst = Marked()
    loaded = load_app(listener, inst, prepend=True)
    assert loaded.instance is inst and loaded.app_id == "Marked" == inst.app_id
    assert {prepend for *_rest, prepend in listener.callbacks} == {True}


def test_an_app_without_marks_is_refused_by_name() -> None:
    class Nothing:
        def on_park(self, sess: Any) -> None:
            pass

    listener = RecordingListener()
    with pytest.raises(TypeError, match="'Nothing' has no @callback"):
        load_app(listener, Nothing)
    assert listener.handlers == [] and listener.callbacks == []


def test_unloading_twice_is_harmless() -> None:
    listener = RecordingListener()
    loaded = load_app(listener, Marked, "m")
    unload_app(listener, loaded)
    unload_app(listener, loaded)
    assert listener.handlers == [] and listener.callbacks == []


class WithPrepost:
    log: list[Any] = []

    def prepost(self, client: Any, pool: Any = "no pool", greeting: str = "hi") -> Iterator[None]:
        self.log.append(("load", client, pool, greeting))
        yield
        self.log.append(("unload", client))

    @callback("CHANNEL_PARK")
    def on_park(self, sess: Any) -> None:
        pass


@pytest.fixture
def prepost_log() -> Iterator[list[Any]]:
    WithPrepost.log = []
    yield WithPrepost.log


def test_prepost_generator_runs_at_load_and_its_tail_at_unload(prepost_log: list[Any]) -> None:
    listener = RecordingListener()
    loaded = load_app(listener, WithPrepost, "pp", funcargs={"client": "C", "unused": 1},
                      greeting="hello")
    assert prepost_log == [("load", "C", "no pool", "hello")]
    unload_app(listener, loaded)
    assert prepost_log == [("load", "C", "no pool", "hello"), ("unload", "C")]
    unload_app(listener, loaded)  # the generator is finished: nothing runs again
    assert len(prepost_log) == 2


def test_prepost_gets_funcargs_by_name(prepost_log: list[Any]) -> None:
    load_app(RecordingListener(), WithPrepost, funcargs={"client": "C", "pool": "P"})
    assert prepost_log == [("load", "C", "P", "hi")]


def test_a_plain_prepost_runs_once_at_load() -> None:
    calls: list[str] = []

    class Plain:
        def prepost(self, listener: Any) -> None:
            calls.append("load")

        @callback("CHANNEL_PARK")
        def on_park(self, sess: Any) -> None:
            pass

    listener = RecordingListener()
    loaded = load_app(listener, Plain, funcargs={"listener": listener})
    unload_app(listener, loaded)
    assert calls == ["load"] and loaded.finalize is None


def test_prepost_missing_an_argument_names_it_and_what_is_available() -> None:
    with pytest.raises(TypeError, match=r"WithPrepost.prepost\(\) needs 'client'; available: "
                                        r"listener"):
        load_app(RecordingListener(), WithPrepost, funcargs={"listener": object()})
    with pytest.raises(TypeError, match="available: nothing"):
        load_app(RecordingListener(), WithPrepost)


def test_prepost_arguments_without_a_prepost_are_refused() -> None:
    with pytest.raises(TypeError, match=r"Marked has no prepost\(\) to take \['greeting'\]"):
        load_app(RecordingListener(), Marked, greeting="hello")


# -- the registry -----------------------------------------------------------------------
def test_registry_by_class_name_and_by_given_name() -> None:
    first, second = f"App{uuid.uuid4().hex}", f"app-{uuid.uuid4().hex}"
    cls = app(type(first, (Marked,), {}))
    assert get(first) is cls and cls in list(iterapps())
    assert app(cls) is cls  # the same class again: fine
    named = app(name=second)(type("Other", (Marked,), {}))
    assert get(second) is named
    with pytest.raises(ValueError, match=f"an app named '{second}' is already registered"):
        app(name=second)(type("Third", (Marked,), {}))
    assert get(f"no-such-app-{uuid.uuid4().hex}") is None


def test_registry_refuses_a_class_without_marks() -> None:
    with pytest.raises(ValueError, match="has no @callback, @coroutine or @handler methods"):
        app(type("Empty", (), {}))


# -- app specs of the CLI (``--app``) ---------------------------------------------------
@pytest.mark.parametrize("spec, message", [
    ("NoSuchApp", "unknown app 'NoSuchApp': use a built-in (Bert, Bridger, CalleeBlockOnInvite, "),
    ("switchlab.apps.players:NoSuchClass", "cannot load app"),
    ("no_such_module_xyz:App", "cannot load app"),
    ("/no/such/file.py:App", "does not exist"),
    ("TonePlay=heavy", "must be a number"),
    ("TonePlay=0", "must be > 0"),
])
def test_bad_app_specs_are_refused_before_anything_starts(spec: str, message: str) -> None:
    res = CliRunner().invoke(cli_main, ["dial", "--sim", "--app", spec])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


APP_FILE = '''
from switchlab.apps import callback

class Counted:
    """Answers its parked callee legs; writes a line to {log} at load and at unload."""

    def prepost(self, client):
        with open({log!r}, "a") as f:
            f.write(f"load {{client.host}}\\n")
        yield
        with open({log!r}, "a") as f:
            f.write("unload\\n")

    @callback("CHANNEL_PARK")
    def on_park(self, sess):
        if sess.is_inbound():
            sess.answer()
'''


@pytest.mark.parametrize("how", ["file", "module"])
def test_app_from_a_spec_is_loaded_on_every_host_and_unloaded(tmp_path: Path, how: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "app.log"
    name = f"spec_app_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(APP_FILE.format(log=str(log)))
    if how == "file":
        spec = f"{tmp_path / name}.py:Counted=2"
    else:
        monkeypatch.syspath_prepend(str(tmp_path))
        spec = f"{name}:Counted"
    res = CliRunner().invoke(cli_main, [
        "dial", "--sim", "--sim-hosts", "2", "--app", spec, "--rate", "20", "--limit", "5",
        "--max-offered", "4", "--duration", "0.05"])
    assert res.exit_code == 0, res.output
    lines = log.read_text().splitlines()
    assert sorted(lines) == ["load 127.0.0.1", "load 127.0.0.1", "unload", "unload"]
    assert lines.index("unload") > max(i for i, line in enumerate(lines) if line.startswith("load"))


# -- live: a client of the emulator (or --fshost) ---------------------------------------
class Live:
    """Counts what it sees; ``prepost`` says when it was loaded and unloaded."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.answered: list[tuple[str, str]] = []
        self.parked: list[str] = []
        self.lifecycle: list[str] = []

    def prepost(self, client: Client) -> Iterator[None]:
        self.lifecycle.append(f"load {client.address}")
        yield
        self.lifecycle.append("unload")

    @handler("CHANNEL_CREATE")
    def on_create(self, ev: Any) -> None:
        self.created.append(ev.uuid)

    @callback("CHANNEL_ANSWER")
    def on_answer(self, sess: Any) -> None:
        self.answered.append((sess.uuid, sess.direction))

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess: Any) -> None:
        self.parked.append(sess.uuid)


async def test_live_app_sees_its_calls_until_unloaded(fshost: str, fspassword: str) -> None:
    client = Client(fshost, password=fspassword)
    await client.connect()
    try:
        host, port = await client.sip_address("external")
        live = Live()
        assert client.load_app(live, "live") == "live"
        assert live.lifecycle == [f"load {client.address}"] and live.app_id == "live"
        job = client.originate(f"answer-apps@{host}:{port}", app_id="live")
        caller = await asyncio.wait_for(job, 15)
        call = client.listener.calls[job.call_id]
        for _ in range(250):
            if len(live.answered) == 2 and len(live.parked) == 2:
                break
            await asyncio.sleep(0.02)
        assert caller in live.created
        assert sorted(d for _u, d in live.answered) == ["inbound", "outbound"]
        assert {u for u, _d in live.answered} == {leg.uuid for leg in call.legs}
        assert set(live.parked) == {leg.uuid for leg in call.legs}  # each coroutine started
        await client.hupall("live")
        await asyncio.wait_for(call.wait(), 10)

        client.unload_app("live")
        assert live.lifecycle == [f"load {client.address}", "unload"]
        assert client.apps == {}
        seen = (len(live.created), len(live.answered), len(live.parked))
        job = client.originate(f"answer-apps@{host}:{port}", app_id="live")
        await asyncio.wait_for(job, 15)
        call = client.listener.calls[job.call_id]
        await client.hupall("live")
        await asyncio.wait_for(call.wait(), 10)
        assert (len(live.created), len(live.answered), len(live.parked)) == seen
    finally:
        await client.close()
