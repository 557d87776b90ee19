"""The compiled read path (``switchlab.wire.native``) is the pure one, compiled.

* the doctests of each compiled module's source pass (pytest cannot collect
  them from the ``.py`` while the compiled file is loaded under its name);
* compiled and pure give the same frames, errors and leftovers from any bytes in
  any chunking (events, replies, junk), the same values from any plain event
  (every lookup, the header list, the body, ``lacks``), the same commands to the
  emulator, and the same for every recorded FreeSWITCH transcript;
* the choice: ``SWITCHLAB_PURE=1`` loads the sources; a source that is not the
  one compiled (edited since) is used instead of the stale build, with a
  :class:`~switchlab.wire.native.StaleBuildWarning`;
* in CI, whose install has a C compiler, the compiled modules are the ones in use.

The differential tests skip when the install is pure (nothing to compare); the
other tests of the suite then check the pure modules.
"""
from __future__ import annotations

import doctest
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import switchlab.wire as wire
from switchlab.errors import ProtocolError
from switchlab.wire import native
from fakegroup import installed_group, loaded
from test_wire_read_path import _FRAME as _WELL_FORMED

WIRE_DATA = Path(__file__).parent / "data" / "fs-wire"
COMPILED = native.compiled_modules() == list(native.COMPILED_MODULES)
needs_compiled = pytest.mark.skipif(not COMPILED, reason="pure install: nothing compiled to compare")


@pytest.fixture(scope="module")
def pure() -> Iterator[dict[str, ModuleType]]:
    """A second, pure copy of each compiled module, under its own name."""
    mods = {name: native.load_source("switchlab.wire", name, f"switchlab.wire._pure_{name}")
            for name in native.COMPILED_MODULES}
    yield mods
    for name in native.COMPILED_MODULES:
        sys.modules.pop(f"switchlab.wire._pure_{name}", None)


@pytest.mark.parametrize("name", native.COMPILED_MODULES)
def test_the_sources_doctests_pass(name: str, pure: dict[str, ModuleType]) -> None:
    result = doctest.testmod(pure[name], optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0, result


def test_the_modules_run_all_compiled_or_all_from_source() -> None:
    """One shared library holds them all and imports its members from itself."""
    modules = [sys.modules[f"switchlab.wire.{name}"] for name in native.COMPILED_MODULES]
    assert len({native.is_compiled(m) for m in modules}) == 1, [m.__file__ for m in modules]
    assert [getattr(wire, name) for name in native.COMPILED_MODULES] == modules
    assert wire.Event is wire.events.Event and wire.FrameParser is wire.parser.FrameParser


def test_ci_runs_the_compiled_modules() -> None:
    if not os.environ.get("CI") or native.pure_wanted():
        pytest.skip("outside CI (or SWITCHLAB_PURE=1) a pure install is allowed")
    loaded = {name: getattr(wire, name).__file__ for name in native.COMPILED_MODULES}
    assert COMPILED, (f"the install did not compile {native.COMPILED_MODULES} ({loaded}): "
                      "look for 'switchlab: ... installing the pure-Python read path' in "
                      "pip's output (it needs gcc and the Python headers)")


@needs_compiled
@pytest.mark.parametrize("name", native.COMPILED_MODULES)
def test_no_compiled_class_has_a_weakref_slot(name: str) -> None:
    """A compiled class with a Python base class gets ``__dict__`` and
    ``__weakref__`` slots, and mypyc's generated ``clear`` frees the weak
    references of such an object instead of clearing them: the next garbage
    collection crashes (seen with ``Event(Mapping[str, str])`` under hypothesis).
    Such classes register with their ABC instead of inheriting from it."""
    module = getattr(wire, name)
    for cls in vars(module).values():
        if isinstance(cls, type) and cls.__module__ == module.__name__:
            assert "__weakref__" not in vars(cls), (
                f"{module.__name__}.{cls.__name__} has a __weakref__ slot when compiled: "
                "give it no Python base class (register with the ABC instead)")


# -- compiled == pure -------------------------------------------------------------------

def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    """What a call gives, or the type, text and data of what it raises."""
    try:
        return ("ok", fn(*args))
    except ProtocolError as exc:
        return ("error", type(exc), str(exc), getattr(exc, "data", None),
                list(getattr(exc, "frames", None) or ()))


def _frames_key(items: list[Any]) -> list[Any]:
    return [x if isinstance(x, bytes) else (x.content_type, x.headers, x.body) for x in items]


def _commands_key(items: list[Any]) -> list[Any]:
    return [(c.line, c.headers, c.body) for c in items]


def _feed_all(parser: object, method: str, data: bytes, cuts: list[int],
              key: Callable[[list[Any]], list[Any]] = _frames_key) -> list[Any]:
    """What feeding ``data`` cut at ``cuts`` gives, chunk by chunk, up to the
    first error; then what the parser holds."""
    out = []
    pos = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        got = _outcome(getattr(parser, method), data[pos:cut])
        got = ("ok", key(got[1])) if got[0] == "ok" else (*got[:4], key(got[4]))
        out.append(got)
        if got[0] != "ok":
            break
        pos = cut
    out.append(getattr(parser, "pending", None))
    return out


# the read-path tests' frames (events, replies, stray newlines), and any bytes at all
_FRAME = _WELL_FORMED | st.binary(max_size=30)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAME, min_size=1, max_size=8), st.lists(st.integers(0, 400), max_size=12),
       st.sampled_from(["feed", "feed_mixed"]), st.sampled_from([bytes, bytearray, memoryview]))
