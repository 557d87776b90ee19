"""The live panel, driven programmatically (clicks and value changes) against
an originator on the emulator, inside a running asyncio loop."""
from __future__ import annotations

import asyncio
import io
import re
import socket
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from switchlab import Client
from switchlab.apps.players import TonePlay
from switchlab.loadshapes import Constant, Ramp, Steps
from switchlab.originator import Originator, OriginatorState
from switchlab.sim import DUTModel, Emulator
from switchlab.sim.dut import Latency
from switchlab.ui import (
    Delayed,
    panel,
    parse_duration,
    parse_max_offered,
    render_chart,
    staircase,
)

PROXY = "127.0.0.1:5070"


def dut() -> DUTModel:
    return DUTModel(seed=3, trying_ms=1, ringing_ms=Latency.fixed(20), ring_ms=Latency.fixed(40),
                    failures={486: 0.05}, answer_probability=1.0, knee_ms=0)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(hosts=1, port=0, dut=dut(), tick_us=1000) as fs:
        yield fs


async def make_orig(fs: Emulator, **kw) -> Originator:
    host, port = fs.esl_addresses[0]
    client = Client(host, port)
    await client.connect()
    ip, sip_port = await client.sip_address("external")
    kw.setdefault("rate", 40)
    kw.setdefault("limit", 200)
    kw.setdefault("duration", 0.5)
    orig = Originator([client], dest=f"switchlab@{ip}:{sip_port}", proxy=PROXY,
                      apps={"tone": TonePlay}, **kw)
    await orig.connect()
    return orig


def stat(p, name: str) -> str:
    m = re.search(rf"class='switchlab-stat-{name}'[^>]*>([^<]*)<", p.status.value)
    assert m, p.status.value
    return m.group(1)


async def until(cond, timeout: float = 10.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.1f} s")
        await asyncio.sleep(step)


async def test_start_status_chart_and_stop(emu):
    orig = await make_orig(emu, rate=40, duration=0.5)
    p = panel(orig, interval=0.2)
    try:
        assert stat(p, "state") == "INITIAL" and stat(p, "active") == "0"
        assert not p.start_button.disabled and p.stop_button.disabled
        blank = p.chart.value
        p.start_button.click()
        assert orig.state is OriginatorState.ORIGINATING
        assert p.start_button.disabled and not p.stop_button.disabled
        await until(lambda: stat(p, "active") not in ("0",) and int(stat(p, "offered")) >= 40)
        assert stat(p, "state") == "ORIGINATING"
        await until(lambda: p.renders >= 3 and p.series.frame()["p95_setup"].notna().any())
        frame = p.series.frame()
        assert (frame["active"] > 0).any()
        # achieved rate of the live series near the target 40/s once it settled
        settled = frame[frame["t"] > 0.5]
        assert 25 < settled["achieved_cps"].median() < 55, frame
        assert (frame["target_rate"] == 40).any()
        # setup latency: 1 + 20 ms to the 180... the far end (TonePlay) answers at once
        p95 = frame["p95_setup"].dropna()
        assert (p95 > 0).all() and (p95 < 0.5).all()
        assert bytes(p.chart.value) != bytes(blank) and bytes(p.chart.value).startswith(b"\x89PNG")
        p.stop_button.click()
        assert orig.state is OriginatorState.STOPPED
        assert p.start_button.disabled is False and p.stop_button.disabled
        assert await orig.wait(10)
        await until(lambda: stat(p, "active") == "0" and stat(p, "state") == "STOPPED")
        stats = orig.stats()
        assert int(stat(p, "offered").replace(",", "")) == stats["offered"]
        assert int(stat(p, "answered").replace(",", "")) == stats["answered"]
        assert int(stat(p, "failed").replace(",", "")) == stats["failed"]
        asr = float(stat(p, "asr").rstrip(" %")) / 100
        assert asr == pytest.approx(stats["asr"], abs=0.001)
        # idle: nothing moves, so no new points and no redraw
        await asyncio.sleep(0.5)
        await p.wait_render()
        n, r = len(p.series.points), p.renders
        await asyncio.sleep(0.6)
        assert (len(p.series.points), p.renders) == (n, r)
        assert p.refreshes > 10
        assert p.error_messages == []
    finally:
        p.close()
        await orig.close()


