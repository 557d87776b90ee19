"""The fuzz targets' checks (fuzz/harness.py), short, in the normal test run.

Random bytes and mutated transcript frames go into the two places where
switchlab reads bytes written by someone else: the client's frame parser with
event decoding, and the emulator's command parser with its command handler.
Only ProtocolError may come out; chunking must not change the result; lazy
lookups must equal the full decoding; the emulator's replies must be frames.
The long, coverage-guided version is fuzz/run.py (atheris).
"""
from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz.harness import (CommandSandbox, FuzzFailure, check_commands,  # noqa: E402
                          check_frames, chunks_of, quiet)
from fuzz.seeds import command_seeds, frame_seeds  # noqa: E402
from switchlab.errors import MalformedFrameError, ProtocolError  # noqa: E402
from switchlab.wire import CommandParser, Event, FrameParser  # noqa: E402
from switchlab.wire.parser import MAX_BODY, MAX_HEADER_BLOCK  # noqa: E402

FRAMES = frame_seeds()
COMMANDS = command_seeds()
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True, scope="module")
def _quiet() -> None:
    quiet()


@pytest.fixture(scope="module")
def box():
    b = CommandSandbox()
    yield b
    b.close()


def mutate(seed: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, byte) edits: flip, insert, delete, truncate, duplicate."""
    data = bytearray(seed)
    for kind, pos, byte in edits:
        at = pos % (len(data) + 1)
        if kind == 0 and data:
            data[at % len(data)] ^= 1 << (byte % 8)
        elif kind == 1:
            data[at:at] = bytes([byte])
        elif kind == 2:
            del data[at : at + 1 + byte % 16]
        elif kind == 3:
            del data[at:]
        elif kind == 4:
            data[at:at] = data[max(0, at - 1 - byte) : at]
        elif kind == 5:  # a digit: Content-Length values
            data[at:at] = b"0123456789"[byte % 10 : byte % 10 + 1]
    return bytes(data)


edits = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 20), st.integers(0, 255)),
                 min_size=1, max_size=8)
sizes = st.lists(st.integers(1, 64), min_size=1, max_size=4)


# -- the seeds themselves --------------------------------------------------------------
def test_every_transcript_frame_parses_and_decodes_byte_by_byte() -> None:
    assert len(FRAMES) > 700
    frames = sum(check_frames(s, chunks_of(s, [1, 3, 500])) for s in FRAMES)
    assert frames >= len(FRAMES)  # every seed holds at least one whole frame


def test_every_transcript_command_runs_on_the_emulator(box: CommandSandbox) -> None:
    assert len(COMMANDS) > 50
    total = sum(check_commands(s, chunks_of(s, [2]), authed=True, sandbox=box) for s in COMMANDS)
    assert total >= len(COMMANDS)


def test_the_emulator_answers_a_parsed_command_with_frames(box: CommandSandbox) -> None:
    (cmd,) = CommandParser().feed(b"api status\n\n")
    out = box.run([cmd], authed=True)
    frames = FrameParser().feed(out)
    assert [f.content_type for f in frames] == ["auth/request", "api/response",
                                                "text/disconnect-notice"]
    assert frames[1].text.startswith("UP ")


# -- random and mutated input ----------------------------------------------------------
@SETTINGS
@given(st.binary(max_size=2048), sizes)
def test_random_bytes_into_the_frame_parser(data: bytes, cut: list[int]) -> None:
    check_frames(data, chunks_of(data, cut))


@SETTINGS
@given(st.sampled_from(FRAMES), edits, sizes)
def test_mutated_frames(seed: bytes, how: list[tuple[int, int, int]], cut: list[int]) -> None:
    data = mutate(seed, how)
    check_frames(data, chunks_of(data, cut))


@settings(SETTINGS, max_examples=80)
@given(st.binary(max_size=1024), sizes, st.booleans())
def test_random_bytes_into_the_emulator(data: bytes, cut: list[int], authed: bool) -> None:
    check_commands(data, chunks_of(data, cut), authed=authed)


@settings(SETTINGS, max_examples=80)
@given(st.sampled_from(COMMANDS), edits, sizes, st.booleans())
def test_mutated_commands_into_the_emulator(seed: bytes, how: list[tuple[int, int, int]],
                                            cut: list[int], authed: bool) -> None:
    data = mutate(seed, how)
    check_commands(data, chunks_of(data, cut), authed=authed)


# -- the harness catches what it should --------------------------------------------------
def test_the_harness_reports_an_exception_other_than_protocol_error(monkeypatch) -> None:
    seed = next(s for s in FRAMES if b"text/event-plain" in s[:200])
    check_frames(seed)

    def broken(self: Event) -> str:
        raise KeyError("a decoding bug")

    monkeypatch.setattr(Event, "name", property(broken))
    with pytest.raises(KeyError, match="a decoding bug"):
        check_frames(seed)


def test_the_harness_reports_a_lazy_lookup_that_differs(monkeypatch) -> None:
    seed = next(s for s in FRAMES if b"text/event-plain" in s[:200])
    real = Event.get
    monkeypatch.setattr(Event, "get", lambda self, name, default=None: (
        "forged" if name == "Event-Name" else real(self, name, default)))
    with pytest.raises(FuzzFailure, match="lazy lookup of 'Event-Name'"):
        check_frames(seed)


# -- bugs the fuzzer found (regressions) ---------------------------------------------------
def test_lazy_lookup_of_a_name_with_an_invalid_utf8_byte_equals_full_decoding() -> None:
    raw = b"Event-Name: API\nvariable_a\xffb: 0\nX: y\n\n"
    full = Event.from_plain(raw).headers
    assert full["variable_a\ufffdb"] == "0"
    lazy = Event.from_plain(raw)
    assert lazy.get("variable_a\ufffdb") == "0" and "variable_a\ufffdb" in lazy
    assert Event.from_plain(raw).get("variable_a?b") is None


@pytest.mark.parametrize("header, prop", [("Event-Sequence", "sequence"),
                                          ("Event-Date-Timestamp", "timestamp_us")])
def test_a_non_numeric_number_header_is_a_protocol_error(header: str, prop: str) -> None:
    ev = Event.from_plain(f"Event-Name: API\n{header}: 524141\x08Job\n\n".encode())
    with pytest.raises(ProtocolError, match=f"{header} .* is not a decimal number"):
        getattr(ev, prop)
    assert getattr(Event.from_plain(f"Event-Name: API\n{header}: 42\n\n".encode()), prop) == 42
    assert getattr(Event.from_plain(b"Event-Name: API\n\n"), prop) is None


# -- memory stays bounded --------------------------------------------------------------
@pytest.mark.parametrize("parser, head", [
    (FrameParser, b"Content-Type: api/response\nContent-Length: %d\n\n"),
    (CommandParser, b"sendevent CUSTOM\nContent-Length: %d\n\n"),
])
def test_a_huge_content_length_buffers_only_what_arrived(parser, head: bytes) -> None:
    p = parser()
    assert p.feed(head % MAX_BODY) == []
    chunk = b"x" * 65536
    tracemalloc.start()
    try:
        for _ in range(64):  # 4 MiB of a 256 MiB body
            assert p.feed(chunk) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.pending == len(head % MAX_BODY) + 64 * 65536
    assert peak < 3 * 64 * 65536, f"buffering 4 MiB peaked at {peak} bytes"
    with pytest.raises(MalformedFrameError, match="larger than"):
        parser().feed(head % (MAX_BODY + 1))


@pytest.mark.parametrize("parser", [FrameParser, CommandParser])
def test_headers_that_never_end_are_refused_past_the_limit(parser) -> None:
    p = parser()
    line = b"X-Header: " + b"v" * 1000 + b"\n"
    with pytest.raises(MalformedFrameError, match="within"):
        for _ in range(MAX_HEADER_BLOCK // len(line) + 2):
            p.feed(line if parser is FrameParser else b"api " + line[:-1] + b"\r")
    assert p.pending <= MAX_HEADER_BLOCK + 2 * len(line) + 8
