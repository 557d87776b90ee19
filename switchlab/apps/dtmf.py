"""``DtmfChecker``: send a digit sequence on one leg, compare what the other leg got.

Once the caller (outbound) leg is answered, the app sends ``digits`` on it and
collects the DTMF events of the callee leg (or, when the far end is not on this
connection, e.g. a media-echoing DUT, of the caller leg itself). ``mode``:

* ``"rtp"`` (default): ``send_dtmf <digits>@<duration_ms>`` (RFC 2833; 80 ms digits
  keep a 4-digit check under a second); the far end's DTMF events say
  ``DTMF-Source: RTP``;
* ``"inband"``: the receiving leg starts mod_spandsp's detector
  (``spandsp_start_dtmf``) and the sender plays the digits as audio tones
  (``tone_stream://%(100,100,697,1209);...``): ``DTMF-Source: INBAND_AUDIO``.

It waits until as many digits arrived as were sent (or ``timeout`` seconds per
digit plus 2 s), writes its columns and hangs the call up. (With ``switchlab dial``,
give a ``--duration`` longer than the check, or the hold timer hangs up first.)

Columns: ``dtmf_sent`` and ``dtmf_received`` (strings), ``dtmf_ok`` (received ==
sent; its share is the ``dtmf_ok.ratio`` KPI, the DTMF success rate).

>>> client.load_app(DtmfChecker(digits="1234#"), app_id="dtmf")   # doctest: +SKIP
"""
from __future__ import annotations

import asyncio

from ..measure import ColumnSpec
from ..measure.columns import FLAG, STRING
from ..state import Session
from . import callback, coroutine
from .legs import answer_parked, callee_of, hangup_quietly, put

COLUMNS = (
    ColumnSpec("dtmf_sent", STRING, "DTMF digits DtmfChecker sent", source="DtmfChecker"),
    ColumnSpec("dtmf_received", STRING, "DTMF digits the other leg received, in order",
               source="DtmfChecker: `DTMF-Digit` of the receiving leg's DTMF events"),
    ColumnSpec("dtmf_ok", FLAG, "the digits received were the digits sent", label="DTMF ok",
               source="DtmfChecker", ratio=True),
)

_ROWS = (697, 770, 852, 941)
_COLS = (1209, 1336, 1477, 1633)
_KEYS = ("123A", "456B", "789C", "*0#D")
_TONES = {key: (_ROWS[r], _COLS[c]) for r, keys in enumerate(_KEYS) for c, key in enumerate(keys)}
MODES = ("rtp", "inband")


def tone_stream(digits: str, on_ms: int = 100, off_ms: int = 100) -> str:
    """The ``tone_stream://`` that plays ``digits`` as DTMF tone pairs.

    >>> tone_stream("12")
    'tone_stream://%(100,100,697,1209);%(100,100,697,1336)'
    """
    parts = []
    for d in digits.upper():
        if d not in _TONES:
            raise ValueError(f"{d!r} is not a DTMF digit (0-9, *, #, A-D)")
        low, high = _TONES[d]
        parts.append(f"%({on_ms},{off_ms},{low},{high})")
    return "tone_stream://" + ";".join(parts)


class DtmfChecker:
    """Send ``digits`` on the caller leg, check the callee leg receives them."""

    columns = COLUMNS

    def __init__(self, digits: str = "1234", mode: str = "rtp", timeout: float = 1.0,
                 duration_ms: int = 80) -> None:
        if mode not in MODES:
            raise ValueError(f"DtmfChecker mode {mode!r} must be one of {', '.join(MODES)}")
        tone_stream(digits)  # validates the digits
        self.digits = digits.upper()
        self.mode = mode
        self.timeout = float(timeout)
        self.duration_ms = int(duration_ms)

    @callback("CHANNEL_PARK")
    def on_park(self, sess: Session) -> None:
        answer_parked(sess)

    @callback("DTMF")
    def on_dtmf(self, sess: Session) -> None:
        rx = sess.vars.get("dtmf_rx")
        if rx is None:
            return  # not the leg being checked
        digit = sess.get("DTMF-Digit") or ""
        sess.vars["dtmf_rx"] = rx + digit
        put(sess, dtmf_received=rx + digit)
        if len(rx) + 1 >= len(self.digits):
            sess.vars["dtmf_done"] = True

    @coroutine("CHANNEL_ANSWER")
    async def on_answer(self, sess: Session) -> None:
        if not sess.is_outbound():
            return
        receiver = await callee_of(sess) or sess
        receiver.vars["dtmf_rx"] = ""
        put(sess, dtmf_sent=self.digits, dtmf_received="", dtmf_ok=False)
        if self.mode == "inband":
            await asyncio.wait_for(receiver.start_dtmf_detect(), 10)
            await asyncio.wait_for(sess.playback(tone_stream(self.digits)),
                                   10 + 0.2 * len(self.digits))
        else:
            await asyncio.wait_for(sess.dtmf(self.digits, self.duration_ms), 10)
        try:
            await receiver.wait_var("dtmf_done", self.timeout * len(self.digits) + 2.0)
        except asyncio.TimeoutError:
            pass
        got = receiver.vars.get("dtmf_rx", "")
        put(sess, dtmf_received=got, dtmf_ok=got == self.digits)
        await hangup_quietly(sess)

    def __repr__(self) -> str:
        return f"DtmfChecker(digits={self.digits!r}, mode={self.mode!r})"

