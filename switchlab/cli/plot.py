"""``switchlab plot RUN [--out DIR]``: the report and the standard plots of a stored
run, as PNG files and an HTML report."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import matplotlib

matplotlib.use("Agg")  # before pyplot: the plots are written to files

from .. import plots  # noqa: E402
from ..errors import RunDirectoryError  # noqa: E402
from ..measure import load  # noqa: E402
from .common import fail  # noqa: E402


def standard_figures(run: Any) -> dict[str, Any]:
    """File name -> Figure of the standard plots (app outcomes when the run has any)."""
    df = run.df
    figures: dict[str, Any] = {
        "report.png": plots.report(run),
        "latency_cdf.png": plots.latency_cdf(df, by="app").figure,
        "latency_vs_load.png": plots.latency_vs_load(df).figure,
        "load_over_time.png": plots.load_over_time(df).figure,
        "failures_over_time.png": plots.failures_over_time(df).figure,
    }
    if plots.outcome_columns(df):
        figures["app_outcomes_over_time.png"] = plots.app_outcomes_over_time(df).figure
        figures["app_outcomes_by_cause.png"] = plots.app_outcomes_by_cause(df).figure
    return figures


@click.command("plot")
@click.argument("run_dir", metavar="RUN", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="directory for the PNG files and report.html (default: RUN itself)")
def command(run_dir: Path, out: Path | None) -> None:
    """Write the report and the standard plots of the stored run RUN."""
    try:
        run = load(run_dir)
    except RunDirectoryError as exc:
        fail(str(exc))
    out = out or run_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create {out}: {exc.strerror}; choose another --out")
    if not len(run.df):
        fail(f"{run_dir} holds no calls: nothing to plot")
    figures = standard_figures(run)
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
    plots.report_html(run, out / "report.html")
    click.echo(f"{len(run.df)} calls of run {run.run_id}: wrote {out}/report.html and "
               f"{', '.join(figures)}")
