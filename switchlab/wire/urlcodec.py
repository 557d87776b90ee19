"""FreeSWITCH's URL encoding of event header values (``switch_url_encode``).

FreeSWITCH escapes ``SWITCH_URL_UNSAFE`` (``\\r\\n #%&+:;<=>?@[\\]^`{|}"``) and
every byte outside printable ASCII as ``%XX`` (upper-case hex), but leaves an
already valid ``%XX`` sequence alone (it does not double-encode). Decoding is
plain ``%XX`` unescaping of the bytes, then UTF-8; ``+`` stays ``+``.
"""
from __future__ import annotations

import codecs
import re
from urllib.parse import unquote, unquote_to_bytes

#: ``SWITCH_URL_UNSAFE``: escaped as ``%XX`` with every byte outside printable ASCII
UNSAFE = "\r\n #%&+:;<=>?@[\\]^`{|}\""
_UNSAFE = frozenset(UNSAFE.encode("ascii"))
_HEX_UPPER = frozenset(b"0123456789ABCDEF")
#: printable ASCII that is left as it is; one negated character class scans fastest
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in UNSAFE)
_NEEDS_ENCODING = re.compile(f"[^{re.escape(_SAFE)}]")
_TABLE = [
    f"%{b:02X}" if (b in _UNSAFE or b < 0x20 or b > 0x7E) else chr(b) for b in range(256)
]
#: ``needs_encoding(value)`` is None when :func:`fs_url_encode` returns ``value`` unchanged
needs_encoding = _NEEDS_ENCODING.search

# ``codecs.escape_decode`` turns ``\xHH`` into a byte in C, ten times faster than
# ``unquote_to_bytes`` on SDP-sized values. It is undocumented, so it is only a
# fast path: every result equals ``unquote_to_bytes`` (see _unquote_bytes).
_escape_decode = getattr(codecs, "escape_decode", None)


def fs_url_encode(value: str) -> str:
    """Encode ``value`` exactly as FreeSWITCH does in plain events.

    >>> fs_url_encode("sofia/external/x@127.0.0.1:5080")
    'sofia/external/x%40127.0.0.1%3A5080'
    >>> fs_url_encode("tone_stream://%(200,0,500)")
    'tone_stream%3A//%25(200,0,500)'
    """
    if _NEEDS_ENCODING.search(value) is None:
        return value
    data = value.encode("utf-8")
    out = []
    n = len(data)
    i = 0
    table = _TABLE
    while i < n:
        b = data[i]
        if b == 0x25 and i + 2 < n and data[i + 1] in _HEX_UPPER and data[i + 2] in _HEX_UPPER:
            out.append(data[i : i + 3].decode("ascii"))
            i += 3
            continue
        out.append(table[b])
        i += 1
    return "".join(out)


def _unquote_bytes(raw: bytes) -> bytes:
    """``%XX`` → byte over raw bytes; anything else (``%`` + non-hex) is kept."""
    if _escape_decode is not None:
        # Only \\ and \xHH escapes can result: every backslash is doubled first
        # and every % becomes \x. A % without two hex digits makes escape_decode
        # raise, and the exact general decoder below takes over.
        data = raw.replace(b"\\", b"\\\\") if b"\\" in raw else raw
        try:
            decoded: bytes = _escape_decode(data.replace(b"%", b"\\x"))[0]
            return decoded
        except ValueError:
            pass
    return unquote_to_bytes(raw)


def decode_value(raw: bytes) -> str:
    """Decode one raw header value as received (bytes) to text.

    ``%XX`` escapes are undone byte-wise, then the bytes are read as UTF-8
    (invalid sequences become U+FFFD), as FreeSWITCH's own decoder does.

    >>> decode_value(b"v=0%0D%0Ao=- 1")
    'v=0\\r\\no=- 1'
    """
    if b"%" not in raw:
        return raw.decode("utf-8", "replace")
    return _unquote_bytes(raw).decode("utf-8", "replace")


