"""Decoded event values equal what FreeSWITCH 1.11 sent.

The expected values below were written by hand from the raw bytes of the
transcripts (see the comments quoting them), not computed by switchlab.
"""
from __future__ import annotations

import json
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fswire import frame_bytes, index, transcript_names
from switchlab.errors import ProtocolError
from switchlab.wire import EVENT_JSON, EVENT_PLAIN, EVENT_TYPES, Event, FrameParser, serialize


def frame_of(name: str, event_name: str, uid: str | None = None):
    """The frame of transcript ``name`` the index lists as ``event_name [uid]``."""
    for k, e in enumerate(index(name)):
        words = e.extra.split()
        if e.content_type in EVENT_TYPES and words[:1] == [event_name] and (
                uid is None or words[1:2] == [uid]):
            (frame,) = FrameParser().feed(frame_bytes(name, k))
            return frame
    raise LookupError(f"{event_name} {uid} not in {name}")


def event_of(name: str, event_name: str, uid: str | None = None) -> Event:
    return Event.from_frame(frame_of(name, event_name, uid))


# -- hand-written expectations ------------------------------------------------------

# call_selfloop_plain, CHANNEL_CREATE of the inbound leg. Raw lines:
#   Event-Date-GMT: Thu,%2026%20Nov%202026%2011%3A16%3A06%20GMT
#   Event-Date-Timestamp: 1795691766132318
#   Channel-Name: sofia/external/1000%40127.0.0.1
#   variable_switch_r_sdp: v%3D0%0D%0Ao%3DFreeSWITCH%201795669828%201795669829%20IN%20IP4...
SDP_PLAIN = ("v=0\r\no=FreeSWITCH 1795669828 1795669829 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 21938 RTP/AVP 0 8 101 13\r\n"
             "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
             "a=fmtp:101 0-15\r\na=rtpmap:13 CN/8000\r\na=ptime:20\r\n")


def test_plain_channel_create() -> None:
    ev = event_of("call_selfloop_plain", "CHANNEL_CREATE", "f57e1669-9332-421a-bb23-ce4f37a7458b")
    assert ev.name == "CHANNEL_CREATE"
    assert ev.uuid == "f57e1669-9332-421a-bb23-ce4f37a7458b"
    assert ev["Event-Date-GMT"] == "Thu, 26 Nov 2026 11:16:06 GMT"
    assert ev["Event-Date-Local"] == "2026-11-26 11:16:06"
    assert ev["Event-Date-Timestamp"] == "1795691766132318"
    assert ev.timestamp_us == 1795691766132318
    assert ev["Channel-Name"] == "sofia/external/1000@127.0.0.1"
    assert ev["FreeSWITCH-IPv6"] == "fd00::2"
    assert ev["variable_switch_r_sdp"] == SDP_PLAIN
    assert ev["variable_ep_codec_string"] == (
        "CORE_PCM_MODULE.PCMU@8000h@20i@64000b,CORE_PCM_MODULE.PCMA@8000h@20i@64000b")
    assert ev.job_uuid is None and "Job-UUID" not in ev
    assert ev.body == b""
    # full decoding agrees with the lookups
    headers = ev.headers
    assert headers["variable_switch_r_sdp"] == SDP_PLAIN
    assert headers["Channel-Name"] == "sofia/external/1000@127.0.0.1"


def test_plain_background_job_body() -> None:
    # ...Job-Command-Arg: %7Borigination_caller_id_number%3D1000%7Dsofia/external/test%40127.0.0.1%3A5080%20%26park()
    # Content-Length: 41
    #
    # +OK 4c6198d3-901d-4e03-8997-4797f06e06ca\n
    ev = event_of("call_selfloop_plain", "BACKGROUND_JOB")
    assert ev.job_uuid == "6b9d906b-2eb2-44d4-adaa-baa9569279db"
    assert ev.body == b"+OK 4c6198d3-901d-4e03-8997-4797f06e06ca\n"
    assert ev["Job-Command"] == "originate"
    assert ev["Job-Command-Arg"] == (
        "{origination_caller_id_number=1000}sofia/external/test@127.0.0.1:5080 &park()")
    assert ev["Content-Length"] == "41"
    assert ev["Event-Date-Timestamp"] == "1795691766172314"
    assert ev.uuid is None
    assert "+OK 4c6198d3-901d-4e03-8997-4797f06e06ca" not in ev.headers.values()
    # failing originate: the body carries the cause
    busy = event_of("call_sipp_busy", "BACKGROUND_JOB")
    assert busy.body == b"-ERR USER_BUSY\n"


