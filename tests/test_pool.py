"""``ClientPool``: one client per host, used together (round robin, fan-out, apps)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from fakes import FakeESL, FakeSwitch
from switchlab import Client, ClientPool, callback, get_pool
from switchlab.apps.players import TonePlay


@asynccontextmanager
async def switches(n: int) -> AsyncIterator[list[FakeESL]]:
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(FakeESL(responder=FakeSwitch())) for _ in range(n)]


def originates(fs: FakeESL) -> int:
    return sum(c.verb == "bgapi" and c.arg.startswith("originate") for c in fs.peers[0].commands)


class Seen:
    """Records its prepost arguments."""

    def prepost(self, client: Client, pool: ClientPool) -> None:
        self.client, self.pool = client, pool

    @callback("CHANNEL_ANSWER")
    def on_answer(self, sess: object) -> None:
        return None


def test_a_pool_needs_hosts_in_a_list() -> None:
    with pytest.raises(ValueError, match="at least one host"):
        ClientPool([])
    with pytest.raises(TypeError, match=r"\['127.0.0.1:8021'"):
        get_pool("127.0.0.1:8021")


def test_pool_shape_without_connecting() -> None:
    ready = Client("127.0.0.1:8023")
    pool = get_pool(["127.0.0.1:8021", "127.0.0.1:8022", ready], password="x")
    assert len(pool) == 3 and pool[2] is ready and list(pool) == pool.clients
    assert pool[0].port == 8021 and pool[1].port == 8022
    assert repr(pool) == "<ClientPool 127.0.0.1:8021, 127.0.0.1:8022, 127.0.0.1:8023>"
    assert [pool.next_client() for _ in range(4)] == [pool[0], pool[1], pool[2], pool[0]]
    assert pool.count_calls() == 0 and pool.listeners == [None, None, None]


async def test_pool_over_two_hosts() -> None:
    async with FakeESL(responder=FakeSwitch()) as a, FakeESL(responder=FakeSwitch()) as b:
        async with get_pool([a.address, b.address]) as pool:
            assert len(pool) == 2
            assert await pool.api("status") == ["+OK\n", "+OK\n"]
            assert pool.load_app(TonePlay, "tone") == "tone"
            jobs = [pool.originate("answer@127.0.0.1:5080", app_id="tone") for _ in range(4)]
            await asyncio.wait_for(asyncio.gather(*jobs), 5)
            assert sorted(j.host for j in jobs) == ["127.0.0.1"] * 4
            assert len(a.peers[0].commands) > 3 and len(b.peers[0].commands) > 3
            assert pool.count_calls() == 4
            await pool.hupall()
            await asyncio.sleep(0.05)
            assert pool.count_calls() == 0
    with pytest.raises(TypeError):
        get_pool("127.0.0.1")


async def test_originate_round_robin_and_api_on_every_host() -> None:
    async with switches(3) as fss, get_pool([fs.address for fs in fss]) as pool:
        assert all(c.connected for c in pool)
        assert await pool.api("status") == ["+OK\n"] * 3
        jobs = [pool.originate("answer@127.0.0.1:5080") for _ in range(7)]
        await asyncio.wait_for(asyncio.gather(*jobs), 5)
        assert [originates(fs) for fs in fss] == [3, 2, 2]
        assert pool.count_calls() == 7
        await pool.hupall()
        await asyncio.sleep(0.05)
        assert pool.count_calls() == 0
    assert not any(c.connected for c in pool)


async def test_load_app_on_every_client_with_the_pool_as_funcarg() -> None:
    async with switches(2) as fss, get_pool([fs.address for fs in fss]) as pool:
        assert pool.load_app(Seen, "seen") == "seen"
        instances = [c.apps["seen"]["Seen"] for c in pool]
        assert [i.client for i in instances] == pool.clients
        assert all(i.pool is pool for i in instances)
        pool.unload_app("seen")
        assert all(c.apps == {} for c in pool)


async def test_sip_addresses_one_per_host() -> None:
    async with switches(2) as fss, get_pool([fs.address for fs in fss]) as pool:
        assert await pool.sip_addresses() == [("127.0.0.1", 5080)] * 2


async def test_connect_failure_closes_the_connected_ones() -> None:
    async with FakeESL() as ok:
        pool = ClientPool([ok.address, "127.0.0.1:1"], connect_timeout=1)
        with pytest.raises(ConnectionError, match="127.0.0.1:1"):
            await pool.connect()
        assert not pool[0].connected