async def test_controls_retune_the_running_originator(emu):
    orig = await make_orig(emu, rate=20, limit=500, duration=0.3)
    p = panel(orig, interval=0.2, chart=False)
    try:
        p.start_button.click()
        await asyncio.sleep(1.0)
        p.rate.value = 80
        assert orig.rate == 80 and isinstance(orig.shape, Constant)
        before, t = orig.stats()["offered"], time.monotonic()
        await asyncio.sleep(1.5)
        launched = orig.stats()["offered"] - before
        rate = launched / (time.monotonic() - t)
        assert 60 < rate < 100, rate          # launches follow the new rate
        await until(lambda: "(target 80)" in p.status.value)

        p.limit.value = 7
        assert orig.limit == 7
        await asyncio.sleep(0.6)
        assert orig.stats()["active"] <= 7
        p.limit.value = 500

        p.duration.value = "1.5"
        assert orig.duration == 1.5
        p.duration.value = "auto"
        assert orig.duration == pytest.approx(500 / 80)
        p.duration.value = "0.3"
        p.max_offered.value = "100000"
        assert orig.max_offered == 100000
        p.max_offered.value = "none"
        assert orig.max_offered is None

        p.shape.value = "ramp"
        assert p._ramp_box.layout.display is None and p._steps_box.layout.display == "none"
        p.ramp_from.value, p.ramp_to.value, p.ramp_over.value = 10, 110, 10
        p.apply_shape.click()
        shape = orig.shape
        assert isinstance(shape, Delayed) and isinstance(shape.shape, Ramp)
        assert shape.offset == pytest.approx(time.monotonic() - orig.started_at, abs=0.5)
        assert 9 <= orig.rate <= 16              # the ramp starts now, not at the run's start
        await asyncio.sleep(1.0)
        assert 14 <= orig.rate <= 26

        p.shape.value = "steps"
        p.steps_start.value, p.steps_step.value = 5, 5
        p.steps_every.value, p.steps_count.value = 2, 3
        p.apply_shape.click()
        assert isinstance(orig.shape.shape, Steps) and orig.rate == 5

        # the field follows a change made from a cell
        orig.rate = 33
        await until(lambda: p.rate.value == 33 and p.shape.value == "constant")
        orig.limit = 44
        await until(lambda: p.limit.value == 44)
        changes = [list(r["changes"]) for r in orig.run.retunes]
        assert ["limit"] in changes and ["duration"] in changes and ["max_offered"] in changes
        assert sum(c == ["shape"] for c in changes) >= 4
        assert p.error_messages == []
    finally:
        orig.stop()
        p.close()
        await orig.close()


async def test_errors_show_in_the_panel(emu):
    orig = await make_orig(emu, rate=10, duration=2.0)
    p = panel(orig, interval=0.2, chart=False)
    try:
        p.duration.value = "two seconds"
        assert orig.duration == 2.0                       # refused, nothing changed
        assert p.duration.value == "2"                    # the field shows the real value again
        assert any("duration" in m and "ValueError" in m for m in p.error_messages)
        assert "switchlab-error" in p.errors.value and "two seconds" in p.errors.value
        assert p.errors.layout.display is None            # visible
        p.max_offered.value = "-4"
        assert orig.max_offered is None and p.max_offered.value == "none"
        p.shape.value = "steps"
        p.steps_every.value = 0
        p.apply_shape.click()
        assert isinstance(orig.shape, Constant)
        assert "Apply shape: ValueError: every must be > 0 seconds" in p.error_messages[-1]
        p.clear_errors()
        assert p.error_messages == [] and p.errors.layout.display == "none"
    finally:
        p.close()
        await orig.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def test_originator_errors_reach_the_panel():
    orig = Originator([f"127.0.0.1:{closed_port()}"], dest="x@127.0.0.1:5080", rate=5)
    p = panel(orig, interval=0.1, chart=False)
    try:
        p.start_button.click()               # connecting fails inside the launch task
        await until(lambda: len(p.error_messages) >= 2)
        text = " | ".join(p.error_messages)
        assert "host_error 127.0.0.1:" in text and "cannot connect" in text
        assert "originator (error)" in text
        await until(lambda: stat(p, "state") == "STOPPED")
        assert not p.start_button.disabled
    finally:
        p.close()


async def test_hang_up_all(emu):
    orig = await make_orig(emu, rate=50, duration=60)
    p = panel(orig, interval=0.2, chart=False)
    try:
        p.start_button.click()
        await until(lambda: orig.stats()["answered"] + orig.count_answered_now >= 20)
        p.hupall_button.click()
        assert orig.state is OriginatorState.STOPPED and p.stop_button.disabled
        assert await orig.wait(5)          # every call hung up at once, not held 60 s
        await until(lambda: stat(p, "active") == "0")
        df = orig.run.df
        assert len(df) == orig.stats()["offered"]
        assert (df.loc[~df.failed, "hangup_side"] == "local").all()
        assert (df.loc[~df.failed, "duration"] < 10).all()   # not held the 60 s
        assert p.error_messages == []
        p.hupall_button.click()        # again, with nothing up: no error
        await asyncio.sleep(0.3)
        assert p.error_messages == []
    finally:
        p.close()
        await orig.close()