def test_json_events() -> None:
    # {"Event-Name":"BACKGROUND_JOB",...,"FreeSWITCH-IPv6":"fd00::2",...,"Event-Sequence":"1831",
    #  ...,"Content-Length":"41","_body":"+OK d38232f8-a224-4c93-8236-345d52f82927\n"}
    ev = event_of("call_selfloop_json", "BACKGROUND_JOB")
    assert ev.body == b"+OK d38232f8-a224-4c93-8236-345d52f82927\n"
    assert ev.job_uuid == "ffc26dba-a56e-45ed-b4e8-c77600030f2c"
    assert ev["Event-Sequence"] == "1831" and ev.sequence == 1831
    assert ev["FreeSWITCH-IPv6"] == "fd00::2"
    assert ev["Event-Date-GMT"] == "Thu, 26 Nov 2026 11:16:12 GMT"
    assert ev["Job-Command-Arg"] == (
        "{origination_caller_id_number=1000}sofia/external/test@127.0.0.1:5080 &park()")
    assert "_body" not in ev
    assert all(isinstance(v, str) for v in ev.values())
    # "variable_switch_r_sdp":"v=0\r\no=FreeSWITCH 1795664922 1795664923 IN IP4 127.0.0.1\r\n..."
    create = event_of("call_selfloop_json", "CHANNEL_CREATE", "69cb81c6-522e-43da-b7ac-8b0996734f06")
    sdp = create["variable_switch_r_sdp"]
    assert sdp.startswith("v=0\r\no=FreeSWITCH 1795664922 1795664923 IN IP4 127.0.0.1\r\n")
    assert sdp.endswith("a=rtpmap:13 CN/8000\r\na=ptime:20\r\n")
    assert create["Channel-Name"] == "sofia/external/1000@127.0.0.1"


def test_json_array_header_reads_like_plain() -> None:
    """``"variable_DP_MATCH":["test","test"]`` in JSON is ``ARRAY%3A%3Atest%7C%3Atest``
    in plain events: both decode to ``ARRAY::test|:test``."""
    json_ev = event_of("call_selfloop_json", "CHANNEL_PARK")
    assert b'"variable_DP_MATCH":["test","test"]' in json_ev.raw
    assert json_ev["variable_DP_MATCH"] == "ARRAY::test|:test"
    plain_ev = event_of("call_selfloop_plain", "CHANNEL_PARK")
    assert b"variable_DP_MATCH: ARRAY%3A%3Atest%7C%3Atest\n" in plain_ev.raw
    assert plain_ev["variable_DP_MATCH"] == "ARRAY::test|:test"


def test_xml_background_job() -> None:
    # <Job-Command-Arg>%7Borigination_uuid%3Df7819434-...%7Dsofia/external/answer%40127.0.0.1%3A5080%20%26park()</Job-Command-Arg>
    # <Content-Length>41</Content-Length>
    # <body>+OK f7819434-0db8-41a9-9559-7653a10954c5\n  </body>
    ev = event_of("event_xml", "BACKGROUND_JOB")
    assert ev.job_uuid == "d822b88f-3053-4b4f-a588-838631e4b1e7"
    assert ev["Job-Command-Arg"] == (
        "{origination_uuid=f7819434-0db8-41a9-9559-7653a10954c5,origination_caller_id_number=1000}"
        "sofia/external/answer@127.0.0.1:5080 &park()")
    assert ev["Event-Date-GMT"] == "Thu, 26 Nov 2026 11:55:09 GMT"
    assert ev["FreeSWITCH-IPv6"] == "fd00::2"
    assert ev["Event-Date-Timestamp"] == "1795694109320696"
    # the pretty-printer's "\n  " is cut off by the declared Content-Length
    assert ev.body == b"+OK f7819434-0db8-41a9-9559-7653a10954c5\n"
    create = event_of("event_xml", "CHANNEL_CREATE", "0e6ea30e-488e-4a0a-8217-032b6d61c4a9")
    assert create["variable_switch_r_sdp"].startswith(
        "v=0\r\no=FreeSWITCH 1795672769 1795672770 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\n")
    assert create["variable_ep_codec_string"] == (
        "CORE_PCM_MODULE.PCMU@8000h@20i@64000b,CORE_PCM_MODULE.PCMA@8000h@20i@64000b")


