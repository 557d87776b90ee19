"""Helpers shared by the sub-commands: one-line errors, checks, progress."""
from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import click

#: exit code for usage and connection problems (click's own usage errors use 2 too)
EXIT_SETUP = 2



def fail(message: str) -> NoReturn:
    """Print ``Error: message`` on stderr and exit 2, with no traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_SETUP)


_CHECK = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*((?:<=|>=|==|!=|<|>).+)$")


def parse_checks(checks: tuple[str, ...], apps: Sequence[Any] = ()) -> dict[str, str]:
    """``("asr>=0.99", "setup_latency.p95<200ms")`` → ``{"asr": ">=0.99", ...}``,
    validated before the run starts (KPI names against an empty run's KPIs, with
    the columns ``apps`` declare: ``bridge_ok.ratio>=0.99``)."""
    from ..measure import check, empty_frame, register_app_columns

    for app in apps:
        register_app_columns(app)
    out: dict[str, str] = {}
    for item in checks:
        m = _CHECK.match(item)
        if not m:
            raise click.BadParameter(f"check {item!r} must look like 'asr>=0.99' or "
                                     "'setup_latency.p95<200ms'")
        try:
            check.parse_condition(m.group(2).strip())
        except ValueError as exc:
            raise click.BadParameter(f"check {item!r}: {exc}") from None
        out[m.group(1)] = m.group(2).strip()
    if out:
        try:
            empty_frame().calls.check(out)
        except ValueError as exc:  # UnknownKPIError names the known KPIs
            raise click.BadParameter(str(exc)) from None
    return out


#: host trouble shown only while non-zero (``Originator.stats()`` keys)
HOST_TROUBLE = ("hosts_down", "hosts_given_up", "not_offered", "shards_lost")


def host_trouble(stats: dict[str, Any]) -> str:
    """``hosts_down=1 not_offered=20``: the non-zero host counters, else ``""``.

    >>> host_trouble({"hosts_down": 1, "hosts_given_up": 0, "not_offered": 20})
    'hosts_down=1 not_offered=20'
    """
    return " ".join(f"{key}={stats[key]}" for key in HOST_TROUBLE if stats.get(key))


def format_stats(stats: dict[str, Any]) -> str:
    """One progress line of ``switchlab dial`` from ``Originator.stats()``."""
    asr = stats["asr"]
    trouble = host_trouble(stats)
    return (f"{stats['state']:<11} offered={stats['offered']} answered={stats['answered']} "
            f"failed={stats['failed']} active={stats['active']} "
            f"cps={stats['achieved_cps']:.1f}/{stats['target_rate']:g} "
            f"asr={'n/a' if asr is None else f'{asr:.1%}'}"
            + (f" {trouble}" if trouble else ""))


@asynccontextmanager
async def progress_reporter(orig: Any, *, live: bool, interval: float = 1.0
                            ) -> AsyncIterator[None]:
    """Show the originator's counters while the body runs: a rich live table on
    a terminal, else one plain line every ``interval`` seconds."""
    stop = asyncio.Event()

    async def plain() -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                click.echo(format_stats(orig.stats()))

    async def rich_live() -> None:
        from rich.live import Live
        from rich.table import Table

        def table() -> Table:
            s = orig.stats()
            t = Table(title=f"switchlab dial  {time.strftime('%H:%M:%S')}")
            for col in ("state", "offered", "answered", "failed", "active", "cps", "ASR"):
                t.add_column(col, justify="right")
            asr = "n/a" if s["asr"] is None else f"{s['asr']:.1%}"
            t.add_row(s["state"], str(s["offered"]), str(s["answered"]), str(s["failed"]),
                      str(s["active"]), f"{s['achieved_cps']:.1f}/{s['target_rate']:g}", asr)
            trouble = host_trouble(s)
            if trouble:
                t.caption = trouble.replace("_", " ").replace("=", " ")
                t.caption_style = "bold red"
            return t

        with Live(table(), refresh_per_second=4, transient=False) as view:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), min(interval, 0.25))
                except asyncio.TimeoutError:
                    view.update(table())
            view.update(table())

    task = asyncio.get_running_loop().create_task(rich_live() if live else plain())
    try:
        yield
    finally:
        stop.set()
        await task


async def run_to_end(orig: Any, stop: asyncio.Event, *, live: bool, interval: float) -> None:
    """Show progress while ``orig`` launches (until it stops or ``stop`` is
    set), then while its calls finish (a second Ctrl-C hangs them up)."""
    loop = asyncio.get_running_loop()
    async with progress_reporter(orig, live=live, interval=interval):
        while not stop.is_set() and not await orig.wait(interval, calls=False):
            pass
        last = 0.0
        while orig.count_active > 0:
            now = loop.time()
            if now - last >= interval:
                click.echo(f"Waiting on {orig.count_active} active calls to finish")
                last = now
            await orig.wait(min(interval, 0.2))
