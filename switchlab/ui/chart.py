"""Draws the panel's live chart off the event loop: one worker thread, one
reused figure, at most one drawing in flight (a newer one follows when
points arrived meanwhile), the PNG shown in an ``ipywidgets.Image``."""
from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .live import LiveChart, LiveSeries


class ChartRenderer:
    """Renders ``series`` into ``image``; drawing errors go to ``on_error(where, exc)``.
    ``renders``: drawings shown so far."""

    def __init__(self, image: widgets.Image, series: LiveSeries,
                 on_error: Callable[[str, BaseException], None]) -> None:
        self.image = image
        self.series = series
        self.on_error = on_error
        self.renders = 0
        self.closed = False
        self._render: asyncio.Future[bytes] | None = None
        self._dirty = False
        self._chart: LiveChart | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Draw the newest points (in the chart thread when a loop runs, else here)."""
        if self._render is not None and not self._render.done():
            self._dirty = True  # drawn again with the newest points when this one is done
            return
        self._dirty = False
        data = self.series.arrays()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # refreshed by hand outside any loop: draw here
            self.image.value = self._render_png(data)
            self.renders += 1
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="switchlab-panel-chart")
        self._render = loop.run_in_executor(self._executor, self._render_png, data)
        self._render.add_done_callback(self._rendered)

    def _render_png(self, data: dict[str, Any]) -> bytes:
        """Runs in the chart thread: one figure, reused."""
        if self._chart is None:
            self._chart = LiveChart(window=self.series.window)
        return self._chart.render(data)

    def _rendered(self, fut: asyncio.Future[bytes]) -> None:
        if fut.cancelled() or self.closed:
            return
        exc = fut.exception()
        if exc is not None:
            self._dirty = False
            self.on_error("chart", exc)
            return
        self.image.value = fut.result()
        self.renders += 1
        if self._dirty:
            self.start()

    async def wait(self, timeout: float = 10.0) -> None:
        """Wait until the chart shows the newest points."""
        deadline = time.monotonic() + timeout
        while self._render is not None and (not self._render.done() or self._dirty):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the chart was not redrawn within {timeout} s")
            await asyncio.sleep(0.02)

    def close(self) -> None:
        """Stop drawing and shut the chart thread down."""
        self.closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
