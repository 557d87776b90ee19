"""FreeSWITCH's URL encoding of event header values (``switch_url_encode``).

FreeSWITCH escapes ``SWITCH_URL_UNSAFE`` (``\\r\\n #%&+:;<=>?@[\\]^`{|}"``) and
every byte outside printable ASCII as ``%XX`` (upper-case hex), but leaves an
already valid ``%XX`` sequence alone (it does not double-encode). Decoding is
plain ``%XX`` unescaping; ``+`` stays ``+``.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

_UNSAFE = frozenset(b"\r\n #%&+:;<=>?@[\\]^`{|}\"")
_HEX_UPPER = frozenset(b"0123456789ABCDEF")
_NEEDS_ENCODING = re.compile(r'[^\x21-\x7e]|[#%&+:;<=>?@\[\\\]^`{|}"]')
_TABLE = [
    f"%{b:02X}" if (b in _UNSAFE or b < 0x20 or b > 0x7E) else chr(b) for b in range(256)
]


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


def fs_url_decode(value: str) -> str:
    """Decode one header value (``%XX`` escapes only; UTF-8 text).

    >>> fs_url_decode("v=0%0D%0Ao=- 1")
    'v=0\\r\\no=- 1'
    """
    if "%" not in value:
        return value
    return unquote(value, errors="replace")
