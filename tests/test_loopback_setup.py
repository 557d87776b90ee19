"""``loopback_destinations``: each host calls its own SIP address, found over
real sockets (the emulator, or real FreeSWITCH with --fshost)."""
from __future__ import annotations

import pytest

from switchlab import Client
from switchlab.errors import SwitchlabError
from switchlab.originator import Loopback, NoSipProfile, Originator, loopback_destinations


async def test_each_host_gets_its_own_sip_address_and_the_calls_reach_it(fshosts, fspassword):
    clients = [Client(h, password=fspassword) for h in fshosts]
    dests = await loopback_destinations(clients, "external", user="answer")
    assert isinstance(dests, Loopback) and set(dests.dests) == {c.address for c in clients}
    for client in clients:
        assert client.connected  # connected by the set-up
        ip, port = await client.sip_address("external")
        assert dests.sip_addresses[client.address] == (ip, port)
        assert dests(client) == dests.dests[client.address] == f"answer@{ip}:{port}"
    orig = Originator(clients, dest=dests, rate=20, limit=4, duration=0.1,
                      max_offered=2 * len(clients))
    orig.start()
    assert await orig.wait(30)
    run = await orig.close()
    df = run.df
    assert len(df) == 2 * len(clients) and not df.failed.any()
    assert set(df.dest) == set(dests.dests.values())
    assert all(df[df.host == c.address].dest.eq(dests(c)).all() for c in clients)


async def test_connected_clients_are_kept_and_the_user_defaults(fshost, fspassword):
    client = Client(fshost, password=fspassword)
    await client.connect()
    conn = client.connection
    try:
        dests = await loopback_destinations([client])
        assert client.connection is conn
        assert dests(client).startswith("switchlab@")
    finally:
        await client.close()


async def test_a_missing_profile_names_the_host_and_the_profile(fshost, fspassword):
    client = Client(fshost, password=fspassword)
    try:
        with pytest.raises(NoSipProfile) as info:
            await loopback_destinations([client], "nosuchprofile")
    finally:
        await client.close()
    err = info.value
    assert isinstance(err, SwitchlabError) and isinstance(err, LookupError)
    assert err.host == client.address and err.profile == "nosuchprofile"
    assert client.address in str(err) and "'nosuchprofile'" in str(err) and "sofia status" in str(err)
