"""switchlab: drive FreeSWITCH call generators from Jupyter and measure every call.

The ESL engine (connection, call state, apps, clients) is importable from here;
see docs/ESL_ENGINE.md.
"""
from .apps import callback, coroutine, handler
from .client import Client, get_client
from .connection import Connection, Job, Reconnect, connect
from .pool import ClientPool, get_pool
from .state import Call, EventListener, Session
from .sync import SyncClient, sync_caller, sync_client

__version__ = '0.1.0'

__all__ = [
    "Call", "Client", "ClientPool", "Connection", "EventListener", "Job", "Reconnect", "Session",
    "SyncClient", "callback", "connect", "coroutine", "get_client", "get_pool", "handler",
    "sync_caller", "sync_client",
]
