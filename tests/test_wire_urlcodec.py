"""URL encoding: one rule, encode and decode agree, the fast path gives the same bytes."""
from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from switchlab.wire.urlcodec import (
    UNSAFE,
    fs_url_decode,
    fs_url_encode,
    fs_url_encode_fast,
    needs_encoding,
)

#: text rich in what matters: unsafe characters, '%' (alone or before hex), controls
TRICKY = st.lists(st.one_of(st.sampled_from(list(UNSAFE) + ["%", "%4", "%41", "%zz", "%e9", "\x7f",
                                                           "\t", "é", "☃", "A", "0"]),
                            st.characters(exclude_categories=("Cs",))), max_size=30).map("".join)
_VALID_ESCAPE = re.compile(r"%[0-9A-F]{2}")


@settings(max_examples=500, deadline=None)
@given(TRICKY)
def test_fast_path_gives_the_same_bytes_as_the_codec(text: str) -> None:
    assert fs_url_encode_fast(text) == fs_url_encode(text)
    assert fs_url_encode_fast(text) == fs_url_encode(text)  # second call: from the memo
    if needs_encoding(text) is None:  # the emulator's "nothing to encode" shortcut
        assert fs_url_encode(text) == text


@settings(max_examples=500, deadline=None)
@given(TRICKY)
def test_decode_undoes_encode(text: str) -> None:
    assume(not _VALID_ESCAPE.search(text))  # a valid %XX is kept as it is (FreeSWITCH's rule)
    encoded = fs_url_encode(text)
    assert encoded.isascii() and not set(encoded) & (set(UNSAFE) - {"%"})
    assert fs_url_decode(encoded) == text


@settings(max_examples=500, deadline=None)
@given(TRICKY)
def test_encode_undoes_decode_on_encoded_values(text: str) -> None:
    assume(not _VALID_ESCAPE.search(text))
    wire = fs_url_encode(text)  # what an emulated or real FreeSWITCH sends
    assert fs_url_encode(fs_url_decode(wire)) == wire
