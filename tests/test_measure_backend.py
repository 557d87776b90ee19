"""``Run.report()`` goes through the report-backend protocol: the measurement
layer never imports the plots, statically or lazily."""
from __future__ import annotations

import ast
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import switchlab.measure as m
from switchlab.errors import MeasurementError
from switchlab.measure import backend

MEASURE = Path(m.__file__).resolve().parent


def test_no_measure_module_imports_the_plots() -> None:
    for path in sorted(MEASURE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            assert not any("plots" in n for n in names), f"{path.name} imports {names}"


def test_importing_measure_loads_no_plotting() -> None:
    code = ("import sys, switchlab.measure; "
            "print(sorted(k for k in sys.modules if k.startswith(('switchlab.plots', "
            "'matplotlib'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def fake_backend() -> Iterator[list[tuple[str, Any]]]:
    calls: list[tuple[str, Any]] = []
    mod = types.ModuleType("fake_report_backend")

    def report(data: Any) -> str:
        calls.append(("report", data))
        return "figure"

    def report_html(data: Any, path: Any) -> Path:
        calls.append(("html", path))
        return Path(path)

    mod.report, mod.report_html = report, report_html  # type: ignore[attr-defined]
    sys.modules[mod.__name__] = mod
    backend.options["report_backend"] = mod.__name__
    try:
        yield calls
    finally:
        backend.options["report_backend"] = backend.DEFAULT_REPORT_BACKEND
        del sys.modules[mod.__name__]


def test_run_report_uses_the_configured_backend(fake_backend: list[tuple[str, Any]],
                                                tmp_path: Path) -> None:
    run = m.Run()
    assert run.report() == "figure"
    assert run.report(html=tmp_path / "r.html") == tmp_path / "r.html"
    assert fake_backend == [("report", run), ("html", tmp_path / "r.html")]


def test_the_default_backend_is_switchlab_plots() -> None:
    import switchlab.plots

    assert backend.get_report_backend() is switchlab.plots
    assert isinstance(switchlab.plots, m.ReportBackend)


def test_a_backend_that_cannot_report_says_what_to_do() -> None:
    with pytest.raises(MeasurementError, match="report_html"):
        backend.get_report_backend("json")
    with pytest.raises(MeasurementError, match="report_backend"):
        backend.get_report_backend("no_such_module_switchlab")
