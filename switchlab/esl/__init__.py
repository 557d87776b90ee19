"""The application side of FreeSWITCH's event socket: what talks to FreeSWITCH.

(The FreeSWITCH side, emulated, is :mod:`switchlab.sim`.)

* :mod:`.protocol` ``ESLProtocol``: sans I/O, bytes in, results and events out;
  :mod:`.decoders` one decoder per reply kind; :mod:`.restore` what to re-apply;
* :mod:`.requests` the command vocabulary (``api``, ``bgapi``, ``subscribe``...);
* :mod:`.stream` ``ESLStream``: the asyncio byte pump (backlog, flow control);
* :mod:`.inbound` ``Connection``: we dial FreeSWITCH (auth, reconnect, ``Gap``);
* :mod:`.address`, :mod:`.secret`, :mod:`.job`, :mod:`.lifecycle`, :mod:`.reconnect`,
  :mod:`.handlers`: the pieces it is built from.
"""
from .address import DEFAULT_PORT, format_address, parse_address
from .inbound import Connection, connect
from .job import Job
from .lifecycle import ConnectionState, Gap, Reconnect
from .protocol import ESLProtocol

__all__ = ["DEFAULT_PORT", "Connection", "ConnectionState", "ESLProtocol", "Gap", "Job", "Reconnect",
           "connect", "format_address", "parse_address"]
