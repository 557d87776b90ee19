"""Analysis plots of per-call DataFrames and runs (matplotlib).

Every function takes a per-call DataFrame (``run.df``) or a
:class:`~switchlab.measure.Run`, accepts ``ax=`` (one Axes) or ``fig=``
(several), returns what it drew on, never calls ``plt.show()`` and never
changes rcParams. Everything is aggregated before drawing (numpy
histograms, ECDFs on ≤ 2000 points, per-window series from
``df.calls.timeseries``), so a plot of 1 M calls has a handful of artists.
Latency panels name the detected FreeSWITCH tick ("FS tick 20 ms").

>>> from switchlab import plots                       # doctest: +SKIP
>>> plots.latency_cdf(run, by="host")                 # doctest: +SKIP
>>> plots.report(run).savefig("run.png")              # doctest: +SKIP

See docs/PLOTS.md for one example per function.
"""
from .aggregate import (
                   ecdf_points,
                   knee_point,
                   launch_windows,
                   mean_holding_time,
                   tick_bin_edges,
)
from .compare import compare_runs, compare_table
from .failures import (
                   cause_sip_heatmap,
                   cause_sip_table,
                   failures_by_window,
                   failures_over_time,
)
from .latency import latency_cdf, latency_facets, latency_hist, latency_over_time
from .load import (
                   latency_by_load,
                   latency_vs_load,
                   load_over_time,
                   occupancy_over_time,
                   rate_over_time,
)
from .outcomes import (
                   app_outcomes_by_cause,
                   app_outcomes_over_time,
                   outcome_columns,
                   outcome_table,
)
from .report import auto_freq, kpi_panel, kpi_summary, report, report_html

__all__ = [
                   "app_outcomes_by_cause",
                   "app_outcomes_over_time",
                   "auto_freq",
                   "cause_sip_heatmap",
                   "cause_sip_table",
                   "compare_runs",
                   "compare_table",
                   "ecdf_points",
                   "failures_by_window",
                   "failures_over_time",
                   "knee_point",
                   "kpi_panel",
                   "kpi_summary",
                   "latency_by_load",
                   "latency_cdf",
                   "latency_facets",
                   "latency_hist",
                   "latency_over_time",
                   "latency_vs_load",
                   "launch_windows",
                   "load_over_time",
                   "outcome_columns",
                   "outcome_table",
                   "mean_holding_time",
                   "occupancy_over_time",
                   "rate_over_time",
                   "report",
                   "report_html",
                   "tick_bin_edges",
]
