"""DEBUG (7) log lines of a sofia leg's media, as FreeSWITCH 1.11.1 writes them.

Each is built only when a listener gets DEBUG lines (``bus.log_max_level >= 7``):

* ``switch_core_media_set_codec``: ``Set Codec <name> PCMU/8000 20 ms 160 samples 64000
  bits 1 channels`` (a codec already set is kept: logged once per leg);
* ``switch_core_session_set_real_read_codec``: ``<name> Original read codec set to
  PCMU:0`` (``replaced with`` the next time), before its CODEC event;
* ``switch_core_media_activate_rtp``: ``AUDIO RTP [<name>] <ip> port <p> -> <ip> port <p>
  codec: 0 ms: 20`` and, with RFC 2833 agreed, ``<name> Set 2833 dtmf send payload to
  101`` / ``receive payload to 101`` (the ``rtp_2833_*_payload`` variables).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model.channel import Channel

#: ``implementation->ianacode`` of the codecs a sofia leg negotiates
IANA_CODES = {"PCMU": 0, "PCMA": 8}
_MEDIA = "switch_core_media.c"


def log_read_codec(chan: Channel, name: str, rate: str, bits: str) -> None:
    """The first read CODEC event of a sofia leg (``set_real_read_codec``)."""
    again = chan.facts.get("real_read_codec", False)
    chan.facts["real_read_codec"] = True
    if chan.bus.log_max_level < 7 or name not in IANA_CODES:
        return
    log = chan.bus.log
    if not again:
        log(7, _MEDIA, "switch_core_media_set_codec", 3730,
            f"Set Codec {chan.name} {name}/{rate} 20 ms {int(rate) // 50} samples {bits} bits "
            "1 channels", chan)
    verb = "replaced with" if again else "set to"
    log(7, "switch_core_codec.c", "switch_core_session_set_real_read_codec",
        145 if again else 132, f"{chan.name} Original read codec {verb} {name}:{IANA_CODES[name]}",
        chan)


def log_rtp(chan: Channel, remote_ip_fact: str, rfc2833: bool) -> None:
    """``switch_core_media_activate_rtp`` for the leg's audio."""
    if chan.bus.log_max_level < 7:
        return
    f = chan.facts
    log = chan.bus.log
    log(7, _MEDIA, "switch_core_media_activate_rtp", 8667,
        f"AUDIO RTP [{chan.name}] {f.get('sip_ip', '')} port {f.get('local_media_port', '')} -> "
        f"{f.get(remote_ip_fact, '')} port {f.get('remote_media_port', '')} codec: 0 ms: 20",
        chan)
    if rfc2833:
        log(7, _MEDIA, "switch_core_media_activate_rtp", 8980,
            f"{chan.name} Set 2833 dtmf send payload to 101", chan)
        log(7, _MEDIA, "switch_core_media_activate_rtp", 8987,
            f"{chan.name} Set 2833 dtmf receive payload to 101", chan)
