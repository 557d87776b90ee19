"""Apps for the ``switchlab serve`` tests: the same class in either mode."""
from switchlab.apps import coroutine


class AnswerPlayHangup:
    """Answer the inbound leg, play a short tone, hang up (inbound mode: on its park;
    outbound mode: on the channel data of the ``connect`` reply)."""

    @coroutine("CHANNEL_DATA")
    async def on_connect(self, sess):
        await self.handle(sess)

    @coroutine("CHANNEL_PARK")
    async def on_park(self, sess):
        if sess.is_inbound() and not sess.conn.__class__.__name__.startswith("Outbound"):
            await self.handle(sess)

    async def handle(self, sess):
        await sess.answer()
        await sess.playback("tone_stream://%(100,0,440)")
        await sess.hangup()