# Escaped raw value -> decoded text. FreeSWITCH repeats most values over the
# events of a call (Channel-Name, the SDP variables, caller ids...), and
# un-escaping is the costliest part of an event lookup: the same bytes are decoded once.
DECODED_MEMO: dict[bytes, str] = {}
_DECODED_MEMO_MAX = 2048
_DECODED_MEMO_VALUE_MAX = 4096


def decode_escaped(value: bytes) -> str:
    """:func:`decode_value` of a value holding a ``%``, remembered in :data:`DECODED_MEMO`.

    >>> decode_escaped(b"a%20b"), DECODED_MEMO[b"a%20b"]
    ('a b', 'a b')
    """
    text = decode_value(value)
    if len(value) <= _DECODED_MEMO_VALUE_MAX:
        if len(DECODED_MEMO) >= _DECODED_MEMO_MAX:
            DECODED_MEMO.clear()
        DECODED_MEMO[value] = text
    return text


def fs_url_decode(value: str) -> str:
    """Decode one header value (``%XX`` escapes only; UTF-8 text).

    >>> fs_url_decode("v=0%0D%0Ao=- 1")
    'v=0\\r\\no=- 1'
    """
    if "%" not in value:
        return value
    if value.isascii():
        return _unquote_bytes(value.encode("ascii")).decode("utf-8", "replace")
    return unquote(value, errors="replace")


# -- the emulator's fast path: same rule, memoized and ASCII-specialized -------------------
#: unsafe ASCII characters (but '%') and controls -> their escape
_ESCAPES = {chr(b): _TABLE[b] for b in range(0x80) if _TABLE[b] != chr(b) and b != 0x25}
_UNSAFE_CHARS = frozenset(_ESCAPES)
_LONE_PERCENT = re.compile(r"%(?![0-9A-F]{2})")
#: the unsafe characters checked one by one ('in' is a fast scan); the rare (control)
#: ones with one regex scan
_COMMON_UNSAFE = tuple(ch for ch in UNSAFE if ch != "%")
_RARE_UNSAFE = re.compile(
    "[" + re.escape("".join(sorted(_UNSAFE_CHARS - set(_COMMON_UNSAFE)))) + "]")
_ENC_CACHE: dict[str, str] = {}
#: small enough to stay in a core's cache: the values that recur (a profile's URIs) are
#: few, and those met once (a call's SIP values) only pass through
_ENC_CACHE_MAX = 16_384


def fs_url_encode_fast(value: str) -> str:
    """:func:`fs_url_encode`, fast: memo for short values, ``str.replace`` for ASCII.

    Same result as :func:`fs_url_encode` for every input (a property test checks
    it); replacing only the characters present beats ``str.translate`` with an
    expanding table by far on header values.

    >>> fs_url_encode_fast("100%(x) a@b")
    '100%25(x)%20a%40b'

    A value with nothing to escape (a UUID, a stamp, a number: most values met once) is
    returned before the memo is looked at: the memo holds escaped values only, and a
    look-up of a value it cannot hold cost a hash and a cache miss.
    """
    if _NEEDS_ENCODING.search(value) is None:
        return value
    hit = _ENC_CACHE.get(value)
    if hit is not None:
        return hit
    if value.isascii():
        out = value
        if "%" in out:
            out = _LONE_PERCENT.sub("%25", out)  # first: the other escapes add valid %XX
        for ch in _COMMON_UNSAFE:
            if ch in out:
                out = out.replace(ch, _ESCAPES[ch])
        if _RARE_UNSAFE.search(out) is not None:
            for ch in _UNSAFE_CHARS.intersection(out):
                out = out.replace(ch, _ESCAPES[ch])
    else:
        out = fs_url_encode(value)
    if len(value) < 128:
        if len(_ENC_CACHE) >= _ENC_CACHE_MAX:
            _ENC_CACHE.clear()
        _ENC_CACHE[value] = out
    return out


def remember_encoding(raw: str, encoded: str) -> None:
    """Tell :func:`fs_url_encode_fast` the encoding of a long value computed elsewhere
    (an SDP body encoded once per media port)."""
    if len(_ENC_CACHE) >= _ENC_CACHE_MAX:
        _ENC_CACHE.clear()
    _ENC_CACHE[raw] = encoded
