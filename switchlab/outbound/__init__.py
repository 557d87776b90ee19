"""Outbound event socket: FreeSWITCH's dialplan ``socket`` application connects to
*our* server, one connection per call, and our apps drive the call.

>>> from switchlab.outbound import serve
>>> from switchlab.apps import coroutine
>>> class Ivr:
...     @coroutine("CHANNEL_DATA")
...     async def on_call(self, sess):
...         await sess.answer()
...         await sess.playback("tone_stream://%(200,0,440)")  # until its EXECUTE_COMPLETE
...         await sess.hangup()
>>> server = serve(Ivr, port=0)
>>> server.host, len(server.instances)
('127.0.0.1', 1)

The apps are the inbound side's (``@callback``/``@coroutine``/``@handler``,
:mod:`switchlab.apps`), run unchanged on the same
:class:`~switchlab.state.Session`; ``CHANNEL_DATA`` (the ``connect`` reply) is
the first event of every call. ``sess.conn`` is the call's
:class:`~switchlab.esl.outbound.OutboundConnection` (``myevents``, ``linger``,
``divert_events``, ``execute_app`` with ``event_lock``/``loops``, ``exit``...).
See docs/OUTBOUND.md.
"""
from ..esl.outbound import OutboundConnection
from .call import OutboundCall
from .server import OutboundServer, parse_acl, serve

__all__ = ["OutboundCall", "OutboundConnection", "OutboundServer", "parse_acl", "serve"]
