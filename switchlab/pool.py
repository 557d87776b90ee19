"""``ClientPool``: one :class:`~switchlab.client.Client` per host of a cluster.

>>> async with ClientPool(["127.0.0.1:8021", "127.0.0.1:8022"]) as pool:   # doctest: +SKIP
...     pool.load_app(TonePlay, app_id="tone")
...     jobs = [pool.originate(dest, app_id="tone") for dest in dests]   # round robin
...     print(await pool.api("status"))                                  # one body per host
"""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .client import Client
from .esl import Job

__all__ = ["ClientPool", "get_pool"]


class ClientPool:
    """Clients over several hosts, used together.

    ``hosts`` are ``"host[:port]"`` strings or ready :class:`Client` objects;
    other keyword arguments go to each new Client.
    """

    def __init__(self, hosts: Iterable[str | Client], password: str = "ClueCon",
                 **client_kwargs: Any) -> None:
        self.clients: list[Client] = [
            h if isinstance(h, Client) else Client(h, password=password, **client_kwargs)
            for h in hosts]
        if not self.clients:
            raise ValueError("a pool needs at least one host")
        self._rr: Iterator[Client] = itertools.cycle(self.clients)

    def __repr__(self) -> str:
        return f"<ClientPool {', '.join(c.address for c in self.clients)}>"

    def __len__(self) -> int:
        return len(self.clients)

    def __iter__(self) -> Iterator[Client]:
        return iter(self.clients)

    def __getitem__(self, i: int) -> Client:
        return self.clients[i]

    @property
    def listeners(self) -> list[Any]:
        return [c.listener for c in self.clients]

    async def connect(self) -> ClientPool:
        """Connect every client (all at once); on a failure the others are closed."""
        results = await asyncio.gather(*(c.connect() for c in self.clients), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.close()
            raise errors[0]
        return self

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)

    async def __aenter__(self) -> ClientPool:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def next_client(self) -> Client:
        """The next client, round robin, skipping clients that are not
        connected (a host down or reconnecting) while any one is."""
        for _ in range(len(self.clients)):
            client = next(self._rr)
            if client.connected:
                return client
        return next(self._rr)

    def originate(self, dest_url: str, **kwargs: Any) -> Job:
        """Originate on the next client (round robin); see :meth:`Client.originate`."""
        return self.next_client().originate(dest_url, **kwargs)

    async def api(self, cmd: str, **kwargs: Any) -> list[str]:
        """Run ``api <cmd>`` on every host; one body per client, in order."""
        return list(await asyncio.gather(*(c.api(cmd, **kwargs) for c in self.clients)))

    def load_app(self, app: Any, app_id: str | None = None, **kwargs: Any) -> str:
        """Load the app on every client under one app id (``pool`` is a prepost funcarg)."""
        funcargs = {"pool": self, **kwargs.pop("funcargs", {})}
        ids = {c.load_app(app, app_id, funcargs=funcargs, **kwargs) for c in self.clients}
        return ids.pop()

    def unload_app(self, app_id: str) -> None:
        for c in self.clients:
            c.unload_app(app_id)

    async def hupall(self, app_id: str | None = None, cause: str = "NORMAL_CLEARING") -> None:
        await asyncio.gather(*(c.hupall(app_id, cause) for c in self.clients))

    def count_calls(self) -> int:
        return sum(c.listener.count_calls() for c in self.clients if c.listener is not None)

    async def sip_addresses(self, profile: str = "external") -> list[tuple[str, int]]:
        """Each host's ``(host, port)`` for ``profile``."""
        return list(await asyncio.gather(*(c.sip_address(profile) for c in self.clients)))


def get_pool(hosts: Iterable[str | Client] | Mapping[str, Any], **kwargs: Any) -> ClientPool:
    """A (not yet connected) :class:`ClientPool` over ``hosts`` (switchio's name)."""
    if isinstance(hosts, str):
        raise TypeError("get_pool takes a list of hosts, e.g. ['127.0.0.1:8021', '127.0.0.1:8022']")
    return ClientPool(hosts, **kwargs)
