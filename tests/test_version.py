"""One version, in ``switchlab/_version.py``: the package and its metadata read it."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import switchlab
from switchlab import _version

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def test_the_package_exports_the_one_version() -> None:
    assert switchlab.__version__ is _version.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc|\.dev|\.post)\d+)?", switchlab.__version__)


def test_pyproject_takes_the_version_from_the_package() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "switchlab._version.__version__"}
