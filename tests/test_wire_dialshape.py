"""``parse_originate_shaped`` gives exactly what ``parse_originate`` gives."""
from __future__ import annotations

import string
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.wire import dialshape
from switchlab.wire.dialshape import parse_originate_shaped
from switchlab.wire.dialstring import DialStringError, originate_string, parse_originate

UUIDS = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
#: pieces of an originate text: uuids land in values, users, hosts, app args, names,
#: next to brackets, quotes and separators, or where the parser fails
PIECES = st.lists(st.one_of(
    UUIDS, UUIDS, st.sampled_from(["{", "}", "[", "]", "<", ">", ",", "=", "'", "^^:", " ",
                                   "sofia/external/", "@127.0.0.1:5080", " &park()",
                                   " &playback(", ")", "loopback/", "origination_uuid=",
                                   "a=", "x", "9196", " XML default", "\\,"]),
    st.text(string.ascii_letters + string.digits + "._-:/@", max_size=5)), max_size=14)


def _same(text: str) -> None:
    try:
        want = parse_originate(text)
    except DialStringError as exc:
        with pytest.raises(DialStringError) as got:
            parse_originate_shaped(text)
        assert (got.value.cause, str(got.value)) == (exc.cause, str(exc))
        return
    assert parse_originate_shaped(text) == want


@settings(max_examples=400, deadline=None)
@given(PIECES)
def test_any_text_parses_as_parse_originate_does(pieces):
    text = "".join(pieces)
    _same(text)  # learns the shape
    _same(text)  # uses it


NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
VALUES = st.one_of(UUIDS, UUIDS.map(lambda u: f"x-{u}"), UUIDS.map(lambda u: f"'{u},{u}'"),
                   st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=6))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=4), st.dictionaries(NAMES, VALUES, max_size=2),
       st.one_of(UUIDS, st.just("answer")),
       st.one_of(st.just("&park()"), UUIDS.map(lambda u: f"&playback({u})"),
                 st.just("9196 XML default"), UUIDS.map(lambda u: f"{u} XML default")))
def test_well_formed_originates_parse_as_parse_originate_does(call_vars, leg_vars, user, target):
    block = "{" + ",".join(f"{k}={v}" for k, v in call_vars.items()) + "}" if call_vars else ""
    leg = "[" + ",".join(f"{k}={v}" for k, v in leg_vars.items()) + "]" if leg_vars else ""
    text = f"{block}{leg}sofia/external/{user}@127.0.0.1:5080 {target}"
    _same(text)
    _same(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(UUIDS, min_size=2, max_size=2), st.lists(UUIDS, min_size=2, max_size=2),
       st.sampled_from(["answer", "9196"]))
def test_switchlab_originates_differing_only_in_uuids_each_get_their_own(first, second, user):
    def command(uuids):
        return originate_string(f"{user}@127.0.0.1:5080", vars={
            "origination_uuid": uuids[0], "sip_h_X-switchlab_uuid": uuids[0],
            "sip_h_X-switchlab_app": uuids[1], "note": f"call-{uuids[1]}-x",
            "originate_timeout": 60}).partition(" ")[2]
    a, b = command(first), command(second)
    ra, rb = parse_originate_shaped(a), parse_originate_shaped(b)
    assert ra == parse_originate(a) and rb == parse_originate(b)
    assert rb.variables["note"] == f"call-{second[1]}-x" and rb.raw == b
    shape = tuple(dialshape._UUID.split(b)[0::2])
    assert dialshape._SHAPES[shape] is not None  # the shape was reused, not parsed again


def test_a_uuid_outside_the_values_is_parsed_in_full_every_time():
    u1, u2 = str(uuid.uuid4()), str(uuid.uuid4())
    ra = parse_originate_shaped(f"sofia/external/{u1}@127.0.0.1:5080 &park()")
    rb = parse_originate_shaped(f"sofia/external/{u2}@127.0.0.1:5080 &park()")
    assert (ra.endpoint.user, rb.endpoint.user) == (u1, u2)
    shape = ("sofia/external/", "@127.0.0.1:5080 &park()")
    assert shape in dialshape._SHAPES and dialshape._SHAPES[shape] is None


def test_requests_share_nothing_a_caller_may_change():
    text = "{origination_uuid=%s,a=1}[b=2]sofia/external/answer@127.0.0.1:5080 &park()"
    ra = parse_originate_shaped(text % uuid.uuid4())
    ra.variables["a"] = "changed"
    ra.leg_variables["b"] = "changed"
    ra.app = "changed"
    rb = parse_originate_shaped(text % uuid.uuid4())
    assert (rb.variables["a"], rb.leg_variables["b"], rb.app) == ("1", "2", "park")


def test_a_bad_command_gets_the_same_error_with_its_own_text():
    bad = f"{{origination_uuid={uuid.uuid4()}}}"
    with pytest.raises(DialStringError) as got:
        parse_originate_shaped(bad)
    with pytest.raises(DialStringError) as want:
        parse_originate(bad)
    assert (got.value.cause, str(got.value)) == (want.value.cause, str(want.value))
