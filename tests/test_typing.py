"""switchlab ships ``py.typed``: mypy checks the package, with the settings of
``[tool.mypy]`` in pyproject.toml, and must find nothing."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                          text=True, timeout=280)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, (
        f"mypy failed (exit {proc.returncode}). Annotate the new code, or fix what it "
        f"reports (settings: [tool.mypy] in pyproject.toml):\n{output}")
