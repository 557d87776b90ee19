"""The examples in the measurement layer's docstrings run and are right."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["accessor", "backend", "calltable", "check", "columns", "frame", "journal", "kpis",
           "record", "run", "rundir", "schema",
           "stats", "store", "tick", "timeseries"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"switchlab.measure.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
