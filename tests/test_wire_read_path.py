"""The fast read path (issue 12) equals the plain, slow reading of the same bytes.

* ``FrameParser.feed_mixed`` (a small plain event as ``b"\\n" + body``, no
  ``Frame``) gives, in any chunking, what ``feed`` gives, and fails alike;
* a lookup on such bytes (one search of ``\\nName: `` per lookup, one shared
  check that no body starts before a match) equals a straightforward split of
  the header block, for raw values holding ``": "``, ``%``, ``\\r``, names only
  in the body, ``Content-Length`` bodies, escaped and impossible names, and
  events big enough to be searched in their header block only;
* ``ESLProtocol`` hands out the same events from those bytes as from frames.
"""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.errors import MalformedFrameError
from switchlab.esl.protocol import ESLProtocol
from switchlab.wire import Event, Frame, FrameParser, serialize
from switchlab.wire.events import SCAN_WHOLE_MAX
from switchlab.wire.frames import EVENT_PLAIN
from switchlab.wire.urlcodec import decode_value


def straightforward(raw: bytes) -> tuple[dict[str, str], bytes]:
    """Headers (first line of a name wins) and body, the slow obvious way."""
    head, _, rest = raw.partition(b"\n\n")
    out: dict[str, str] = {}
    for line in head.split(b"\n"):
        name, sep, value = line.partition(b": ")
        if sep:
            out.setdefault(name.decode("utf-8", "replace"), decode_value(value))
    n = int(out.get("Content-Length", "0"))
    return out, rest[:n]


_NAME = st.sampled_from(["Event-Name", "Unique-ID", "Channel-Name", "variable_switch_r_sdp",
                         "Job-UUID", "X", "a b", "a%20b", "é", "Content-Type", "Unique-ID-2"])
# raw value bytes: anything but a line break, ": " and "%" included
_VALUE = st.binary(max_size=24).map(lambda b: b.replace(b"\n", b"")) | st.sampled_from(
    [b"a: b", b"%", b"%41%zz", b"v=0%0D%0Ao=-", b"Content-Length: 3", b"\r", b""])
_BODY_LINE = st.tuples(_NAME | st.just("Content-Length"), _VALUE)


def event_bytes(lines: list[tuple[str, bytes]], body: list[tuple[str, bytes]] | None,
                filler_at: int | None) -> bytes:
    """A plain event as FreeSWITCH lays it out: header lines, then
    ``Content-Length`` and the body when there is one, else a blank line."""
    lines = list(lines)
    if filler_at is not None:  # big enough to be searched in its header block only
        lines.insert(filler_at % (len(lines) + 1), ("X-Filler", b"f" * SCAN_WHOLE_MAX))
    raw = b"".join(k.encode() + b": " + v + b"\n" for k, v in lines)
    if body is None:
        return raw + b"\n"
    data = b"".join(k.encode() + b": " + v + b"\n" for k, v in body) + b"tail"
    return raw + b"Content-Length: %d\n\n" % len(data) + data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_NAME, _VALUE), min_size=1, max_size=8),
       st.none() | st.lists(_BODY_LINE, max_size=4),
       st.none() | st.integers(0, 8),
       st.lists(_NAME | st.sampled_from(["Content-Length", "", "a: b", "x\ny", "a\ufffdb"]),
                min_size=1, max_size=10))
def test_lookups_equal_a_straightforward_split(lines: list[tuple[str, bytes]],
                                               body: list[tuple[str, bytes]] | None,
                                               filler_at: int | None, order: list[str]) -> None:
    raw = event_bytes(lines, body, filler_at)
    expected, expected_body = straightforward(raw)
    for ev in (Event.from_plain(raw), Event.from_wire(b"\n" + raw)):
        for name in order + order:  # in any order, twice (the second time from the memo)
            assert ev.get(name) == expected.get(name), name
            assert (name in ev) == (name in expected)
        assert ev.body == expected_body
        assert ev.raw == raw
    full = Event.from_plain(raw)
    assert full.headers == expected and full.body == expected_body