def test_log_data_frame() -> None:
    (frame,) = FrameParser().feed(frame_bytes("log_data", 4))
    assert frame.headers == {
        "Content-Type": "log/data", "Content-Length": "153", "Log-Level": "5",
        "Text-Channel": "3", "Log-File": "switch_channel.c", "Log-Func": "switch_channel_set_name",
        "Log-Line": "1143", "User-Data": "d404cc2e-05b5-4ddc-b287-fab29e6e5267"}
    assert frame.body == (b"2026-11-26 11:55:12.220676 98.57% [NOTICE] switch_channel.c:1143 New "
                          b"Channel sofia/external/answer@127.0.0.1:5080 "
                          b"[d404cc2e-05b5-4ddc-b287-fab29e6e5267]\n")


def test_replies_and_api_bodies() -> None:
    frames = FrameParser().feed(b"".join(frame_bytes("api_err", k) for k in range(len(index("api_err")))))
    api = [f for f in frames if f.content_type == "api/response"][0]
    assert api.body == b"-ERR no_such_command Command not found!\n" and not api.ok
    (bg,) = FrameParser().feed(frame_bytes("call_selfloop_plain", 3))
    assert bg.reply_text == "+OK Job-UUID: 6b9d906b-2eb2-44d4-adaa-baa9569279db"
    assert bg.headers["Job-UUID"] == "6b9d906b-2eb2-44d4-adaa-baa9569279db" and bg.ok


def events(name: str) -> list[Event]:
    frames = FrameParser().feed(b"".join(frame_bytes(name, k) for k in range(len(index(name)))))
    return [Event.from_frame(f) for f in frames if f.content_type in EVENT_TYPES]


def test_duplicate_headers_first_wins() -> None:
    """The second CODEC event of a leg repeats Channel-Write-Codec-Name (and -Rate):
    lookups return the first occurrence, header_list keeps both."""
    codecs = [e for e in events("call_selfloop_plain") if e.name == "CODEC"]
    codec = codecs[1]
    assert codec.uuid == "f57e1669-9332-421a-bb23-ce4f37a7458b" and codec.sequence == 1761
    assert [v for k, v in codec.header_list() if k == "Channel-Write-Codec-Name"] == ["PCMU", "PCMU"]
    assert codec["Channel-Write-Codec-Name"] == "PCMU"
    assert len(codec.header_list()) == len(codec) + 2  # two names appear twice
    # the same event with the second occurrence changed: the first still wins
    raw = codec.raw
    line = b"\nChannel-Write-Codec-Name: PCMU\n"
    first = raw.index(line)
    second = raw.index(line, first + 1)
    changed = raw[:second] + line.replace(b"PCMU", b"G722") + raw[second + len(line):]
    assert len(changed) == len(raw)
    assert Event.from_plain(changed)["Channel-Write-Codec-Name"] == "PCMU"
    full = Event.from_plain(changed)
    assert full.headers["Channel-Write-Codec-Name"] == "PCMU"
    assert [v for k, v in full.header_list() if k == "Channel-Write-Codec-Name"] == ["PCMU", "G722"]
    # JSON events carry the duplicate too (cJSON does not merge keys)
    jcodec = [e for e in events("call_selfloop_json") if e.name == "CODEC"][1]
    assert jcodec.raw.count(b'"Channel-Write-Codec-Name":"PCMU"') == 2
    assert [v for k, v in jcodec.header_list() if k == "Channel-Write-Codec-Name"] == ["PCMU", "PCMU"]
    member = b'"Channel-Write-Codec-Name":"PCMU"'
    k = jcodec.raw.rindex(member)
    jchanged = Event.from_json(jcodec.raw[:k] + member.replace(b"PCMU", b"G722")
                               + jcodec.raw[k + len(member):])
    assert jchanged["Channel-Write-Codec-Name"] == "PCMU"
    assert [v for k, v in jchanged.header_list() if k == "Channel-Write-Codec-Name"] == ["PCMU", "G722"]


# -- every event of every transcript ---------------------------------------------------

