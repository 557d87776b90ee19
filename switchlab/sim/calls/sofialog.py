"""DEBUG (7) log lines of sofia's nua callbacks and of SDP negotiation (FreeSWITCH 1.11.1).

Each is built only when a listener gets DEBUG lines (``bus.log_max_level >= 7``).

* ``sofia_handle_sip_i_state`` (sofia.c): ``Channel <name> entering state [<nua
  state>][<status>]`` for each nua ``nua_i_state`` of a live leg (sofia-sip's
  ``signal_call_state_change``): an outbound leg passes calling[0] (INVITE sent; the 100
  is not reported), proceeding[180|183], completing[200] (FreeSWITCH acks itself) and
  ready[200] (ACK sent); an inbound leg received[100], early[180|183], completed[200]
  (answer sent) and ready[200] (ACK received). A state that carries the far end's SDP
  adds ``Remote SDP:`` (``Duplicate SDP`` when it repeats the last one).
* ``our_sofia_event_callback``: ``Channel is already hungup.`` for each nua event of a
  leg that is already down: the ``nua_i_state`` terminated and ``nua_i_terminated`` that
  follow a BYE or CANCEL it received.
* ``switch_core_media_negotiate_sdp``: per audio ``rtpmap`` of the far end's SDP,
  ``Set telephone-event payload to ..`` for telephone-event, else one ``Audio Codec
  Compare [far]/[mine]`` per codec of the profile (:data:`CODEC_PREFS`) and ``++++ is
  saved as a match`` for the matching one; then the second telephone-event pass and
  ``Set 2833 dtmf send payload to .. recv payload to ..``.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model.channel import Channel

#: the profiles' codec preferences (iananame, ianacode), as their offer (``0 8``) shows
CODEC_PREFS = (("PCMU", 0), ("PCMA", 8))
#: static payload types without an ``a=rtpmap`` line (sofia-sip's implicit rtpmaps)
_STATIC = {0: ("PCMU", 8000), 3: ("GSM", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000),
           13: ("CN", 8000), 18: ("G729", 8000)}
_KNOWN_BITRATE = {0: 64000, 8: 64000, 3: 13200, 9: 64000, 18: 8000}
_SOFIA = "sofia.c"
_MEDIA = "switch_core_media.c"
_NEG = "switch_core_media_negotiate_sdp"
_RTPMAP = re.compile(r"a=rtpmap:(\d+) ([^/\s]+)/(\d+)")


def log_nua_state(chan: Channel, state: str, status: int, remote_sdp: str | None = None
                  ) -> None:
    """``sofia_handle_sip_i_state``: the leg enters nua call state ``state``."""
    if chan.kind != "sofia" or chan.bus.log_max_level < 7:
        return
    log = chan.bus.log
    log(7, _SOFIA, "sofia_handle_sip_i_state", 7505,
        f"Channel {chan.name} entering state [{state}][{status}]", chan)
    if not remote_sdp:
        return
    if chan.facts.get("nua_remote_sdp") == remote_sdp:
        log(7, _SOFIA, "sofia_handle_sip_i_state", 7512, f"Duplicate SDP\n{remote_sdp}", chan)
        return
    chan.facts["nua_remote_sdp"] = remote_sdp
    log(7, _SOFIA, "sofia_handle_sip_i_state", 7515, f"Remote SDP:\n{remote_sdp}", chan)


def log_already_hungup(chan: Channel, events: int = 2) -> None:
    """``our_sofia_event_callback``: nua events reaching a leg that is down."""
    if chan.kind != "sofia" or chan.bus.log_max_level < 7:
        return
    for _ in range(events):
        chan.bus.log(7, _SOFIA, "our_sofia_event_callback", 1527, "Channel is already hungup.",
                     chan)


def _rtpmaps(sdp: str) -> list[tuple[int, str, int]]:
    """The audio m-line's payloads in order, as (pt, encoding, rate)."""
    m = re.search(r"m=audio \d+ \S+ ([\d ]+)", sdp)
    if m is None:
        return []
    named = {int(pt): (name, int(rate)) for pt, name, rate in _RTPMAP.findall(sdp)}
    out = []
    for pt in map(int, m.group(1).split()):
        name, rate = named.get(pt) or _STATIC.get(pt, ("", 8000))
        out.append((pt, name, rate))
    return out


def log_negotiate(chan: Channel, remote_sdp: str) -> None:
    """``switch_core_media_negotiate_sdp`` of ``remote_sdp`` against :data:`CODEC_PREFS`."""
    if chan.kind != "sofia" or chan.bus.log_max_level < 7:
        return
    log = chan.bus.log
    ptime = re.search(r"a=ptime:(\d+)", remote_sdp)
    ms = int(ptime.group(1)) if ptime else 20
    maps = _rtpmaps(remote_sdp)
    best_te = 0
    for pt, name, rate in maps:
        if name.lower() == "telephone-event":
            if not best_te:
                best_te = pt
                log(7, _MEDIA, _NEG, 5445, f"Set telephone-event payload to {pt}@{rate}", chan)
            continue
        if name.upper() == "CN":
            continue  # "Set comfort noise payload" needs an RTP session: not yet
        bits = _KNOWN_BITRATE.get(pt, 0)
        for iana, code in CODEC_PREFS:
            log(7, _MEDIA, _NEG, 5533, f"Audio Codec Compare [{name}:{pt}:{rate}:{ms}:{bits}:1]/"
                f"[{iana}:{code}:8000:20:64000:1]", chan)
            if name.upper() == iana and rate == 8000 and ms == 20:
                log(7, _MEDIA, _NEG, 5596,
                    f"Audio Codec Compare [{iana}:{code}:8000:20:64000:1] ++++ is saved as a "
                    "match", chan)
    for pt, name, rate in maps:  # the second pass, once the codec is chosen
        if name.lower() == "telephone-event" and rate == 8000:
            best_te = pt
            log(7, _MEDIA, _NEG, 5805, f"Set telephone-event payload to {pt}@{rate}", chan)
    if best_te:
        log(7, _MEDIA, _NEG, 5863,
            f"{chan.name} Set 2833 dtmf send payload to {best_te} recv payload to {best_te}",
            chan)
    else:
        log(7, _MEDIA, _NEG, 5870, "No 2833 in SDP.  Disable 2833 dtmf and switch to INFO",
            chan)