def test_a_big_event_is_searched_in_its_header_block_only() -> None:
    body = b"Unique-ID: forged\n" * (SCAN_WHOLE_MAX // 10)
    raw = serialize.event_plain_body([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j")], body)
    assert len(raw) > SCAN_WHOLE_MAX
    (item,) = FrameParser().feed_mixed(serialize.event_plain(
        [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j")], body))
    assert isinstance(item, Frame)  # too big to come as bytes: a frame, as before
    ev = Event.from_frame(item)
    assert ev.uuid is None and ev.job_uuid == "j" and ev.body == body and ev.raw == raw
    assert ev.get("Content-Length") == str(len(body))


# -- framing ----------------------------------------------------------------------------

def _mixed_of(frames: list[Frame]) -> list[Frame | bytes]:
    return [b"\n" + f.body if f.content_type == EVENT_PLAIN and len(f.body) < SCAN_WHOLE_MAX
            else f for f in frames]


_FRAME = st.one_of(
    st.builds(lambda name, uid: serialize.event_plain([("Event-Name", name), ("Unique-ID", uid)]),
              st.sampled_from(["API", "CHANNEL_ANSWER"]), st.text(max_size=8)),
    st.builds(lambda out: serialize.event_plain([("Event-Name", "BACKGROUND_JOB")], out),
              st.binary(min_size=1, max_size=40)),
    st.builds(serialize.api_response, st.binary(max_size=30)),
    st.builds(serialize.command_reply, st.sampled_from(["+OK", "-ERR no"])),
    st.builds(lambda h: serialize.event_json([("Event-Name", "API"), ("X", h)]), st.text(max_size=8)),
    st.just(b"\n"),  # a stray newline between frames
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAME, min_size=1, max_size=8), st.lists(st.integers(1, 200), max_size=12),
       st.sampled_from([b"", b"Content-Type: x\nContent-Length: zz\n\n", b"no colon\n\n",
                        b"Content-Length: 5\n"]))
def test_feed_mixed_equals_feed_in_any_chunking(frames: list[bytes], cuts: list[int],
                                                junk: bytes) -> None:
    data = b"".join(frames) + junk
    whole = FrameParser()
    try:
        expected, error = _mixed_of(whole.feed(data)), None
    except MalformedFrameError as exc:
        expected, error = _mixed_of(exc.frames), exc
    parser, got, failed = FrameParser(), [], None
    pos = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        try:
            got += parser.feed_mixed(data[pos:cut])
        except MalformedFrameError as exc:
            got += exc.frames
            failed = exc
            break
        pos = cut
    assert got == expected
    assert (failed is None) == (error is None)
    if error is not None and failed is not None:
        assert failed.data == error.data and str(failed) == str(error)
    else:
        assert parser.pending == whole.pending


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_the_protocol_hands_out_the_same_events_from_bytes(chunk: int) -> None:
    bodies = [b"+OK x\nUnique-ID: forged\n", b"%41", b"-ERR no\n"]
    data = b"".join(serialize.event_plain(
        [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", f"j{k}"), ("Unique-ID", "u%d" % k)], body)
        for k, body in enumerate(bodies)) + serialize.event_plain(
        [("Event-Name", "CHANNEL_ANSWER"), ("Channel-Name", "sofia/x@y"), ("V", "a: b%")])
    loop = asyncio.new_event_loop()
    try:
        proto = ESLProtocol(loop.create_future, host="h")
        seen: list[Event] = []
        proto.emit = seen.append
        for i in range(0, len(data), chunk):
            proto.receive_data(data[i : i + chunk])
    finally:
        loop.close()
    frames = FrameParser().feed(data)
    assert len(seen) == len(frames) == proto.events_received == 4
    for ev, frame in zip(seen, frames):
        ref = Event.from_frame(frame)
        assert ev.header_list() == ref.header_list() and ev.body == ref.body
        assert (ev.name, ev.uuid, ev.job_uuid, ev.host) == (ref.name, ref.uuid, ref.job_uuid, "h")
        assert ev.raw == frame.body and ev.received > 0
