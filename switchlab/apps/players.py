"""Built-in media apps."""
from __future__ import annotations

from typing import Any

from . import callback


class TonePlay:
    """Play an endless tone on the caller (outbound) leg and echo it back on the
    callee (inbound) leg, which this app answers when it is parked.

    >>> client.load_app(TonePlay, app_id="tone")              # doctest: +SKIP
    >>> client.originate("Fred@127.0.0.1:5080", app_id="tone")  # doctest: +SKIP
    """

    #: 1004 Hz "milliwatt" tone, 251 ms on, no gap, for ever
    tone = "tone_stream://%(251,0,1004);loops=-1"

    @callback("CHANNEL_PARK")
    def on_park(self, sess: Any) -> None:
        if sess.is_inbound() and not sess.answered:
            sess.answer()

    @callback("CHANNEL_ANSWER")
    def on_answer(self, sess: Any) -> None:
        if sess.is_inbound():
            sess.echo()
        elif sess.is_outbound():
            sess.playback(self.tone)
