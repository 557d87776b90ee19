"""The live panel of an :class:`~switchlab.originator.Originator` (ipywidgets).

>>> p = panel(orig)         # doctest: +SKIP
>>> p                       # doctest: +SKIP

(as a cell's value: Start / Stop / Hang up all, the controls, the status line, the chart)

Everything runs on the kernel's event loop: button and field callbacks call
the originator directly, and an asyncio task refreshes the status line and
the chart about once a second, so cells keep running while the load test
does. The chart is drawn from :class:`~switchlab.ui.live.LiveSeries`
aggregates in a worker thread and shown as a PNG. Errors from callbacks,
from the refresh, and those the originator logs (``error``, ``host_error``)
show in the panel's error area.

Widgets carry CSS classes for browser tests: ``switchlab-panel``,
``switchlab-start``, ``switchlab-stop``, ``switchlab-hupall``,
``switchlab-rate``, ``switchlab-limit``, ``switchlab-duration``,
``switchlab-max-offered``, ``switchlab-shape``, ``switchlab-apply-shape``,
``switchlab-status`` (with ``switchlab-stat-<name>`` spans: ``state``,
``active``, ``offered``, ``answered``, ``failed``, ``cps``, ``asr``),
``switchlab-chart``, ``switchlab-errors``.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..originator.loadshapes import Constant
from .chart import ChartRenderer
from .errors import ErrorArea
from .fields import ParameterFields
from .live import LiveSeries, Sample
from .shape_controls import ShapeControls, shape_kind
from .shapes import Delayed
from .status import RunEventWatch, status_html

log = logging.getLogger(__name__)


def _button(label: str, icon: str, cls: str, style: str, tip: str) -> widgets.Button:
    b = widgets.Button(description=label, icon=icon, button_style=style, tooltip=tip,
                       layout=widgets.Layout(width="130px"))
    b.add_class(cls)
    return b


class Panel(widgets.VBox):
    """Controls, status line and live chart of one originator.

    ``interval``: seconds between refreshes; ``window``: seconds of finished
    calls the live p95 is computed over; ``chart``: draw the live chart.
    Attributes (the widgets): ``start_button``, ``stop_button``,
    ``hupall_button``, ``rate``, ``limit``, ``duration``, ``max_offered``,
    ``shape``, ``ramp_from``, ``ramp_to``, ``ramp_over``, ``steps_start``,
    ``steps_step``, ``steps_every``, ``steps_count``, ``apply_shape``,
    ``status``, ``chart``, ``errors``; ``series`` (the
    :class:`~switchlab.ui.live.LiveSeries`), ``error_messages`` (texts shown).
    """

    def __init__(self, orig: Any, *, interval: float = 1.0, window: float = 5.0,
                 chart: bool = True, max_errors: int = 6) -> None:
        self.orig = orig
        self.interval = float(interval)
        self.series = LiveSeries(orig, window=window)
        self.error_area = ErrorArea(max_errors)
        self.error_messages = self.error_area.messages
        self.errors = self.error_area.html
        self.clear_errors_button = self.error_area.clear_button
        self.refreshes = 0
        self._closed = False
        self._run_events = RunEventWatch(orig.run)
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._draw_chart = chart
        self._last_sample: Sample | None = None
        self._seen_shape = orig.shape
        self._build()
        self._renderer = ChartRenderer(self.chart, self.series, self.report_error)
        super().__init__(children=self._layout())
        self.add_class("switchlab-panel")
        self.refresh_status(self.series.sample(keep=False))
        self._sync_controls()
        self._sync_buttons()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._task = loop.create_task(self._refresh_loop())

    @property
    def max_errors(self) -> int:
        """How many errors the error area keeps."""
        return self.error_area.max_errors

    @max_errors.setter
    def max_errors(self, value: int) -> None:
        self.error_area.max_errors = value

    @property
    def renders(self) -> int:
        """Chart drawings shown so far."""
        return self._renderer.renders

    # -- widgets -------------------------------------------------------------
    def _build(self) -> None:
        W = widgets
        self.start_button = _button("Start", "play", "switchlab-start", "success",
                                    "start launching calls")
        self.stop_button = _button("Stop", "stop", "switchlab-stop", "warning",
                                   "stop launching; calls in progress end on their own")
        self.hupall_button = _button("Hang up all", "phone", "switchlab-hupall", "danger",
                                     "stop and hang up every call of this originator")
        self.start_button.on_click(self._guard("Start", self._on_start))
        self.stop_button.on_click(self._guard("Stop", self._on_stop))
        self.hupall_button.on_click(self._guard("Hang up all", self._on_hupall))

        self.fields = ParameterFields(self.orig, self._guard, self._on_rate)
        self.rate, self.limit = self.fields.rate, self.fields.limit
        self.duration, self.max_offered = self.fields.duration, self.fields.max_offered

        o = self.orig
        sc = self.shape_controls = ShapeControls(o.shape, o.rate)
        sc.kind.observe(self._guard("load shape", self._on_shape_kind), names="value")
        sc.apply.on_click(self._guard("Apply shape", self._on_apply_shape))
        self.shape, self.apply_shape = sc.kind, sc.apply
        self.ramp_from, self.ramp_to, self.ramp_over = sc.ramp_from, sc.ramp_to, sc.ramp_over
        self.steps_start, self.steps_step = sc.steps_start, sc.steps_step
        self.steps_every, self.steps_count = sc.steps_every, sc.steps_count
        self._ramp_box, self._steps_box = sc.ramp_box, sc.steps_box

        self.status = W.HTML(value="")
        self.status.add_class("switchlab-status")
        self.chart = W.Image(format="png", layout=W.Layout(max_width="720px", width="100%"))
        self.chart.add_class("switchlab-chart")
        if not self._draw_chart:
            self.chart.layout.display = "none"

    def _layout(self) -> list[widgets.Widget]:
        W = widgets
        title = W.HTML(value="<b>switchlab originator</b>")
        return [title,
                W.HBox([self.start_button, self.stop_button, self.hupall_button]),
                self.fields.box,
                self.shape_controls.box,
                self.status, self.chart,
                W.HBox([self.errors, self.clear_errors_button])]

    # -- error reporting ------------------------------------------------------------
    def report_error(self, where: str, exc: BaseException | str) -> None:
        """Show an error in the panel (newest last, the last ``max_errors`` kept)."""
        self.error_area.report(where, exc)

    def clear_errors(self) -> None:
        self.error_area.clear()

    def _guard(self, where: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a widget callback: its exceptions go to the error area."""
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
                self.report_error(where, exc)
                self._sync_controls()
                return None
        return wrapper

    def _spawn(self, where: str, aw: Any) -> asyncio.Future[Any]:
        fut = asyncio.ensure_future(aw)
        self._pending.add(fut)

        def done(f: asyncio.Future[Any]) -> None:
            self._pending.discard(f)
            if not f.cancelled() and f.exception() is not None:
                self.report_error(where, f.exception())  # type: ignore[arg-type]
            self._sync_buttons()
        fut.add_done_callback(done)
        return fut

    # -- callbacks ----------------------------------------------------------------
    def _on_start(self, _: Any = None) -> None:
        self.orig.start()
        self._sync_buttons()

    def _on_stop(self, _: Any = None) -> None:
        self.orig.stop()
        self._sync_buttons()

    def _on_hupall(self, _: Any = None) -> asyncio.Future[Any]:
        self.orig.stop()   # no new calls from now on; the hang-ups go out on the loop
        fut = self._spawn("Hang up all", self.orig.hupall())
        self._sync_buttons()
        return fut

    def _on_rate(self, value: float) -> None:
        self.orig.rate = float(value)
        self._set_quietly(self.shape, "constant")
        self.shape_controls.show("constant")

    def _on_shape_kind(self, change: dict[str, Any]) -> None:
        self.shape_controls.show(change["new"])

    def shape_from_controls(self) -> Any:
        """The load shape the shape controls describe (not yet delayed)."""
        return self.shape_controls.build(self.rate.value)

    def _on_apply_shape(self, _: Any = None) -> None:
        shape = self.shape_from_controls()
        if isinstance(shape, Constant):
            self.orig.rate = shape.value
            return
        offset = max(0.0, self.orig.elapsed or 0.0)
        self.orig.set_shape(Delayed(shape, offset) if offset > 0 else shape)

    # -- syncing widgets with the originator -----------------------------------------
    def _set_quietly(self, widget: widgets.ValueWidget, value: Any) -> None:
        self.fields.set_quietly(widget, value)

    def _sync_controls(self) -> None:
        """Show the originator's current parameters and load shape kind."""
        self.fields.sync()
        shape = self.orig.shape
        if shape is not self._seen_shape:   # retuned (here or from a cell): show its kind
            self._seen_shape = shape
            kind = shape_kind(shape)
            self._set_quietly(self.shape, kind)
            self.shape_controls.show(kind)

    def _sync_buttons(self) -> None:
        running = self.orig.state.value == "ORIGINATING"
        self.start_button.disabled = running
        self.stop_button.disabled = not running

    # -- refreshing ------------------------------------------------------------------
    def refresh_status(self, s: Sample) -> None:
        """Write the status line from one sample."""
        self.status.value = status_html(s, self.orig)

    def _active(self) -> bool:
        """True while there is something to chart (launching, calls up, rows coming)."""
        s = self._last_sample
        return (self.orig.state.value == "ORIGINATING" or self.orig.stats()["active"] > 0
                or s is None or s.state == "ORIGINATING" or s.active > 0
                or len(self.orig.run) > self.series.rows_seen)

    def refresh(self) -> Sample | None:
        """One refresh: status line, buttons, error area, and (when anything
        moves) a new chart point and a redraw. Returns the new chart point, if any."""
        for where, message in self._run_events.new_errors():
            self.report_error(where, message)
        self._sync_buttons()
        self._sync_controls()
        self.refreshes += 1
        moving = self._active()
        s = self.series.sample(keep=moving)   # idle: the status still ages, the chart does not
        self._last_sample = s
        self.refresh_status(s)
        if not moving:
            return None
        if self._draw_chart:
            self._renderer.start()
        return s

    async def _refresh_loop(self) -> None:
        while not self._closed:
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - shown in the panel
                self.report_error("refresh", exc)
            await asyncio.sleep(self.interval)

    async def wait_render(self, timeout: float = 10.0) -> None:
        """Wait until the chart shows the newest points (tests, screenshots)."""
        await self._renderer.wait(timeout)

    def close(self) -> None:
        """Stop refreshing and close the widgets (the originator keeps going)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        self._renderer.close()

        def close_all(widget: widgets.Widget) -> None:
            for child in getattr(widget, "children", ()):
                close_all(child)
            widget.close()

        for child in self.children:
            close_all(child)
        super().close()


def panel(orig: Any, **kwargs: Any) -> Panel:
    """The live panel of ``orig`` (see :class:`Panel`): put it last in a cell
    to show it. Needs ipywidgets; refreshes on the running event loop (a
    Jupyter kernel's)."""
    return Panel(orig, **kwargs)
