"""The commands of one launcher step or one hold-timer expiry leave in one
``send`` per host: each host's connection is corked for the step
(:meth:`Connection.cork <switchlab.esl.inbound.Connection.cork>`), in the
order they were sent."""
from __future__ import annotations

from collections.abc import Iterable

from ..client import Client
from ..esl.stream import ESLStream

__all__ = ["cork", "uncork"]


def cork(clients: Iterable[Client]) -> list[ESLStream]:
    """Cork the connected ``clients``' connections; give the result to :func:`uncork`."""
    corked = []
    for client in clients:
        conn = client.connection
        if conn is not None:
            stream = conn.cork()
            if stream is not None:
                corked.append(stream)
    return corked


def uncork(corked: list[ESLStream]) -> None:
    """Send what each corked connection held (one ``send`` each)."""
    for stream in corked:
        stream.uncork()
