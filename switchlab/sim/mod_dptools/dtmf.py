"""DTMF in the emulator: RFC 2833 digits (``send_dtmf``) and in-band detection
(``spandsp_start_dtmf`` / ``spandsp_stop_dtmf``, mod_spandsp).

No audio flows. A digit sent on a leg arrives, as a DTMF event with
``DTMF-Source: RTP``, on the leg at the other end of its SIP dialog (or its
bridge). A ``tone_stream://`` playback whose segments are DTMF tone pairs is
"heard" by the far leg: if that leg runs the in-band detector, each tone gives a
DTMF event with ``DTMF-Source: INBAND_AUDIO`` when the tone ends (as recorded
with FreeSWITCH 1.11: ``DTMF-Duration: 2000``).

A call whose path crosses the DUT follows the DUT's media model
(:class:`~switchlab.sim.dut.DUTModel`): ``echo_media`` (the DUT loops audio and
RFC 2833 digits back to the caller leg) and ``dtmf_loss`` (the share of RFC 2833
digits it eats; 1.0 = a DTMF-eating DUT; in-band tones are audio and pass).

>>> inband_digits("tone_stream://%(100,100,697,1209);%(100,100,697,1336);%(100,100,770,1209)")
[('1', 0, 100), ('2', 200, 300), ('4', 400, 500)]
"""
from __future__ import annotations

import random
import re

from ..model.channel import Channel
from .runner import AppRun, complete

_ROWS = (697, 770, 852, 941)
_COLS = (1209, 1336, 1477, 1633)
_KEYS = ("123A", "456B", "789C", "*0#D")
_SEGMENT = re.compile(r"%\(([^)]*)\)")
#: FreeSWITCH's default DTMF duration (2000 samples); a digit sent with ``@<ms>`` lasts that
DEFAULT_MS = 250
INBAND_DURATION = "2000"


def rtp_timing(ms: int) -> tuple[float, float, str]:
    """``(first digit after s, spacing s, DTMF-Duration)`` of RFC 2833 digits of ``ms``
    each, as recorded (250 ms: first after 0.28 s, one every 0.52 s, ``2080``).

    >>> rtp_timing(250)
    (0.28, 0.52, '2080')
    """
    return (ms + 30) / 1000.0, 2 * (ms + 10) / 1000.0, str(ms * 8 + 80)


def _digit(freqs: list[int]) -> str | None:
    if len(freqs) != 2:
        return None
    low, high = sorted(freqs)
    for r, row in enumerate(_ROWS):
        if abs(low - row) <= row * 0.02:
            for c, col in enumerate(_COLS):
                if abs(high - col) <= col * 0.02:
                    return _KEYS[r][c]
    return None


def inband_digits(path: str) -> list[tuple[str, int, int]]:
    """``(digit, start ms, end ms)`` of every DTMF tone pair in a ``tone_stream://``."""
    if not path.startswith("tone_stream://"):
        return []
    out = []
    at = 0
    for seg in _SEGMENT.findall(path):
        try:
            nums = [int(float(p)) for p in seg.split(",") if p.strip()]
        except ValueError:
            continue
        if len(nums) < 2:
            continue
        on, off, freqs = nums[0], nums[1], nums[2:]
        digit = _digit(freqs)
        if digit is not None and on > 0:
            out.append((digit, at, at + on))
        at += on + off
    return out


def far_end(chan: Channel) -> Channel | None:
    """Where audio and digits sent on ``chan`` arrive: the other leg of its bridge
    or dialog, else ``chan`` itself when a media-echoing DUT is at the far end."""
    other = chan.bridge or chan.peer
    if other is not None:
        return other
    plan = chan.facts.get("dut_plan")
    if plan is not None and plan.echo_media:
        return chan
    return None


def _dtmf_loss(chan: Channel, target: Channel) -> float:
    """The DUT's RFC 2833 loss on the path ``chan`` -> ``target`` (0 without a DUT)."""
    for leg in (chan, target):
        plan = leg.facts.get("dut_plan")
        if plan is not None:
            return float(plan.dtmf_loss)
    return 0.0


def app_send_dtmf(chan: Channel, run: AppRun) -> None:
    digits, _, dur = run.data.partition("@")
    digits = digits.strip()
    ms = int(dur) if dur.strip().isdigit() and int(dur) > 0 else DEFAULT_MS
    chan.set_var("last_dtmf_duration", "2000")
    target = far_end(chan)
    complete(chan, run)
    if target is None or not digits:
        return
    loss = _dtmf_loss(chan, target)
    rng = random.Random(f"{chan.uuid}/{run.uuid}") if loss else None
    host = chan.host
    first, each, duration = rtp_timing(ms)
    sent = [d.upper() for d in digits if d in "0123456789*#ABCDabcd"]
    for i, digit in enumerate(sent):
        if rng is not None and rng.random() < loss:
            continue  # eaten by the DUT
        host.later(first + each * i, _dtmf_event, target, digit, duration, "RTP", chan=target)


def _dtmf_event(chan: Channel, digit: str, duration: str, source: str) -> None:
    if chan.dead:
        return
    chan.dtmf_seen = True
    chan.fire("DTMF", post=[("DTMF-Digit", digit), ("DTMF-Duration", duration),
                            ("DTMF-Source", source)])


# -- in-band detection (mod_spandsp) -----------------------------------------------------
_BUG = [("Media-Bug-Function", "spandsp_dtmf_detect"), ("Media-Bug-Target", "N/A")]


def app_spandsp_start_dtmf(chan: Channel, run: AppRun) -> None:
    if not chan.facts.get("inband_dtmf"):
        chan.facts["inband_dtmf"] = True
        chan.fire("MEDIA_BUG_START", pre=_BUG)
    complete(chan, run)


def app_spandsp_stop_dtmf(chan: Channel, run: AppRun) -> None:
    stop_detector(chan)
    complete(chan, run)


def stop_detector(chan: Channel) -> None:
    """End the in-band detector of ``chan`` (also run when the channel hangs up)."""
    if chan.facts.pop("inband_dtmf", None):
        chan.fire("MEDIA_BUG_STOP", pre=_BUG)


def playback_started(chan: Channel, run: AppRun) -> None:
    """A playback began on ``chan``: its DTMF tones reach the far end's detector."""
    target = far_end(chan)
    if target is None:
        return
    for digit, _start, end in inband_digits(run.data):
        chan.host.later(end / 1000.0, _heard, chan, target, run, digit, chan=target)


def _heard(chan: Channel, target: Channel, run: AppRun, digit: str) -> None:
    if run.state.get("broken") or chan.dead or target.dead:
        return
    if target.facts.get("inband_dtmf"):
        _dtmf_event(target, digit, INBAND_DURATION, "INBAND_AUDIO")