def test_frame_parsers_agree(pure: dict[str, ModuleType], frames: list[bytes], cuts: list[int],
                             method: str, kind: type) -> None:
    data = b"".join(frames)
    compiled, slow = wire.FrameParser(), pure["parser"].FrameParser()
    assert (_feed_all(compiled, method, kind(data), cuts)
            == _feed_all(slow, method, kind(data), cuts))


_COMMAND = st.one_of(
    st.sampled_from([b"auth ClueCon\n\n", b"event plain ALL\n\n", b"api status\n\n",
                     b"bgapi originate {a=b}loopback/1 &park()\nJob-UUID: j\n\n",
                     b"sendmsg u\ncall-command: execute\ncontent-length: 3\n\nabc",
                     b"\r\n", b"x\r\n\r\n", b"sendevent X\nContent-Length: zz\n\n"]),
    st.binary(max_size=30),
)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(_COMMAND, min_size=1, max_size=8), st.lists(st.integers(0, 300), max_size=10))
def test_command_parsers_agree(pure: dict[str, ModuleType], commands: list[bytes],
                               cuts: list[int]) -> None:
    data = b"".join(commands)
    assert (_feed_all(wire.CommandParser(), "feed", data, cuts, _commands_key)
            == _feed_all(pure["parser"].CommandParser(), "feed", data, cuts, _commands_key))


_NAMES = ["Event-Name", "Unique-ID", "Channel-Name", "variable_switch_r_sdp", "Job-UUID", "X",
          "a b", "a%20b", "é", "Content-Type", "Content-Length", "", "a: b", "x\ny", "a\ufffdb",
          "Event-Date-Timestamp"]
_VALUE = st.binary(max_size=24).map(lambda b: b.replace(b"\n", b"")) | st.sampled_from(
    [b"a: b", b"%", b"%41%zz", b"v=0%0D%0Ao=-", b"Content-Length: 3", b"\r", b"", b"\xff\xfe",
     b"1795691766132318", b"12x"])


def _event_view(mod: ModuleType, raw: bytes, names: list[str]) -> list:  # type: ignore[type-arg]
    ev = mod.Event.from_plain(raw)
    view = [_outcome(ev.get, n) for n in names + names]
    for odd in (3, None, b"Event-Name", 1.5):  # not a name: what a mapping gives
        view += [ev.get(odd), ev.get(odd, "d"), odd in ev]
        try:
            view.append(ev[odd])
        except KeyError as exc:
            view.append(("KeyError", exc.args))
    view += [_outcome(lambda: ev.timestamp_us), _outcome(lambda: ev.body),
             _outcome(ev.header_list), _outcome(lambda: ev.headers),
             ev.lacks(b"_status: "), ev.lacks(b"Name: "), ev.raw == raw]
    return view


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES[:10] + ["Event-Date-Timestamp"]), _VALUE),
                max_size=10),
       st.none() | st.binary(max_size=60), st.booleans(),
       st.lists(st.sampled_from(_NAMES), min_size=1, max_size=10))
def test_events_agree(pure: dict[str, ModuleType], lines: list[tuple[str, bytes]],
                      body: bytes | None, big: bool, names: list[str]) -> None:
    if big:  # searched in its header block only
        lines = [*lines, ("X-Filler", b"f" * pure["events"].SCAN_WHOLE_MAX)]
    raw = b"".join(k.encode() + b": " + v + b"\n" for k, v in lines)
    raw += b"\n" if body is None else b"Content-Length: %d\n\n" % len(body) + body
    assert _event_view(wire.events, raw, names) == _event_view(pure["events"], raw, names)


@needs_compiled
@pytest.mark.parametrize("path", sorted(WIRE_DATA.glob("*.raw")), ids=lambda p: p.name)
def test_recorded_transcripts_read_alike(pure: dict[str, ModuleType], path: Path) -> None:
    data = path.read_bytes()
    views = []
    for parser_mod, events_mod in ((wire.parser, wire.events), (pure["parser"], pure["events"])):
        items = _outcome(parser_mod.FrameParser().feed_mixed, data)
        assert items[0] == "ok", items
        view = []
        for item in items[1]:
            if isinstance(item, bytes):
                ev = events_mod.Event(item)
            elif item.content_type in wire.EVENT_TYPES:
                ev = events_mod.Event.from_frame(item)
            else:
                view.append((item.content_type, item.headers, item.body))
                continue
            view.append((ev.header_list(), ev.body, ev.name, ev.uuid, ev.timestamp_us))
        views.append(view)
    assert views[0] == views[1] and views[0]


