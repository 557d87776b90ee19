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
import concurrent.futures
import functools
import html
import logging
import math
import time
import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..loadshapes import Constant, Ramp, Steps
from .live import LiveChart, LiveSeries, Sample
from .shapes import SHAPE_KINDS, Delayed, build_shape

log = logging.getLogger(__name__)

#: run event-log kinds shown in the error area
REPORTED_EVENTS = ("error", "host_error")
#: texts meaning "no explicit value" in the duration / max-offered fields
AUTO_DURATION = ("", "auto")
NO_CAP = ("", "none", "inf", "∞")


def _fmt_duration(value: float | None) -> str:
    return "auto" if value is None else f"{value:g}"


def _fmt_max(value: int | None) -> str:
    return "none" if value is None else str(value)


def parse_duration(text: str) -> float | None:
    """``"auto"``/empty → None (Erlang's limit / rate), else seconds >= 0."""
    t = text.strip().lower().removesuffix("s").strip()
    if t in AUTO_DURATION:
        return None
    try:
        value = float(t)
    except ValueError:
        raise ValueError(f"duration must be seconds (e.g. 3 or 2.5) or 'auto', got {text!r}") \
            from None
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"duration must be seconds >= 0 or 'auto', got {text!r}")
    return value


def parse_max_offered(text: str) -> int | None:
    """``"none"``/empty → None (no cap), else a whole number >= 0."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    if t in NO_CAP:
        return None
    try:
        value = int(t)
    except ValueError:
        raise ValueError(f"max offered must be a whole number of calls or 'none', got {text!r}") \
            from None
    if value < 0:
        raise ValueError(f"max offered must be >= 0 or 'none', got {text!r}")
    return value


def _elapsed(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


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
        self.error_messages: list[str] = []
        self._tracebacks: list[str] = []
        self.max_errors = max_errors
        self.refreshes = 0
        self.renders = 0
        self._syncing = False
        self._closed = False
        self._events_seen = len(orig.run.events)
        self._task: asyncio.Task[None] | None = None
        self._render: asyncio.Future[bytes] | None = None
        self._dirty = False
        self._chart: LiveChart | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._draw_chart = chart
        self._last_sample: Sample | None = None
        self._seen_shape = orig.shape
        self._build()
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

    # -- widgets -------------------------------------------------------------
    def _build(self) -> None:
        W = widgets
        narrow = W.Layout(width="150px")
        style = {"description_width": "initial"}

        def button(label: str, icon: str, cls: str, style_: str, tip: str) -> W.Button:
            b = W.Button(description=label, icon=icon, button_style=style_, tooltip=tip,
                         layout=W.Layout(width="130px"))
            b.add_class(cls)
            return b

        self.start_button = button("Start", "play", "switchlab-start", "success",
                                   "start launching calls")
        self.stop_button = button("Stop", "stop", "switchlab-stop", "warning",
                                  "stop launching; calls in progress end on their own")
        self.hupall_button = button("Hang up all", "phone", "switchlab-hupall", "danger",
                                    "stop and hang up every call of this originator")
        self.start_button.on_click(self._guard("Start", self._on_start))
        self.stop_button.on_click(self._guard("Stop", self._on_stop))
        self.hupall_button.on_click(self._guard("Hang up all", self._on_hupall))

        def field(widget: W.ValueWidget, cls: str, handler: Callable[[Any], None],
                  what: str) -> W.ValueWidget:
            widget.add_class(cls)
            widget.observe(self._guard(what, self._from_user(handler)), names="value")
            return widget

        o = self.orig
        self.rate = field(W.BoundedFloatText(value=float(o.rate), min=0.0, max=1e6, step=1.0,
                                             description="rate (calls/s)",
                                             continuous_update=False, style=style,
                                             layout=W.Layout(width="190px")),
                          "switchlab-rate", self._on_rate, "rate")
        self.limit = field(W.BoundedIntText(value=int(o.limit), min=1, max=10_000_000,
                                            description="limit", continuous_update=False,
                                            style=style, layout=narrow),
                           "switchlab-limit", self._on_limit, "limit")
        self.duration = field(W.Text(value=_fmt_duration(o.explicit_duration),
                                     description="duration (s)", placeholder="auto",
                                     continuous_update=False, style=style,
                                     layout=W.Layout(width="170px")),
                              "switchlab-duration", self._on_duration, "duration")
        self.max_offered = field(W.Text(value=_fmt_max(o.max_offered), description="max offered",
                                        placeholder="none", continuous_update=False, style=style,
                                        layout=W.Layout(width="190px")),
                                 "switchlab-max-offered", self._on_max_offered, "max offered")

        def num(label: str, value: float, cls: str, integer: bool = False) -> W.ValueWidget:
            kind = W.BoundedIntText if integer else W.BoundedFloatText
            w = kind(value=value, min=1 if integer else 0, max=1_000_000, description=label,
                     continuous_update=False, style=style, layout=W.Layout(width="140px"))
            w.add_class(cls)
            return w

        rate = float(o.rate) or 1.0
        self.shape = W.Dropdown(options=list(SHAPE_KINDS), value=self._shape_kind(),
                                description="load shape", style=style,
                                layout=W.Layout(width="200px"))
        self.shape.add_class("switchlab-shape")
        self.shape.observe(self._guard("load shape", self._on_shape_kind), names="value")
        self.ramp_from = num("from", max(1.0, rate / 10), "switchlab-ramp-from")
        self.ramp_to = num("to", rate * 2, "switchlab-ramp-to")
        self.ramp_over = num("over (s)", 30.0, "switchlab-ramp-over")
        self.steps_start = num("start", rate, "switchlab-steps-start")
        self.steps_step = num("step", max(1.0, rate / 2), "switchlab-steps-step")
        self.steps_every = num("every (s)", 10.0, "switchlab-steps-every")
        self.steps_count = num("count", 5, "switchlab-steps-count", integer=True)
        self.apply_shape = W.Button(description="Apply shape", icon="check",
                                    tooltip="retune the running originator to this load shape",
                                    layout=W.Layout(width="130px"))
        self.apply_shape.add_class("switchlab-apply-shape")
        self.apply_shape.on_click(self._guard("Apply shape", self._on_apply_shape))
        self._ramp_box = W.HBox([self.ramp_from, self.ramp_to, self.ramp_over])
        self._steps_box = W.HBox([self.steps_start, self.steps_step, self.steps_every,
                                  self.steps_count])
        self._show_shape_params(self.shape.value)

        self.status = W.HTML(value="")
        self.status.add_class("switchlab-status")
        self.chart = W.Image(format="png", layout=W.Layout(max_width="720px", width="100%"))
        self.chart.add_class("switchlab-chart")
        if not self._draw_chart:
            self.chart.layout.display = "none"
        self.errors = W.HTML(value="", layout=W.Layout(display="none"))
        self.errors.add_class("switchlab-errors")
        self.clear_errors_button = W.Button(description="clear", layout=W.Layout(
            width="70px", display="none"))
        self.clear_errors_button.add_class("switchlab-clear-errors")
        self.clear_errors_button.on_click(lambda _: self.clear_errors())

    def _layout(self) -> list[widgets.Widget]:
        W = widgets
        title = W.HTML(value="<b>switchlab originator</b>")
        return [title,
                W.HBox([self.start_button, self.stop_button, self.hupall_button]),
                W.HBox([self.rate, self.limit, self.duration, self.max_offered]),
                W.HBox([self.shape, self._ramp_box, self._steps_box, self.apply_shape]),
                self.status, self.chart,
                W.HBox([self.errors, self.clear_errors_button])]

    # -- error reporting ------------------------------------------------------------
    def report_error(self, where: str, exc: BaseException | str) -> None:
        """Show an error in the panel (newest last, the last ``max_errors`` kept)."""
        if isinstance(exc, BaseException):
            head = f"{type(exc).__name__}: {exc}"
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            head, tb = str(exc), ""
        text = f"{where}: {head}"
        log.debug("panel error %s\n%s", text, tb)
        if self.error_messages and self.error_messages[-1] == text:
            return  # the same error again (e.g. every refresh): shown once
        self.error_messages.append(text)
        self._tracebacks.append(tb)
        del self.error_messages[:-self.max_errors]
        del self._tracebacks[:-self.max_errors]
        items = []
        for msg, tb in zip(self.error_messages, self._tracebacks):
            body = f"<span class='switchlab-error'>{html.escape(msg)}</span>"
            if tb:
                body = (f"<details><summary>{body}</summary><pre style='font-size:11px'>"
                        f"{html.escape(tb)}</pre></details>")
            items.append(f"<div>{body}</div>")
        self.errors.value = ("<div style='color:#b00020;border-left:3px solid #b00020;"
                             "padding-left:6px'>" + "".join(items) + "</div>")
        self.errors.layout.display = None
        self.clear_errors_button.layout.display = None

    def clear_errors(self) -> None:
        self.error_messages.clear()
        self._tracebacks = []
        self.errors.value = ""
        self.errors.layout.display = "none"
        self.clear_errors_button.layout.display = "none"

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

    def _from_user(self, handler: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
        def on_change(change: dict[str, Any]) -> None:
            if not self._syncing:
                handler(change["new"])
        return on_change

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
        self._show_shape_params("constant")

    def _on_limit(self, value: int) -> None:
        self.orig.limit = int(value)

    def _on_duration(self, text: str) -> None:
        self.orig.duration = parse_duration(text)

    def _on_max_offered(self, text: str) -> None:
        self.orig.max_offered = parse_max_offered(text)

    def _on_shape_kind(self, change: dict[str, Any]) -> None:
        self._show_shape_params(change["new"])

    def shape_from_controls(self) -> Any:
        """The load shape the shape controls describe (not yet delayed)."""
        return build_shape(self.shape.value, rate=self.rate.value,
                           ramp_from=self.ramp_from.value, ramp_to=self.ramp_to.value,
                           ramp_over=self.ramp_over.value, steps_start=self.steps_start.value,
                           steps_step=self.steps_step.value, steps_every=self.steps_every.value,
                           steps_count=self.steps_count.value)

    def _on_apply_shape(self, _: Any = None) -> None:
        shape = self.shape_from_controls()
        if isinstance(shape, Constant):
            self.orig.rate = shape.value
            return
        offset = max(0.0, self.orig.elapsed or 0.0)
        self.orig.set_shape(Delayed(shape, offset) if offset > 0 else shape)

    # -- syncing widgets with the originator -----------------------------------------
    def _set_quietly(self, widget: widgets.ValueWidget, value: Any) -> None:
        if widget.value == value:
            return
        self._syncing = True
        try:
            widget.value = value
        finally:
            self._syncing = False

    def _shape_kind(self) -> str:
        shape = self.orig.shape
        inner = shape.shape if isinstance(shape, Delayed) else shape
        if isinstance(inner, Ramp):
            return "ramp"
        if isinstance(inner, Steps):
            return "steps"
        return "constant"

    def _show_shape_params(self, kind: str) -> None:
        self._ramp_box.layout.display = None if kind == "ramp" else "none"
        self._steps_box.layout.display = None if kind == "steps" else "none"

    def _sync_controls(self) -> None:
        """Show the originator's current parameters (changed from a cell, or a
        refused value put back). A field the user did not change is left alone."""
        o = self.orig
        if isinstance(o.shape, Constant):
            self._set_quietly(self.rate, float(o.shape.value))
        if o.shape is not self._seen_shape:   # retuned (here or from a cell): show its kind
            self._seen_shape = o.shape
            kind = self._shape_kind()
            self._set_quietly(self.shape, kind)
            self._show_shape_params(kind)
        self._set_quietly(self.limit, int(o.limit))
        explicit = o.explicit_duration
        try:
            same = parse_duration(self.duration.value) == explicit
        except ValueError:
            same = False
        if not same:
            self._set_quietly(self.duration, _fmt_duration(explicit))
        try:
            same_max = parse_max_offered(self.max_offered.value) == o.max_offered
        except ValueError:
            same_max = False
        if not same_max:
            self._set_quietly(self.max_offered, _fmt_max(o.max_offered))

    def _sync_buttons(self) -> None:
        running = self.orig.state.value == "ORIGINATING"
        self.start_button.disabled = running
        self.stop_button.disabled = not running

    # -- refreshing ------------------------------------------------------------------
    def refresh_status(self, s: Sample) -> None:
        """Write the status line from one sample."""
        asr = "–" if s.asr is None else f"{100 * s.asr:.1f} %"
        p95 = "–" if math.isnan(s.p95_setup) else f"{1e3 * s.p95_setup:.0f} ms"
        dur = self.orig.duration
        auto = " (auto)" if self.orig.explicit_duration is None else ""
        started = getattr(self.orig, "started_at", None)
        elapsed = 0.0
        if started is not None:
            end = getattr(self.orig, "stopped_at", None) or time.monotonic()
            elapsed = max(0.0, end - started)
        colour = {"ORIGINATING": "#1b7f1b", "STOPPED": "#a15c00"}.get(s.state, "#555")

        def stat(name: str, label: str, value: str) -> str:
            return (f"<span class='switchlab-stat'>{label} "
                    f"<b class='switchlab-stat-{name}'>{html.escape(value)}</b></span>")

        parts = [f"<b class='switchlab-stat-state' style='color:{colour}'>{s.state}</b>",
                 stat("active", "active", f"{s.active:,}"),
                 stat("offered", "offered", f"{s.offered:,}"),
                 stat("answered", "answered", f"{s.answered:,}"),
                 stat("failed", "failed", f"{s.failed:,}"),
                 stat("cps", "achieved", f"{s.recent_cps:.1f}") + " calls/s" +
                 (f" (target {s.target_rate:.4g})" if s.state == "ORIGINATING" else ""),
                 stat("asr", "ASR", asr),
                 stat("p95", "p95 setup", p95),
                 f"hold {dur:g} s{auto}", f"elapsed {_elapsed(elapsed)}"]
        self.status.value = ("<div style='font-family:monospace;font-size:13px'>"
                             + " · ".join(parts) + "</div>")

    def _check_run_events(self) -> None:
        events = self.orig.run.events
        new = events[self._events_seen:]
        self._events_seen = len(events)
        for e in new:
            if e.get("kind") in REPORTED_EVENTS:
                host = (e.get("data") or {}).get("host")
                where = f"originator ({e['kind']}{' ' + host if host else ''})"
                self.report_error(where, e.get("message", ""))

    def _active(self) -> bool:
        """True while there is something to chart (launching, calls up, rows coming)."""
        s = self._last_sample
        return (self.orig.state.value == "ORIGINATING" or self.orig.stats()["active"] > 0
                or s is None or s.state == "ORIGINATING" or s.active > 0
                or len(self.orig.run) > self.series.rows_seen)

    def refresh(self) -> Sample | None:
        """One refresh: status line, buttons, error area, and (when anything
        moves) a new chart point and a redraw. Returns the new chart point, if any."""
        self._check_run_events()
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
            self._start_render()
        return s

    def _start_render(self) -> None:
        if self._render is not None and not self._render.done():
            self._dirty = True  # drawn again with the newest points when this one is done
            return
        self._dirty = False
        data = self.series.arrays()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # refreshed by hand outside any loop: draw here
            self.chart.value = self._render_png(data)
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
        if fut.cancelled() or self._closed:
            return
        if fut.exception() is not None:
            self._dirty = False
            self.report_error("chart", fut.exception())  # type: ignore[arg-type]
            return
        self.chart.value = fut.result()
        self.renders += 1
        if self._dirty:
            self._start_render()

    async def _refresh_loop(self) -> None:
        while not self._closed:
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - shown in the panel
                self.report_error("refresh", exc)
            await asyncio.sleep(self.interval)

    async def wait_render(self, timeout: float = 10.0) -> None:
        """Wait until the chart shows the newest points (tests, screenshots)."""
        deadline = time.monotonic() + timeout
        while self._render is not None and (not self._render.done() or self._dirty):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the chart was not redrawn within {timeout} s")
            await asyncio.sleep(0.02)

    def close(self) -> None:
        """Stop refreshing and close the widgets (the originator keeps going)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
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
