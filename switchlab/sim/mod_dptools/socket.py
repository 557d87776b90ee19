"""The ``socket`` application: FreeSWITCH connects out to an event-socket server
(mod_event_socket's outbound mode) and that server controls the channel.

``socket <host:port> [async] [full]``. The TCP connection is made by the
event-socket layer above (:mod:`switchlab.sim.esl.outbound`), which fills
:data:`CONNECTOR` when it is imported; this module keeps the channel's side:

* async mode: after the server's ``connect`` the channel parks inside the
  application (CHANNEL_PARK, no CHANNEL_EXECUTE park) and ``sendmsg`` messages
  run inside that park, as from the inbound side;
* sync mode (no ``async``): the socket runs each ``sendmsg`` execute itself and
  answers only when the application returns (:func:`run_sync`), no
  PRIVATE_COMMAND;
* the end: a hangup unparks and completes ``socket``; a server that leaves
  (``exit``, close) completes it and the dialplan goes on (nothing left: hangup).

>>> parse_socket_arg("127.0.0.1:8084 async full")
('127.0.0.1', 8084, True, True)
>>> parse_socket_arg("127.0.0.1:8084 full")
('127.0.0.1', 8084, False, True)
>>> parse_socket_arg("nohost") is None
True
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from ..calls.lifecycle import hangup
from ..model import causes
from ..model.channel import Channel
from .basic import app_park, stop_park
from .runner import AppRun, Message, complete, run_message

log = logging.getLogger("switchlab.sim")

#: ``connect(chan, run, host, port, async_mode, full)``: open the outbound socket
ConnectFn = Callable[[Channel, AppRun, str, int, bool, bool], None]


class Connector:
    """Where the ``socket`` application gets its TCP connection from (set by the
    event-socket layer; None until :mod:`switchlab.sim.esl.outbound` is imported)."""

    __slots__ = ("connect",)

    def __init__(self) -> None:
        self.connect: ConnectFn | None = None


CONNECTOR = Connector()


def parse_socket_arg(data: str) -> tuple[str, int, bool, bool] | None:
    """``host:port [async] [full]`` → ``(host, port, async, full)``; None if unusable."""
    words = data.split()
    if not words:
        return None
    host, sep, port = words[0].rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    flags = {w.lower() for w in words[1:]}
    return host.strip("[]"), int(port), "async" in flags, "full" in flags


def app_socket(chan: Channel, run: AppRun) -> None:
    parsed = parse_socket_arg(run.data)
    connect = CONNECTOR.connect
    if parsed is None or connect is None:
        chan.host.log(3, "mod_event_socket.c", "socket_function", 423,
                      f"Invalid socket data [{run.data}]", chan)
        complete(chan, run)
        return
    host, port, async_mode, full = parsed
    chan.set_var("socket_host", host)
    connect(chan, run, host, port, async_mode, full)


def connected(chan: Channel, run: AppRun, async_mode: bool) -> None:
    """The server sent ``connect``: an async socket parks the channel (on the next
    loop turn: commands sent with ``connect``, such as ``myevents``, see the park)."""
    if async_mode:
        chan.host.later(0, _park, chan, run, chan=chan)


def _park(chan: Channel, run: AppRun) -> None:
    if not chan.dead and not run.finished:
        app_park(chan, run)  # CHANNEL_PARK, then the queued messages run inside


#: a hangup stops the application: leave the park first (CHANNEL_UNPARK)
stop_socket = stop_park


def socket_gone(chan: Channel, run: AppRun) -> None:
    """The server closed the socket: the application returns, the dialplan goes on."""
    if run.finished or chan.dead:
        return
    stop_socket(chan, run)
    complete(chan, run)


def run_sync(chan: Channel, msg: Message, done: Callable[[], None]) -> None:
    """Run a ``sendmsg`` in the socket's own thread (sync mode); ``done()`` when it returns."""
    if chan.dead:
        done()
        return
    if msg[0] == "hangup":
        hangup(chan, msg[1] if causes.is_cause(msg[1]) else "NORMAL_CLEARING")
        done()
        return
    run_message(chan, msg, "socket", done)
