"""Loopback set-up: each FreeSWITCH host calls its own SIP address, through
the device under test when the originator has a ``proxy``, so both legs of
every call are on hosts the originator watches (switchio's ``dial`` set-up).

>>> dests = await loopback_destinations(clients, "external")   # doctest: +SKIP
>>> orig = Originator(clients, dest=dests, proxy="10.0.0.9:5060")  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..client import Client
from ..errors import APIError, SwitchlabError
from ..pool import ClientPool

#: user part of the Request-URI each host calls
DEFAULT_USER = "switchlab"


class NoSipProfile(SwitchlabError, LookupError):
    """A host has no running sofia profile of that name; ``host``, ``profile``."""

    def __init__(self, host: str, profile: str) -> None:
        super().__init__(f"host {host} has no SIP profile named {profile!r} running; choose "
                         "another profile (see 'sofia status' on that host)")
        self.host = host
        self.profile = profile


@dataclass(frozen=True)
class Loopback:
    """Each host's destination, ``{ESL address: "user@ip:port"}``, and the SIP
    address it came from, ``{ESL address: (ip, port)}``. Called with a client
    it gives that client's destination (an originator's ``dest``).

    >>> d = Loopback({"fs1:8021": "switchlab@10.0.0.5:5080"}, {"fs1:8021": ("10.0.0.5", 5080)})
    >>> d.dests["fs1:8021"]
    'switchlab@10.0.0.5:5080'
    """

    dests: Mapping[str, str]
    sip_addresses: Mapping[str, tuple[str, int]]

    def __call__(self, client: Client) -> str:
        return self.dests[client.address]


async def loopback_destinations(clients: ClientPool | Iterable[Client], profile: str = "external",
                                *, user: str = DEFAULT_USER) -> Loopback:
    """Connect the clients not yet connected, find each host's ``profile`` SIP
    address (``sofia status profile``) and return the :class:`Loopback`
    sending each host's calls to ``user@`` that address.

    Raises :class:`NoSipProfile` when a host does not run ``profile``, and
    the connection's errors (``ConnectionFailed``, ``AuthenticationError``)."""
    clients = list(clients)
    for client in clients:
        if not client.connected:
            await client.connect()
    dests: dict[str, str] = {}
    addresses: dict[str, tuple[str, int]] = {}
    for client in clients:
        try:
            ip, port = await client.sip_address(profile)
        except APIError as exc:
            raise NoSipProfile(client.address, profile) from exc
        addresses[client.address] = (ip, port)
        dests[client.address] = f"{user}@{ip}:{port}"
    return Loopback(dests, addresses)
