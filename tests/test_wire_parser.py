"""FrameParser / CommandParser over the real FreeSWITCH 1.11 transcripts.

The parser must yield the same frames whatever the chunking, and those frames
must be exactly the ones the transcripts' ``.recv.txt`` indexes list.
"""
from __future__ import annotations

import random
import re
import time

import pytest

from fswire import frame_bytes, index, raw, transcript_names
from switchlab.errors import MalformedFrameError, ProtocolError
from switchlab.wire import (API_RESPONSE, COMMAND_REPLY, DISCONNECT_NOTICE, EVENT_TYPES, LOG_DATA,
                            Command, CommandParser, Event, Frame, FrameParser, serialize)
from switchlab.wire.frames import GOODBYE
from switchlab.wire.parser import MAX_HEADER_BLOCK

NAMES = transcript_names()
SMALL = [n for n in NAMES if len(raw(n)) <= 16_000]
LARGE = [n for n in NAMES if len(raw(n)) > 16_000]


def reference(name: str) -> list[Frame]:
    frames = FrameParser().feed(raw(name))
    return frames


def feed_chunks(data: bytes, cuts: list[int]) -> tuple[list[Frame], FrameParser]:
    parser = FrameParser()
    frames: list[Frame] = []
    prev = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        frames.extend(parser.feed(data[prev:cut]))
        prev = cut
    return frames, parser


def test_there_are_transcripts() -> None:
    assert len(NAMES) >= 25  # INDEX, INDEX2 and the INDEX3 families copied so far
    assert SMALL and LARGE


@pytest.mark.parametrize("name", NAMES)
def test_frames_match_the_index(name: str) -> None:
    """Frame count, content types, offsets and lengths agree with ``.recv.txt``."""
    entries = index(name)
    parser = FrameParser()
    frames = parser.feed(raw(name))
    assert parser.pending == 0
    assert len(frames) == len(entries)
    assert [f.content_type for f in frames] == [e.content_type for e in entries]
    # offsets are contiguous and cover the whole transcript
    assert entries[0].offset == 0
    for a, b in zip(entries, entries[1:]):
        assert b.offset == a.offset + a.length
    assert entries[-1].offset + entries[-1].length == len(raw(name))
    for k, (frame, entry) in enumerate(zip(frames, entries)):
        # the bytes the index cuts out are exactly one frame, the same one
        cut = frame_bytes(name, k)
        p = FrameParser()
        assert p.feed(cut[:-1]) == [], f"frame {k} complete one byte early"
        assert p.feed(cut[-1:]) == [frame]
        assert p.pending == 0
        if frame.content_type in EVENT_TYPES:
            ev = Event.from_frame(frame)
            words = entry.extra.split()
            # an event queued as COMMAND and fired as PRIVATE_COMMAND (uuid_broadcast)
            # carries two Event-Name headers: switchlab, like libesl, reads the first; the
            # recorder's index names the last
            names = re.findall(rb"^Event-Name: (\S+)$", frame.body.split(b"\n\n")[0], re.M)
            assert ev.name == words[0] or (len(names) > 1 and names[-1].decode() == words[0])
            assert (ev.uuid or ev.job_uuid) == (words[1] if len(words) > 1 else None)
        elif entry.extra.startswith("Reply-Text: "):
            assert frame.reply_text == entry.extra[len("Reply-Text: "):]
        elif entry.extra.startswith("body: "):
            assert repr(frame.text[:60]) == entry.extra[len("body: "):]


@pytest.mark.parametrize("name", SMALL)
def test_every_split_point_small(name: str) -> None:
    data = raw(name)
    expected = reference(name)
    for cut in range(1, len(data)):
        frames, parser = feed_chunks(data, [cut])
        assert frames == expected, f"split at byte {cut}"
        assert parser.pending == 0


def _boundary_cuts(name: str) -> list[int]:
    """Cut points where framing bugs hide: around every frame boundary, inside
    every header/body separator and inside every Content-Length value."""
    data = raw(name)
    cuts: set[int] = set()
    for e in index(name):
        for d in (-2, -1, 0, 1, 2):
            cuts.add(e.offset + d)
        sep = data.find(b"\n\n", e.offset)
        cuts.update((sep, sep + 1, sep + 2))
        cl = data.find(b"Content-Length: ", e.offset, sep)
        if cl >= 0:
            cuts.update(range(cl, cl + 20))
    return sorted(c for c in cuts if 0 < c < len(data))


@pytest.mark.parametrize("name", LARGE)
def test_random_splits_large(name: str) -> None:
    data = raw(name)
    expected = reference(name)
    rng = random.Random(f"wire-{name}")
    for trial in range(16):
        k = rng.choice([1, 3, 30, 300, 3000])
        cuts = [rng.randrange(1, len(data)) for _ in range(k)]
        frames, parser = feed_chunks(data, cuts)
        assert frames == expected, f"trial {trial}: cuts {sorted(cuts)[:10]}..."
        assert parser.pending == 0
    # each boundary-adjacent cut on its own (two chunks)...
    for cut in _boundary_cuts(name):
        frames, parser = feed_chunks(data, [cut])
        assert frames == expected, f"split at byte {cut}"
    # ...and all of them at once (many tiny chunks)
    frames, parser = feed_chunks(data, _boundary_cuts(name))
    assert frames == expected


