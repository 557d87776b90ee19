"""The public import path of the inbound event-socket connection (kept for
scripts, notebooks and docs): the code lives in :mod:`switchlab.esl`.

>>> from switchlab.connection import Connection, connect, parse_address
>>> parse_address("127.0.0.1")
('127.0.0.1', 8021)
"""
from .esl import (DEFAULT_PORT, Connection, ConnectionState, ESLProtocol, Gap, Job, Reconnect,
                  connect, parse_address)

__all__ = ["DEFAULT_PORT", "Connection", "ConnectionState", "ESLProtocol", "Gap", "Job", "Reconnect",
           "connect", "parse_address"]
