"""Hold timers (``originator/holds.py``): every answered call is ended by a
``uuid_kill`` at its own deadline, from one loop timer for all of them; a call
that ended first is not killed. Over a real socket (FakeESL)."""
from __future__ import annotations

import asyncio
import time

from fakes import FakeESL
from switchlab import Client
from switchlab.measure import CallRecord
from switchlab.originator.holds import HoldTimers
from switchlab.wire import serialize


async def test_each_hold_ends_at_its_own_deadline_from_one_timer() -> None:
    kills: list[tuple[str, float]] = []

    def responder(cmd, peer):  # type: ignore[no-untyped-def]
        if cmd.line.startswith("api uuid_kill "):
            kills.append((cmd.line.split()[2], time.monotonic()))
            peer.send(serialize.api_response("+OK\n"))
            return True
        return False

    async with FakeESL(responder=responder) as fs:
        client = Client(fs.address)
        await client.connect()
        try:
            holds = HoldTimers([client])  # type: ignore[arg-type]
            t0 = time.monotonic()
            recs = {cid: CallRecord(cid, host=client.address)
                    for cid in ("late", "first", "mid", "ended", "again")}
            for cid, hold in (("late", 0.30), ("first", 0.06), ("mid", 0.15), ("ended", 0.10),
                              ("again", 0.05)):
                holds.start(recs[cid], hold)
            assert len(holds) == 5
            holds.cancel("ended")  # the call ended before its hold: not killed
            holds.start(recs["again"], 0.20)  # held again: only the later deadline counts
            assert len(holds) == 4
            for _ in range(100):
                if len(kills) == 4:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            assert [cid for cid, _ in kills] == ["first", "mid", "again", "late"]
            for (cid, at), hold in zip(kills, (0.06, 0.15, 0.20, 0.30)):
                assert at - t0 >= hold - 0.001, (cid, at - t0)
                assert recs[cid].local_hangup
            assert not recs["ended"].local_hangup and len(holds) == 0
            assert not holds._due and holds._timer is None  # nothing left armed
            holds.start(recs["ended"], 10.0)
            holds.cancel_all()
            assert len(holds) == 0 and holds._timer is None
        finally:
            await client.close()