def test_one_byte_chunks() -> None:
    data = raw("call_sipp_busy")
    parser = FrameParser()
    frames = []
    for i in range(len(data)):
        frames.extend(parser.feed(data[i : i + 1]))
    assert frames == reference("call_sipp_busy")


def test_all_transcripts_in_one_chunk() -> None:
    data = b"".join(raw(n) for n in NAMES)
    expected = [f for n in NAMES for f in reference(n)]
    assert FrameParser().feed(data) == expected
    assert len(expected) == sum(len(index(n)) for n in NAMES)


def test_memoryview_and_bytearray_chunks() -> None:
    data = raw("api_ok")
    parser = FrameParser()
    frames = parser.feed(bytearray(data[:100])) + parser.feed(memoryview(data)[100:])
    assert frames == reference("api_ok")
    assert all(type(f.body) is bytes for f in frames)


def test_header_order_is_irrelevant() -> None:
    body = b"Event-Name: HEARTBEAT\nUnique-ID: x\n\n"
    a = FrameParser().feed(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    b = FrameParser().feed(b"Content-Type: text/event-plain\nContent-Length: %d\n\n" % len(body) + body)
    assert a == b
    assert a[0].body == body and Event.from_frame(a[0]).name == "HEARTBEAT"


def test_json_frames_with_no_newline_between() -> None:
    """JSON event bodies end with ``}`` and the next frame follows at once."""
    data = raw("call_selfloop_json")
    assert b"}Content-Length: " in data
    frames = reference("call_selfloop_json")
    for f in frames:
        if f.content_type == "text/event-json":
            assert f.body.startswith(b"{") and f.body.endswith(b"}")


def test_stray_newlines_between_frames_are_skipped() -> None:
    a = serialize.command_reply("+OK accepted")
    b = serialize.api_response("+OK\n")
    frames = FrameParser().feed(b"\n" + a + b"\n\n" + b)
    assert [f.content_type for f in frames] == [COMMAND_REPLY, API_RESPONSE]
    assert frames[1].body == b"+OK\n"


def test_disconnect_notices() -> None:
    """The linger notice has Content-Length 0; the next frame follows directly."""
    frames = reference("myevents_filter")
    notices = [f for f in frames if f.content_type == DISCONNECT_NOTICE]
    assert [n.disposition for n in notices] == ["linger", "disconnect"]
    linger, final = notices
    assert linger.headers["Content-Length"] == "0" and linger.body == b""
    assert linger.headers["Linger-Time"] == "-1"
    assert linger.headers["Channel-Name"] == "sofia/external/answer@127.0.0.1:5080"
    assert final.body == GOODBYE
    after_linger = frames[frames.index(linger) + 1]
    assert after_linger.content_type == "text/event-plain"
    # auth failure: reply, then a plain notice without disposition, then EOF
    fail = reference("auth_fail")
    assert [f.content_type for f in fail] == ["auth/request", COMMAND_REPLY, DISCONNECT_NOTICE]
    assert fail[1].reply_text == "-ERR invalid" and not fail[1].ok
    assert fail[2].disposition is None and fail[2].body == GOODBYE


def test_log_data_headers_after_content_length() -> None:
    logs = [f for f in reference("log_data") if f.content_type == LOG_DATA]
    assert len(logs) == 18
    for f in logs:
        assert f.headers["Log-Level"] in ("5", "6")
        assert f.body.endswith(b"\n")
        assert len(f.body) == int(f.headers["Content-Length"])


def test_rude_rejection() -> None:
    frames = FrameParser().feed(serialize.rude_rejection())
    assert frames[0].content_type == "text/rude-rejection"
    assert frames[0].body == b"Access Denied, go away.\n"


def test_big_body_over_many_chunks_is_linear() -> None:
    """A multi-megabyte api/response arriving in small chunks is not re-copied
    on every chunk (that would take many seconds here)."""
    body = b"x" * (8 << 20)
    data = serialize.api_response(body) + serialize.command_reply("+OK")
    parser = FrameParser()
    frames: list[Frame] = []
    start = time.process_time()
    for i in range(0, len(data), 4096):
        frames.extend(parser.feed(data[i : i + 4096]))
        if not frames:
            assert parser.pending == min(i + 4096, len(data))
    elapsed = time.process_time() - start
    assert [f.content_type for f in frames] == [API_RESPONSE, COMMAND_REPLY]
    assert frames[0].body == body
    assert elapsed < 2.0, f"{elapsed:.2f}s CPU for 8 MB in 4 KB chunks"


# -- malformed input -------------------------------------------------------------

GOOD = serialize.command_reply("+OK accepted") + serialize.api_response("+OK\n")


@pytest.mark.parametrize("length", [b"abc", b"-1", b"+5", b"1_0", b" 5", b"5 ", b"", b"0x10",
                                    b"\xd9\xa3"])
def test_bad_content_length(length: bytes) -> None:
    bad = b"Content-Type: api/response\nContent-Length: " + length + b"\n\nhello"
    with pytest.raises(MalformedFrameError) as err:
        FrameParser().feed(GOOD + bad)
    assert "Content-Length" in str(err.value) and "number" in str(err.value)
    assert [f.content_type for f in err.value.frames] == [COMMAND_REPLY, API_RESPONSE]
    assert err.value.data == bad  # nothing lost
    assert isinstance(err.value, ProtocolError)


def test_header_line_without_colon() -> None:
    bad = b"Content-Type: command/reply\nthis line has no colon\n\n"
    parser = FrameParser()
    with pytest.raises(MalformedFrameError) as err:
        parser.feed(GOOD + bad + GOOD)
    assert "malformed header line 'this line has no colon'" in str(err.value)
    assert f"at byte {len(GOOD)}" in str(err.value)
    assert len(err.value.frames) == 2
    assert err.value.data == bad + GOOD
    # the bad bytes stay buffered: feeding more raises again, never skips them
    with pytest.raises(MalformedFrameError) as again:
        parser.feed(b"x")
    assert again.value.data == bad + GOOD + b"x"
    assert again.value.frames == []


def test_error_in_a_later_chunk_keeps_earlier_frames() -> None:
    parser = FrameParser()
    first = parser.feed(GOOD + b"Content-Type: api/response\nContent-Le")
    assert len(first) == 2
    with pytest.raises(MalformedFrameError) as err:
        parser.feed(b"ngth: zz\n\n")
    assert err.value.frames == []
    assert err.value.data == b"Content-Type: api/response\nContent-Length: zz\n\n"


def test_never_ending_header_block() -> None:
    parser = FrameParser()
    assert parser.feed(GOOD) != []
    junk = b"X-Junk: " + b"a" * 1000 + b"\n"
    sent = 0
    start = time.process_time()
    with pytest.raises(MalformedFrameError) as err:
        while True:
            sent += len(junk)
            parser.feed(junk)
            assert sent <= MAX_HEADER_BLOCK + len(junk), "no error past the header limit"
    assert time.process_time() - start < 1.0, "buffering a long header block is quadratic"
    assert "no end of headers" in str(err.value)
    assert err.value.data == junk * (sent // len(junk))  # nothing lost
    assert err.value.frames == []


def test_huge_content_length_refused() -> None:
    with pytest.raises(MalformedFrameError, match="larger than"):
        FrameParser().feed(b"Content-Type: api/response\nContent-Length: 99999999999\n\n")


# -- CommandParser (what mod_event_socket reads) -----------------------------------

def test_command_parser_reads_like_freeswitch() -> None:
    data = (b"\r\n\nauth ClueCon\n\n"
            b"api status\r\n\r\n"
            b"sendmsg u1\ncall-command: execute\nexecute-app-name:   playback\n"
            b"execute-app-arg: tone_stream://%(100,0,440) \n\n"
            b"sendmsg u2\ncall-command: execute\ncontent-type: text/plain\ncontent-LENGTH: 5\n\na\nb\nc"
            b"event plain ALL\n\r\n")
    parser = CommandParser()
    cmds = parser.feed(data)
    assert parser.pending == 0
    assert [c.line for c in cmds] == ["auth ClueCon", "api status", "sendmsg u1", "sendmsg u2",
                                      "event plain ALL"]
    assert cmds[1].verb == "api" and cmds[1].arg == "status"
    # spaces after the colon are skipped, trailing ones kept (FreeSWITCH's read_packet)
    assert cmds[2].headers == {"call-command": "execute", "execute-app-name": "playback",
                               "execute-app-arg": "tone_stream://%(100,0,440) "}
    assert cmds[3].body == b"a\nb\nc"
    assert cmds[3].headers["content-LENGTH"] == "5"


def test_command_parser_every_split_point() -> None:
    data = b"".join(c for c in [
        b"auth ClueCon\n\n", b"event plain ALL\n\n",
        b"sendmsg u\ncall-command: execute\nexecute-app-name: playback\n"
        b"content-type: text/plain\nContent-Length: 3\n\nx\ny", b"exit\n\n"])
    expected = CommandParser().feed(data)
    assert len(expected) == 4 and expected[2].body == b"x\ny"
    for cut in range(1, len(data)):
        p = CommandParser()
        assert p.feed(data[:cut]) + p.feed(data[cut:]) == expected, cut


def test_command_parser_bad_content_length() -> None:
    with pytest.raises(MalformedFrameError) as err:
        CommandParser().feed(b"exit\n\nsendmsg u\nContent-Length: lots\n\n")
    assert err.value.frames == [Command("exit")]
    assert err.value.data == b"sendmsg u\nContent-Length: lots\n\n"
