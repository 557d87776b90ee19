"""``switchlab list-apps``, ``dial --app`` with every built-in (their outcome columns
in the stored run, typed, with ratio KPIs) and ``switchlab plot RUN``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from switchlab.cli.inputs import BUILTIN_APPS

CALLFLOW_APPS = {"CalleeRingback": ["ringback_ok"], "CalleeBlockOnInvite": ["block_code", "block_ok"],
                 "CalleeEarlyMedia": ["early_media_ok"], "Bridger": ["bridge_ok", "bridge_cause"],
                 "Proxier": ["bridge_ok", "bridge_cause"], "Router": ["route"]}


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchlab.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_list_apps_names_every_builtin_with_events_and_columns() -> None:
    res = cli("list-apps")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == list(BUILTIN_APPS)
    by_name = {line.split(":", 1)[0]: line for line in lines}
    for name, cols in CALLFLOW_APPS.items():
        assert "CHANNEL_PARK" in by_name[name].split("[events: ", 1)[1]
        assert f"columns: {', '.join(dict.fromkeys(cols))}]" in by_name[name]
    assert by_name["TonePlay"].endswith("columns: -]")


@pytest.fixture(scope="module")
def app_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("apps") / "run"
    apps = [a for name in ["TonePlay", *CALLFLOW_APPS] for a in ("--app", name)]
    res = cli("dial", "--sim", "--rate", "20", "--limit", "20", "--max-offered", "14",
              "--duration", "0.3", "--metrics-file", str(run_dir), *apps,
              "--check", "ringback_ok.ratio>=1", "--check", "bridge_ok.ratio>=1")
    assert res.returncode == 0, res.stdout + res.stderr  # the app KPIs are checkable
    assert "ok   ringback_ok.ratio = 1" in res.stdout and "ok   bridge_ok.ratio = 1" in res.stdout
    return run_dir


def test_dial_with_every_builtin_stores_typed_outcome_columns(app_run: Path) -> None:
    # a fresh interpreter: the run's own run.json declares the app columns. Only the
    # calls that reached the callee count (the emulated DUT refuses ~1% by itself).
    code = f"""
import switchlab.measure as m
run = m.load({str(app_run)!r})
df = run.df
reached = df[df["callee_create"].notna()]
print(str(df["ringback_ok"].dtype), str(df["block_code"].dtype), str(df["route"].dtype))
for app, col in [("CalleeRingback", "ringback_ok"), ("CalleeBlockOnInvite", "block_ok"),
                 ("CalleeEarlyMedia", "early_media_ok"), ("Bridger", "bridge_ok"),
                 ("Proxier", "bridge_ok")]:
    mine = reached[reached["app"] == app][col]
    print(app, len(mine) >= 1, bool(mine.eq(True).all()), int(df[df["app"] != app][col].eq(True).sum()))
router = reached[reached["app"] == "Router"]
print(len(router) >= 1, set(router["route"]), set(router["hangup_cause"]))
print(set(reached[reached["app"] == "CalleeBlockOnInvite"]["hangup_cause"]))
k = reached.calls.kpis().loc["all"]
print(k["ringback_ok.ratio"], k["block_ok.ratio"], k["early_media_ok.ratio"], k["bridge_ok.ratio"])
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    assert out[0] == "boolean Int16 category"
    for line in out[1:4]:
        assert line.endswith(" True True 0"), line   # only that app's calls have a value
    for line in out[4:6]:  # Bridger and Proxier share bridge_ok
        assert " True True " in line, line
    assert out[6] == "True {'none'} {'NO_ROUTE_DESTINATION'}"
    assert out[7] == "{'USER_BUSY'}"
    assert out[8] == "1.0 1.0 1.0 1.0"


def test_plot_writes_the_report_and_the_app_outcome_plots(app_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "plots"
    res = cli("plot", str(app_run), "--out", str(out))
    assert res.returncode == 0, res.stderr
    for name in ("report.html", "report.png", "latency_cdf.png", "failures_over_time.png",
                 "app_outcomes_over_time.png", "app_outcomes_by_cause.png"):
        assert (out / name).stat().st_size > 1000, name
    assert "14 calls of run" in res.stdout


def test_plot_of_a_missing_run_is_one_line_exit_2(tmp_path: Path) -> None:
    res = cli("plot", str(tmp_path / "nothing"))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "not a directory" in res.stderr