def reference_decode(content_type: str, body: bytes) -> tuple[dict[str, str], bytes]:
    """An independent, simple and slow decoder, to compare with."""
    if content_type == EVENT_PLAIN:
        head, _, rest = body.partition(b"\n\n")
        headers: dict[str, str] = {}
        for line in head.decode().split("\n"):
            name, sep, value = line.partition(": ")
            assert sep
            headers.setdefault(name, unquote(value))
        n = int(headers.get("Content-Length", 0))
        return headers, rest[:n]
    if content_type == EVENT_JSON:
        pairs = json.loads(body, object_pairs_hook=list)
        headers = {}
        for k, v in pairs:
            if k != "_body":
                headers.setdefault(k, v if isinstance(v, str) else "ARRAY::" + "|:".join(v))
        return headers, dict(pairs).get("_body", "").encode()
    root = ElementTree.fromstring(body)
    headers = {}
    for el in root.find("headers"):
        headers.setdefault(el.tag, unquote(el.text or ""))
    text = root.findtext("body")
    if text is None:
        return headers, b""
    headers["Content-Length"] = root.findtext("Content-Length")
    return headers, text.encode()[: int(headers["Content-Length"])]


@pytest.mark.parametrize("name", transcript_names())
def test_every_event_decodes_like_the_reference(name: str) -> None:
    frames = [f for f in FrameParser().feed(b"".join(
        frame_bytes(name, k) for k in range(len(index(name))))) if f.content_type in EVENT_TYPES]
    for frame in frames:
        expected, expected_body = reference_decode(frame.content_type, frame.body)
        full = Event.from_frame(frame)
        assert full.headers == expected
        assert full.body == expected_body
        assert list(full) == list(expected)  # wire order
        # each header read on its own from a fresh event is the same
        for key, value in expected.items():
            assert Event.from_frame(frame)[key] == value, key
        lazy = Event.from_frame(frame)
        assert lazy.body == expected_body
        assert lazy.get("No-Such-Header") is None and "No-Such-Header" not in lazy


def test_lookup_does_not_need_the_rest_decoded() -> None:
    """Lazy decoding: a malformed line elsewhere does not stop exact lookups,
    while decoding everything reports it."""
    raw = b"Event-Name: API\nbroken line\nUnique-ID: u%401\n\n"
    ev = Event.from_plain(raw)
    assert ev.name == "API" and ev.uuid == "u@1"
    with pytest.raises(ProtocolError, match="malformed event header line 'broken line'"):
        ev.headers


def test_body_shorter_than_declared_is_an_error() -> None:
    ev = Event.from_plain(b"Event-Name: BACKGROUND_JOB\nContent-Length: 41\n\n+OK short\n")
    assert ev.name == "BACKGROUND_JOB"
    with pytest.raises(ProtocolError, match="41-byte body but carries 10 bytes"):
        ev.body


def test_body_may_contain_header_like_lines() -> None:
    body = b"+OK\nUnique-ID: not-a-header\nEvent-Name: FORGED\n"
    (frame,) = FrameParser().feed(serialize.event_plain(
        [("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", "j1")], body))
    ev = Event.from_frame(frame)
    assert ev.uuid is None and ev.name == "BACKGROUND_JOB" and ev.body == body
    assert Event.from_frame(frame).headers == {"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j1",
                                               "Content-Length": str(len(body))}


def test_mapping_api_and_from_headers() -> None:
    ev = Event.from_headers({"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "17"}, b"x")
    assert ev.name == "HEARTBEAT" and ev.timestamp_us == 17 and ev.body == b"x"
    assert len(ev) == 2 and dict(ev) == {"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "17"}
    with pytest.raises(KeyError):
        ev["nope"]
    assert ev.get("nope", "d") == "d"
    assert repr(Event.from_plain(b"Event-Name: API\nUnique-ID: u1\n\n")) == "<Event API u1>"
    with pytest.raises(ProtocolError):
        Event.from_frame(FrameParser().feed(b"Content-Type: command/reply\nReply-Text: +OK\n\n")[0])
    with pytest.raises(ProtocolError, match="not JSON"):
        Event.from_json(b"{oops").name
    with pytest.raises(ProtocolError, match="not XML"):
        Event.from_xml(b"<event>").name


# -- security: an encoded newline never makes a header ---------------------------------

FORGE = "x\nEvent-Name: FORGED\nUnique-ID: forged\n\nContent-Length: 5\n\nhello"


@pytest.mark.parametrize("fmt", ["plain", "json", "xml"])
def test_encoded_newline_cannot_forge_headers(fmt: str) -> None:
    data = serialize.EVENT_ENCODERS[fmt](
        [("Event-Name", "CUSTOM"), ("Unique-ID", "real"), ("X-Evil", FORGE)])
    if fmt == "plain":
        assert b"X-Evil: x%0AEvent-Name%3A%20FORGED%0AUnique-ID%3A%20forged%0A%0A" in data
    (frame,) = FrameParser().feed(data)
    for ev in (Event.from_frame(frame), Event.from_frame(frame)):
        assert ev.name == "CUSTOM" and ev.uuid == "real"
    ev = Event.from_frame(frame)
    assert ev["X-Evil"] == FORGE
    assert ev.body == b""
    assert set(ev) == {"Event-Name", "Unique-ID", "X-Evil"}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True),
                       st.text(min_size=1), min_size=1, max_size=6),
       st.sampled_from(["plain", "json", "xml"]))
