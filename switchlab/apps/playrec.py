"""``PlayRec``: play on one leg, record on the other, check the recording's length.

Once the caller (outbound) leg is answered, the callee leg starts
``record_session ${recordings_dir}/switchlab-<uuid>.wav`` (an absolute path:
``stop_record_session`` must name the same resolved path), the caller plays
``path`` (default: ``play_ms`` of a 440 Hz tone) and, when that playback's
CHANNEL_EXECUTE_COMPLETE says ``FILE PLAYED``, the callee stops recording; the
stop's CHANNEL_EXECUTE_COMPLETE carries ``variable_record_ms``. A recording holds
only the audio that arrived (a parked leg sends no RTP), less what the start and the
end of the RTP stream lose (FreeSWITCH 1.11 recorded 1.26 s of a 1.5 s tone and 0.86 s
of a 1 s one), so the check is ``played - max_loss <= recorded`` (and recorded > 0).
When the far end is not on this connection (a media-echoing DUT), the caller
records its own echoed playback.

Columns: ``playrec_played`` and ``playrec_recorded`` (seconds), ``playrec_ok``
(recording long enough; ratio KPI ``playrec_ok.ratio``).
"""
from __future__ import annotations

import asyncio

from ..measure import ColumnSpec
from ..measure.columns import FLAG, SECONDS
from ..state import Session
from ..state.media import response
from . import callback, coroutine
from .legs import answer_parked, callee_of, hangup_quietly, put

COLUMNS = (
    ColumnSpec("playrec_played", SECONDS, "what PlayRec played on the caller leg",
               label="PlayRec played", unit="s",
               source="PlayRec: the playback's `variable_playback_ms`"),
    ColumnSpec("playrec_recorded", SECONDS, "length of PlayRec's recording on the other leg",
               label="PlayRec recorded", unit="s",
               source="PlayRec: `stop_record_session` `variable_record_ms`"),
    ColumnSpec("playrec_ok", FLAG, "the recording lost at most max_loss of what was played",
               label="PlayRec ok", source="PlayRec", ratio=True),
)


class PlayRec:
    """Play ``path`` (or a ``play_ms`` tone) on the caller leg, record it on the callee."""

    columns = COLUMNS

    def __init__(self, play_ms: int = 500, path: str | None = None,
                 max_loss: float = 0.3) -> None:
        if not float(max_loss) >= 0.0:
            raise ValueError(f"max_loss must be >= 0 seconds, got {max_loss}")
        self.play_ms = int(play_ms)
        self.path = path or f"tone_stream://%({self.play_ms},0,440)"
        self.max_loss = float(max_loss)

    @callback("CHANNEL_PARK")
    def on_park(self, sess: Session) -> None:
        answer_parked(sess)

    @coroutine("CHANNEL_ANSWER")
    async def on_answer(self, sess: Session) -> None:
        if not sess.is_outbound():
            return
        recorder = await callee_of(sess) or sess
        target = "${recordings_dir}/switchlab-" + sess.uuid + ".wav"
        put(sess, playrec_ok=False)
        await asyncio.wait_for(recorder.record_start(target), 10)
        done = await asyncio.wait_for(sess.playback(self.path), 30 + self.play_ms / 1000.0)
        played = int(done.get("variable_playback_ms") or 0) / 1000.0
        stop = await asyncio.wait_for(recorder.record_stop(target), 10)
        recorded = int(stop.get("variable_record_ms") or 0) / 1000.0
        ok = response(done) == "FILE PLAYED" and played > 0 and \
            0 < recorded and played - self.max_loss <= recorded
        put(sess, playrec_played=played, playrec_recorded=recorded, playrec_ok=ok)
        await hangup_quietly(sess)

    def __repr__(self) -> str:
        return f"PlayRec(path={self.path!r}, max_loss={self.max_loss})"
