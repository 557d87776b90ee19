"""Identifiers and SDP bodies of the virtual SIP dialogues (no packets are sent).

>>> len(sip_tag()), branch().startswith("z9hG4bK")
(13, True)
"""
from __future__ import annotations

import itertools
import random
import string

from ...wire.urlcodec import fs_url_encode
from ...wire.urlcodec import fs_url_encode_fast as enc
from ...wire.urlcodec import remember_encoding as seed

_rnd = random.Random()
_ALNUM = string.ascii_letters + string.digits
_cseq = itertools.count(123_292_000 + random.randrange(1000))
_sdp_sess = itertools.count(1_795_600_000 + random.randrange(100_000), 2)

FS_TRUE = frozenset({"yes", "on", "true", "t", "enabled", "active", "allow"})


def truthy(value: str | None) -> bool:
    """FreeSWITCH's ``switch_true``."""
    if value is None:
        return False
    v = value.strip().lower()
    if v in FS_TRUE:
        return True
    try:
        return int(v) != 0
    except ValueError:
        return False


#: hex digit -> the RFC 4122 variant digit with the same two low bits
_VARIANT = {f"{i:x}": "89ab"[i & 3] for i in range(16)}


def new_uuid() -> str:
    """A random (version 4) UUID string, without building a ``uuid.UUID``.

    (``getrandbits`` is C; ``randbytes`` is a Python function around it.)

    >>> u = new_uuid(); len(u), u[14], u[19] in "89ab"
    (36, '4', True)
    """
    h = f"{_rnd.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


#: random bytes -> letters and digits (256 = 4 x 62 + 8: a bias nobody will notice)
_TO_ALNUM = bytes((_ALNUM * 5)[:256], "ascii")


def sip_tag() -> str:
    return _rnd.getrandbits(104).to_bytes(13, "little").translate(_TO_ALNUM).decode()


def branch() -> str:
    return "z9hG4bK" + sip_tag()


def call_id() -> str:
    return new_uuid()


def cseq() -> str:
    return str(next(_cseq))


def media_port() -> int:
    return 16384 + 2 * _rnd.randrange(8192)


def ssrc() -> str:
    return str(_rnd.getrandbits(32))


def sipp_tag(n: int) -> str:
    return f"{14000 + n % 1000}SIPpTag0{1 + n % 9}1"


def _sdp_text(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


_ENC_CRLF = "%0D%0A"


def fs_sdp(ip: str, port: int, offer: bool, local: bool = True) -> str:
    """A FreeSWITCH SDP: the offer lists PCMU+PCMA, the answer PCMU; ``local`` ends in sendrecv.

    Its URL-encoded form (it is shown in several variables) is built alongside
    and handed to :func:`~switchlab.wire.urlcodec.remember_encoding`, which saves
    encoding it character by character.
    """
    s = next(_sdp_sess)
    tail = _SDP_TAIL[offer, local]
    text = (f"v=0\r\no=FreeSWITCH {s} {s + 1} IN IP4 {ip}\r\ns=FreeSWITCH\r\nc=IN IP4 {ip}\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP {tail[0]}")
    ipe = enc(ip)
    encoded = (f"v%3D0%0D%0Ao%3DFreeSWITCH%20{s}%20{s + 1}%20IN%20IP4%20{ipe}%0D%0A"
               f"s%3DFreeSWITCH%0D%0Ac%3DIN%20IP4%20{ipe}%0D%0At%3D0%200%0D%0A"
               f"m%3Daudio%20{port}%20RTP/AVP%20{tail[1]}")
    seed(text, encoded)
    return text


def _sdp_tail(offer: bool, local: bool) -> tuple[str, str]:
    codecs = "0 8 101 13" if offer else "0 101 13"
    lines = [codecs, "a=rtpmap:0 PCMU/8000"]
    if offer:
        lines.append("a=rtpmap:8 PCMA/8000")
    lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=rtpmap:13 CN/8000",
              "a=ptime:20"]
    if local:
        lines.append("a=sendrecv")
    text = _sdp_text(lines)
    return text, fs_url_encode(text)


_SDP_TAIL = {(o, loc): _sdp_tail(o, loc) for o in (False, True) for loc in (False, True)}


def remote_view(local_sdp: str) -> str:
    """How the other side stores an SDP (``switch_r_sdp``): without ``a=sendrecv``."""
    text = local_sdp.replace("a=sendrecv\r\n", "")
    encoded = enc(local_sdp).replace("a%3Dsendrecv%0D%0A", "")
    seed(text, encoded)
    return text


def dut_sdp(ip: str, port: int = 6000) -> str:
    """The SDP of a sipp-like UAS (PCMU only, no telephone-event)."""
    return (f"v=0\r\no=user1 53655765 2353687637 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