def test_no_value_can_create_a_header(headers: dict[str, str], fmt: str) -> None:
    items = [("Event-Name", "CUSTOM")] + [(k, v) for k, v in headers.items() if k != "Event-Name"]
    (frame,) = FrameParser().feed(serialize.EVENT_ENCODERS[fmt](items))
    ev = Event.from_frame(frame)
    assert set(ev) == {k for k, _ in items}
    assert ev.name == "CUSTOM"


# -- lazy lookup == full decoding, even for odd bytes -------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True),
                          st.binary(max_size=30).filter(lambda b: b"\n" not in b)),
                min_size=1, max_size=8),
       st.binary(max_size=40))
def test_lookups_equal_full_decoding(lines: list[tuple[str, bytes]], body: bytes) -> None:
    raw = b"".join(k.encode() + b": " + v + b"\n" for k, v in lines)
    if body:
        raw += b"Content-Length: %d\n\n" % len(body) + body
    else:
        raw += b"\n"
    full = Event.from_plain(raw)
    headers = full.headers
    for k, _ in lines + [("Content-Length", b"")]:
        assert Event.from_plain(raw).get(k) == headers.get(k)
    assert full.body == body == Event.from_plain(raw).body
    assert [k for k, _ in full.header_list()] == [k for k, _ in lines] + (
        ["Content-Length"] if body else [])


# -- the fast read path (shared scan, memoized un-escaping) == a straightforward parse -----

def straightforward(raw: bytes) -> dict[str, str]:
    """Split the header block at its blank line, each line at ': ', first name wins."""
    head = raw.partition(b"\n\n")[0]
    out: dict[str, str] = {}
    for line in head.split(b"\n"):
        name, _, value = line.partition(b": ")
        out.setdefault(name.decode(), unquote(value.decode("utf-8", "replace")))
    return out


_NAMES = st.sampled_from(["Event-Name", "Unique-ID", "Channel-Name", "Content-Length",
                          "variable_switch_r_sdp", "Job-UUID", "X-A", "A"])
_VALUES = st.text(alphabet=st.sampled_from("aZ09 :%\r\n\\=@é/"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES), min_size=1, max_size=10),
       st.lists(st.tuples(_NAMES, _VALUES), max_size=4),
       st.lists(_NAMES, min_size=1, max_size=12))
def test_any_order_of_lookups_equals_a_straightforward_parse(
        lines: list[tuple[str, str]], body_lines: list[tuple[str, str]],
        order: list[str]) -> None:
    """Headers in any order (duplicates too), a body made of header-like lines
    (``Content-Length`` ones included), looked up in any order, repeatedly, on one
    event: every value equals the straightforward parse's; names only in the body
    are absent."""
    lines = [(k, v) for k, v in lines if k != "Content-Length"]
    if not lines:
        return
    body = b"".join(k.encode() + b": " + serialize.fs_url_encode(v).encode() + b"\n"
                    for k, v in body_lines)
    raw = b"".join(k.encode() + b": " + serialize.fs_url_encode(v).encode() + b"\n"
                   for k, v in lines)
    raw += b"Content-Length: %d\n\n" % len(body) + body if body else b"\n"
    expected = straightforward(raw)
    ev = Event.from_plain(raw)
    for name in order + order:
        assert ev.get(name) == expected.get(name), name
    assert ev.body == body
    assert ev.headers == expected  # full decoding after lookups agrees too
    for name in order:
        assert ev.get(name) == expected.get(name)


def test_value_memo_returns_exact_text_for_each_raw_value() -> None:
    """The same escaped bytes decode to the same text; different bytes never share it."""
    a = Event.from_plain(b"Event-Name: X\nV: a%20b%0D%0A\n\n")
    b = Event.from_plain(b"Event-Name: X\nV: a%20b%0D%0B\n\n")
    c = Event.from_plain(b"Event-Name: X\nW: a%20b%0D%0A\n\n")
    assert (a["V"], b["V"], c["W"]) == ("a b\r\n", "a b\r\x0b", "a b\r\n")
