"""Scale-out on Dask (switchlab.scale): a LocalCluster of 2 worker processes on
127.0.0.1, each shard with its own emulated host; a few seconds of load each."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from switchlab.apps.players import TonePlay  # noqa: E402
from switchlab.errors import SwitchlabError  # noqa: E402
from switchlab.measure import load  # noqa: E402
from switchlab.measure.journal import read_calls_journal  # noqa: E402
from switchlab.loops import loop_kind  # noqa: E402
from switchlab.scale import DistributedOriginator, open_cluster  # noqa: E402

APPS = {"tone": TonePlay}


@pytest.fixture(scope="module")
def dask_client() -> Iterator[distributed.Client]:
    cluster = open_cluster(workers=2)
    try:
        yield cluster.client
    finally:
        cluster.client.close()
        assert cluster.local is not None
        cluster.local.close()


def _dorig(client: distributed.Client, run_dir: Path | None, **kw: object) -> DistributedOriginator:
    params: dict[str, object] = dict(emulated_hosts=1, client=client, rate=20, limit=20,
                                     duration=0.2, timeout=10, apps=APPS, start_delay=0.5,
                                     run_dir=None if run_dir is None else str(run_dir))
    params.update(kw)
    return DistributedOriginator(**params)  # type: ignore[arg-type]


async def _until(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(0.1)
    return bool(cond())


def _journal_rows(path: Path) -> list[dict[str, object]]:
    header, rows = read_calls_journal(path / "calls.jsonl")
    return [dict(zip(header["columns"], r)) for r in rows]


def test_two_shards_one_run(dask_client: distributed.Client, tmp_path: Path) -> None:
    """Rows from both shards, counted once, in one run directory that loads, KPIs and checks."""
    run_dir = tmp_path / "run"

    async def go() -> DistributedOriginator:
        dorig = await _dorig(dask_client, run_dir, max_offered=50).connect()
        assert len(dorig.shards) == 2 and [s.share for s in dorig.shards] == [0.5, 0.5]
        assert dorig.shards[0].worker != dorig.shards[1].worker
        dorig.start()
        assert await dorig.wait(30)
        await dorig.close()
        return dorig

    dorig = asyncio.run(go())
    stats = dorig.stats()
    run = load(run_dir)
    df = run.df
    assert len(df) == 50 == stats["offered"] == stats["answered"] + stats["failed"]
    assert df["call_id"].is_unique
    assert df.groupby("shard", observed=True).size().to_dict() == {"0": 25, "1": 25}
    assert set(df["worker"].astype(str)) == {s.worker for s in dorig.shards}
    for s in dorig.shards:  # every shard journaled its own rows as they finished
        rows = _journal_rows(run_dir / "shards" / str(s.index))
        assert {r["call_id"] for r in rows} == set(df.loc[df["shard"] == str(s.index), "call_id"])
    assert (df["failed"] == False).mean() > 0.9  # noqa: E712 - answered through the emulated DUT
    assert run.check(asr_min=0.5).passed
    meta = json.loads((run_dir / "run.json").read_text())
    assert [sh["shard"] for sh in meta["params"]["shards"]] == [0, 1]


@pytest.mark.parametrize("loop,poll_ms", [("asyncio", None), ("asyncio", 4.0), pytest.param(
    "uvloop", None, marks=pytest.mark.skipif(loop_kind("auto") != "uvloop",
                                             reason="uvloop is not installed"))])
def test_every_shard_runs_on_the_chosen_loop(dask_client: distributed.Client, tmp_path: Path,
                                             loop: str, poll_ms: float | None) -> None:
    """``loop=`` and ``poll_ms=`` (``dial --workers --loop --poll-ms``) pick each shard's
    event loop; run.json says which."""
    run_dir = tmp_path / "run"

    async def go() -> None:
        dorig = await _dorig(dask_client, run_dir, max_offered=4, loop=loop,
                             poll_ms=poll_ms).connect()
        dorig.start()
        assert await dorig.wait(30)
        await dorig.close()

    asyncio.run(go())
    shards = json.loads((run_dir / "run.json").read_text())["params"]["shards"]
    assert [sh["loop"] for sh in shards] == [loop, loop]
    assert [sh["poll_ms"] for sh in shards] == [poll_ms or 0.0] * 2
    assert len(load(run_dir).df) == 4


def test_retune_and_stop_reach_every_shard(dask_client: distributed.Client,
                                           tmp_path: Path) -> None:
    run_dir = tmp_path / "run"

    async def go() -> None:
        dorig = await _dorig(dask_client, run_dir, rate=10).connect()
        dorig.start()
        assert await _until(lambda: dorig.stats()["offered"] >= 6, 15)
        dorig.rate = 30
        dorig.limit = 9
        # each shard now aims at half of the new rate
        assert await _until(lambda: [p.get("target_rate") for p in dorig.stats()["per_shard"]]
                            == [15.0, 15.0], 5)
        dorig.stop()
        assert await _until(lambda: all(p["state"] == "STOPPED"
                                        for p in dorig.stats()["per_shard"]), 5)
        offered = [p["offered"] for p in dorig.stats()["per_shard"]]
        await asyncio.sleep(1.0)
        assert [p["offered"] for p in dorig.stats()["per_shard"]] == offered
        assert all(n > 0 for n in offered)
        await dorig.close()

    asyncio.run(go())
    for k, limit in ((0, 5), (1, 4)):  # 9 split by capacity, largest remainder first
        log = [json.loads(ln) for ln in (run_dir / "shards" / str(k) / "log.jsonl"
                                         ).read_text().splitlines()]
        retunes = [e["changes"] for e in log if e.get("kind") == "retune"]
        assert {"limit": limit} in retunes, retunes
        assert any("Constant(value=30.0" in c.get("shape", "") and "factor=0.5" in c["shape"]
                   for c in retunes), retunes
    assert len(load(run_dir).retunes) >= 2


def test_lab_and_panel_take_a_dask_client(dask_client: distributed.Client,
                                          tmp_path: Path) -> None:
    """open_lab(dask=client): the lab's hosts dealt to the workers; the notebook
    panel drives and shows the distributed originator like a local one."""
    import re

    from switchlab.notebooks import open_lab
    from switchlab.ui import panel

    def stat(p, name: str) -> int:  # type: ignore[no-untyped-def]
        m = re.search(rf"class='switchlab-stat-{name}'[^>]*>([^<]*)<", p.status.value)
        assert m, p.status.value
        return int(m.group(1).replace(",", ""))

    lab = open_lab(None, emulator_hosts=2, dask=dask_client)

    async def go() -> None:
        try:
            dorig = await lab.originator(rate=20, limit=20, duration=0.2,
                                         run_dir=str(tmp_path / "run"))
            assert isinstance(dorig, DistributedOriginator)
            assert [len(s.hosts) for s in dorig.shards] == [1, 1]
            p = panel(dorig, interval=0.2, chart=False)
            try:
                p.start_button.click()
                assert await _until(lambda: stat(p, "offered") >= 10, 15)
                p.stop_button.click()
                assert await dorig.wait(15)
                await asyncio.sleep(1.2)  # a poll and a refresh after the last call
                assert stat(p, "offered") == dorig.stats()["offered"] == len(dorig.run)
                assert p.error_messages == []
            finally:
                p.close()
        finally:
            await lab.aclose()

    asyncio.run(go())
    assert len(load(tmp_path / "run")) >= 10


def test_killed_worker_loses_no_finished_row(dask_client: distributed.Client,
                                             tmp_path: Path) -> None:
    """SIGKILL one worker mid-run: its journaled rows are all in the run, which says it was lost."""
    run_dir = tmp_path / "run"

    async def go() -> DistributedOriginator:
        dorig = await _dorig(dask_client, run_dir, rate=20).connect()
        victim = dorig.shards[1]
        pid = victim.actor.pid().result(10)
        assert pid != os.getpid()
        dorig.start()
        assert await _until(lambda: dorig.stats()["per_shard"][1].get("answered", 0) >= 5, 20)
        os.kill(pid, signal.SIGKILL)
        assert await _until(lambda: victim.lost is not None, 30)
        offered0 = dorig.stats()["per_shard"][0]["offered"]
        assert await _until(lambda: dorig.stats()["per_shard"][0]["offered"] > offered0, 10)
        await dorig.close()
        return dorig

    dorig = asyncio.run(go())
    run = load(run_dir)
    journaled = {r["call_id"] for r in _journal_rows(run_dir / "shards" / "1")}
    got = set(run.df.loc[run.df["shard"] == "1", "call_id"])
    assert journaled and journaled == got
    assert (run.df["shard"] == "0").sum() > 0
    lost = [e for e in run.events if e["kind"] == "shard_lost"]
    assert len(lost) == 1 and lost[0]["data"]["shard"] == 1
    assert json.loads((run_dir / "run.json").read_text())["params"]["shards_lost"][0]["shard"] == 1
    assert dorig.stats()["shards_lost"] == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(SwitchlabError, match="no hosts"):
        DistributedOriginator()
    with pytest.raises(SwitchlabError, match="not both"):
        DistributedOriginator(["127.0.0.1:8021"], emulated_hosts=1)
    with pytest.raises(SwitchlabError, match="once a second"):
        DistributedOriginator(["127.0.0.1:8021"], poll_interval=2)
    with pytest.raises(SwitchlabError, match="at least 1"):
        open_cluster(workers=0)
    with pytest.raises(SwitchlabError, match="not several"):
        open_cluster(workers=2, scheduler="tcp://127.0.0.1:1")
