"""``switchlab demo``: a load test on the embedded emulator, written to a run
directory with PNG plots and an HTML report."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import click

from .common import fail


@click.command("demo")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/demo"),
              show_default=True, help="run directory to write (replaced if it holds a demo run)")
@click.option("--seconds", type=float, default=30.0, show_default=True,
              help="length of the load ramp")
@click.option("--peak-rate", type=float, default=100.0, show_default=True,
              help="calls/s at the end of the ramp")
@click.option("--hosts", type=int, default=2, show_default=True, help="emulated FreeSWITCH hosts")
@click.option("--seed", type=int, default=2026, show_default=True, help="DUT random seed")
def command(out: Path, seconds: float, peak_rate: float, hosts: int, seed: int) -> None:
    """Ramp calls through an emulated DUT until it nears capacity; save the
    per-call DataFrame (Parquet + CSV), KPIs and plots."""
    import matplotlib

    matplotlib.use("Agg")
    from .. import plots
    from ..demo import run_demo
    from .common import format_stats
    from .plot import standard_figures

    if out.exists():
        if not (out / "run.json").exists():
            fail(f"{out} exists and is not a switchlab run directory; choose another --out")
        shutil.rmtree(out)
    click.echo(f"Emulating {hosts} FreeSWITCH hosts and a DUT (capacity 300 calls); ramping to "
               f"{peak_rate:g} calls/s over {seconds:g} s ...")
    run = asyncio.run(run_demo(seconds=seconds, peak_rate=peak_rate, hosts=hosts, out=out,
                               seed=seed))
    run.to_csv(out / "calls.csv")
    df = run.df
    figures = standard_figures(run)
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
    plots.report_html(run, out / "report.html")
    kpis = df.calls.kpis()
    row = kpis.loc["all"]
    click.echo(f"{len(df)} calls: ASR {row['asr']:.1%}, setup p50 {row['setup_latency.p50'] * 1e3:.0f} ms, "
               f"p95 {row['setup_latency.p95'] * 1e3:.0f} ms (FS tick {run.tick.label})")
    click.echo(f"Wrote {out}/: calls.parquet, calls.csv, run.json, report.html and "
               f"{', '.join(figures)}")
    click.echo(f"Open it in Python with: switchlab.load({str(out)!r})")