# -- which modules run --------------------------------------------------------------------

@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A package laid out like an install of the wire's group (``fakegroup``)."""
    sources = {name: f"WHO = 'source of {name}'\n".encode() for name in native.COMPILED_MODULES}
    for pkg in installed_group(tmp_path, "fakewire", sources, monkeypatch):
        yield "fakewire", pkg


def test_an_up_to_date_build_is_left_to_the_import_system(
        fake_package: tuple[str, Path]) -> None:
    native.select(fake_package[0])
    assert loaded(fake_package[0]) == {name: None for name in native.COMPILED_MODULES}


def test_an_edited_source_makes_every_module_run_from_source(
        fake_package: tuple[str, Path]) -> None:
    """The modules share one compiled library that imports its members from
    itself: a stale member cannot run beside a source, so all run from source."""
    package, pkg = fake_package
    edited = native.COMPILED_MODULES[0]
    (pkg / f"{edited}.py").write_text(f"WHO = 'edited {edited}'\n")
    with pytest.warns(native.StaleBuildWarning, match=rf"compiled {edited} was not built.*pip install -e \."):
        native.select(package)
    assert loaded(package) == {name: (f"edited {name}" if name == edited else f"source of {name}")
                               for name in native.COMPILED_MODULES}


def test_pure_wanted_loads_every_source(fake_package: tuple[str, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.PURE_ENV, "1")
    native.select(fake_package[0])
    assert loaded(fake_package[0]) == {name: f"source of {name}"
                                       for name in native.COMPILED_MODULES}


def test_switchlab_pure_runs_the_sources_in_a_new_interpreter() -> None:
    code = ("import switchlab.wire as w; from switchlab.wire import native as n; "
            "print([n.is_compiled(getattr(w, m)) for m in n.COMPILED_MODULES])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, native.PURE_ENV: "1"})
    assert out.stdout.strip() == str([False] * len(native.COMPILED_MODULES))


def test_version_says_how_the_read_path_runs() -> None:
    from click.testing import CliRunner

    from switchlab.cli import main

    out = CliRunner().invoke(main, ["--version"]).output
    assert "version" in out.splitlines()[0], out
    want = (f"read path: compiled ({', '.join(native.COMPILED_MODULES)})" if COMPILED
            else "read path: plain Python")
    assert want in out.splitlines()[1], out
    sim = native.SIM_MODULES
    import switchlab.sim  # noqa: F401

    assert out.splitlines()[2] == (
        f"emulator: compiled ({len(sim)} modules)"
        if native.compiled_modules("switchlab.sim") == list(sim)
        else "emulator: plain Python (not compiled at install: see the README)"), out
    pure = subprocess.run([sys.executable, "-m", "switchlab.cli", "--version"], check=True,
                          capture_output=True, text=True, env={**os.environ, native.PURE_ENV: "1"})
    assert pure.stdout.splitlines()[1:] == [f"read path: plain Python ({native.PURE_ENV}=1)",
                                            f"emulator: plain Python ({native.PURE_ENV}=1)"]


def _events_of_every_kind() -> list:  # type: ignore[type-arg]
    from switchlab.wire import Event, FrameParser, serialize

    headers = [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j1"), ("X", "a b%")]
    out = [Event.from_frame(f) for f in FrameParser().feed(
        serialize.event_plain(headers, b"+OK done\n") + serialize.event_json(headers, b"+OK")
        + serialize.event_xml(headers, b"+OK"))]
    out.append(Event.from_plain(b"Event-Name: API\nX-Filler: " + b"f" * 40000 + b"\n\n"))  # big
    out.append(Event.from_headers({"Event-Name": "HEARTBEAT", "X": "y"}, b"body"))
    for k, ev in enumerate(out):
        ev.received, ev.host = 1.5 + k, f"fs{k}"
    return out


@pytest.mark.parametrize("copier", ["pickle", "copy", "deepcopy"])
def test_events_pickle_and_copy_alike(copier: str) -> None:
    """A compiled class has no default pickling: Event says how it is rebuilt."""
    import copy
    import pickle

    fn = {"pickle": lambda ev: pickle.loads(pickle.dumps(ev)), "copy": copy.copy,
          "deepcopy": copy.deepcopy}[copier]
    for ev in _events_of_every_kind():
        ev.get("X")  # a lookup done before the copy is done again after it
        got = fn(ev)
        assert got is not ev and type(got) is type(ev)
        assert (got.header_list(), got.body, got.raw, got.received, got.host) == (
            ev.header_list(), ev.body, ev.raw, ev.received, ev.host)
        assert got == ev and got.get("X") == ev.get("X")
