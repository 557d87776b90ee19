"""Identifiers and SDP bodies of the virtual SIP dialogues (no packets are sent).

>>> len(sip_tag()), branch().startswith("z9hG4bK")
(13, True)
"""
from __future__ import annotations

import itertools
import random
import string

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


def new_uuid() -> str:
    """A random (version 4) UUID string, without building a ``uuid.UUID``."""
    h = f"{_rnd.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def sip_tag() -> str:
    return "".join(_rnd.choices(_ALNUM, k=13))


def branch() -> str:
    return "z9hG4bK" + "".join(_rnd.choices(_ALNUM, k=13))


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


def fs_sdp(ip: str, port: int, offer: bool, local: bool = True) -> str:
    """A FreeSWITCH SDP: the offer lists PCMU+PCMA, the answer PCMU; ``local`` ends in sendrecv."""
    s = next(_sdp_sess)
    codecs = "0 8 101 13" if offer else "0 101 13"
    lines = [
        "v=0", f"o=FreeSWITCH {s} {s + 1} IN IP4 {ip}", "s=FreeSWITCH", f"c=IN IP4 {ip}",
        "t=0 0", f"m=audio {port} RTP/AVP {codecs}", "a=rtpmap:0 PCMU/8000",
    ]
    if offer:
        lines.append("a=rtpmap:8 PCMA/8000")
    lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=rtpmap:13 CN/8000",
              "a=ptime:20"]
    if local:
        lines.append("a=sendrecv")
    return "\r\n".join(lines) + "\r\n"


def remote_view(local_sdp: str) -> str:
    """How the other side stores an SDP (``switch_r_sdp``): without ``a=sendrecv``."""
    return local_sdp.replace("a=sendrecv\r\n", "")


def dut_sdp(ip: str, port: int = 6000) -> str:
    """The SDP of a sipp-like UAS (PCMU only, no telephone-event)."""
    return (f"v=0\r\no=user1 53655765 2353687637 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