def test_parsers_and_shapes():
    assert parse_duration("auto") is None and parse_duration(" 2.5s ") == 2.5
    assert parse_max_offered("none") is None and parse_max_offered("1_000") == 1000
    for bad in ("-1", "x", "inf"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    with pytest.raises(ValueError, match="max offered"):
        parse_max_offered("1.5")
    d = Delayed(Ramp(10, 50, over=20, end=30), offset=100)
    assert d.rate(50) == 10 and d.rate(110) == 30 and d.rate(200) == 50 and d.end == 130
    s = staircase(5, 5, every=10, count=3)
    assert [s.rate(t) for t in (0, 9.9, 10, 25, 1000)] == [5, 5, 10, 15, 15] and s.end is None


def test_render_chart_draws_the_series():
    import matplotlib.image as mpimg
    t = np.arange(30.0)
    data = {"t": t, "active": t * 2, "achieved_cps": np.full(30, 10.0),
            "target_rate": np.full(30, 10.0), "p95_setup": np.where(t > 3, 0.05, np.nan)}
    png = render_chart(data, width=6, height=4, dpi=50)
    img = mpimg.imread(io.BytesIO(png))
    assert img.shape[:2] == (200, 300)
    # the lines are drawn: a good share of non-white, coloured pixels
    rgb = img[..., :3]
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 0.3
    assert coloured.mean() > 0.005


def test_panel_without_a_running_loop_refreshes_by_hand():
    """In a plain script there is no loop: nothing refreshes by itself, refresh() works."""
    orig = Originator(["127.0.0.1:8021"], dest="x@127.0.0.1:5080", rate=3, limit=2)
    p = panel(orig)
    try:
        assert p._task is None
        assert p.refresh() is not None             # the first point is drawn in this thread
        assert p.renders == 1 and bytes(p.chart.value).startswith(b"\x89PNG")
        assert p.refresh() is None                 # INITIAL, nothing moves: no new point
        assert len(p.series.points) == 1 and "INITIAL" in p.status.value
        p.rate.value = 7
        assert orig.rate == 7
    finally:
        p.close()


async def test_refreshing_does_not_hold_the_event_loop(emu):
    """The chart is drawn in a worker thread: the loop the originator and the
    kernel share stays responsive while the panel refreshes and redraws."""
    orig = await make_orig(emu, rate=100, limit=500, duration=0.3)
    p = panel(orig, interval=0.1)
    lags: list[float] = []

    async def probe():
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t - 0.01)

    task = asyncio.create_task(probe())
    try:
        p.start_button.click()
        await asyncio.sleep(2.5)
        # five redraws while calls run (the first one imports matplotlib in
        # the chart thread: slower on a loaded machine, hence the deadline)
        await until(lambda: p.renders >= 5, timeout=15.0)
        p.stop_button.click()
        lags.sort()
        print(f'loop lag p50 {lags[len(lags) // 2] * 1e3:.1f} ms, max {lags[-1] * 1e3:.1f} ms')
        assert lags[len(lags) // 2] < 0.02 and lags[-1] < 0.3, lags[-5:]
        frame = p.series.frame()
        assert 70 < frame.loc[frame["t"] > 1, "achieved_cps"].median() < 130
    finally:
        task.cancel()
        p.close()
        await orig.close()


def shown(p, name: str) -> str | None:
    """The value of stat ``name`` in the status line, or None when it is not shown."""
    m = re.search(rf"class='switchlab-stat-{name}'[^>]*>([^<]*)<", p.status.value)
    return m.group(1) if m else None


async def test_status_line_shows_hosts_down_and_not_offered(emu):
    """The only host restarts (down ~1.7 s at 20 calls/s): the status line says
    'hosts down 1' while it is away and 'not offered N' for the launches due meanwhile,
    then the host is back and 'hosts down' goes away."""
    orig = await make_orig(emu, rate=20, duration=0.1)
    p = panel(orig, interval=0.1, chart=False)
    try:
        p.start_button.click()
        await until(lambda: int(stat(p, "offered")) >= 10)
        assert shown(p, "hosts-down") is None and shown(p, "not-offered") is None
        emu.faults.restart(0, down_s=1.5)
        await until(lambda: shown(p, "hosts-down") == "1", 5)
        assert "hosts down" in p.status.value
        await until(lambda: shown(p, "not-offered") not in (None, "0"), 5)
        await until(lambda: shown(p, "hosts-down") is None, 10)   # reconnected
        p.stop_button.click()
        assert await orig.wait(10)
        await until(lambda: stat(p, "state") == "STOPPED")
        stats = orig.stats()
        assert stats["hosts_down"] == 0 and stats["not_offered"] > 0
        assert int(shown(p, "not-offered").replace(",", "")) == stats["not_offered"]
        assert shown(p, "hosts-given-up") is None
    finally:
        p.close()
        await orig.close()
