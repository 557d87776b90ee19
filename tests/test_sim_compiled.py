"""The emulator's compiled call simulation (``switchlab.wire.native.SIM_MODULES``)
is the pure one, compiled.

* the group runs all compiled or all from source, and CI runs it compiled;
* compiled and pure emulators pass the same strict checks: the suite runs the
  compiled one, and :func:`test_the_pure_emulator_passes_the_same_checks` runs
  the fidelity scenarios, the render-cache and CDR-block property tests, the
  DUT statistics and the call-flow and rule tests again with ``SWITCHLAB_PURE=1``,
  and the doctests of the compiled modules' sources (pytest cannot collect them
  from the ``.py`` while the compiled file is loaded under its name; a copy
  loaded beside the compiled one would run the import-time registrations of
  its module a second time, e.g. the outbound socket's connector);
* the choice for a group whose modules sit in sub-packages: an edited source
  makes every module of the group run from its source, including those
  imported later.

The wire's group has the same checks and its differential tests in
``tests/test_wire_compiled.py``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import switchlab.sim  # noqa: F401  (selects the compiled modules)
from switchlab.wire import native
from fakegroup import installed_group, loaded

SIM = "switchlab.sim"
NAMES = native.SIM_MODULES
ROOT = Path(__file__).resolve().parents[1]
COMPILED = native.compiled_modules(SIM) == list(NAMES)
needs_compiled = pytest.mark.skipif(not COMPILED, reason="pure install: nothing compiled")


def _module(name: str):  # type: ignore[no-untyped-def]
    return sys.modules[f"{SIM}.{name}"]


def test_the_group_runs_all_compiled_or_all_from_source() -> None:
    """One shared library holds them all and imports its members from itself."""
    kinds = {name: native.is_compiled(_module(name)) for name in NAMES}
    assert len(set(kinds.values())) == 1, kinds


def test_ci_runs_the_compiled_emulator() -> None:
    if not os.environ.get("CI") or native.pure_wanted():
        pytest.skip("outside CI (or SWITCHLAB_PURE=1) a pure install is allowed")
    assert COMPILED, (f"the install did not compile the emulator's modules "
                      f"({native.compiled_modules(SIM)} of {NAMES}): look for 'switchlab: ... "
                      "installing the pure-Python modules' in pip's output")


@needs_compiled
@pytest.mark.parametrize("name", NAMES)
def test_no_compiled_class_has_a_weakref_slot(name: str) -> None:
    """As in the wire's group: a compiled class with a Python base class gets a
    ``__weakref__`` slot that mypyc's generated ``clear`` frees (a crash at the
    next collection). ``typing.Protocol`` classes stay interpreted classes."""
    module = _module(name)
    for cls in vars(module).values():
        if (isinstance(cls, type) and cls.__module__ == module.__name__
                and not getattr(cls, "_is_protocol", False)):
            assert "__weakref__" not in vars(cls), (
                f"{module.__name__}.{cls.__name__} has a __weakref__ slot when compiled: "
                "give it no Python base class, or leave its module out of SIM_MODULES")


def test_switchlab_pure_runs_the_sources_in_a_new_interpreter() -> None:
    code = ("import switchlab.sim; from switchlab.wire import native as n; "
            "print(n.compiled_modules('switchlab.sim'), n.compiled_modules())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, native.PURE_ENV: "1"})
    assert out.stdout.strip() == "[] []", out


@needs_compiled
def test_the_pure_emulator_passes_the_same_checks() -> None:
    """The emulator's strictest tests, run again on its sources: FreeSWITCH's
    recorded scenarios, the variable and CDR blocks against rendering from
    scratch, the DUT's statistics, the call flows and FreeSWITCH's rules."""
    tests = ["tests/test_sim_fidelity.py", "tests/test_sim_render_cache.py",
             "tests/test_sim_cdr_block.py", "tests/test_sim_dut.py", "tests/test_sim_calls.py",
             "tests/test_sim_rules.py", "tests/test_sim_callee_id.py",
             "tests/test_sim_mechanics.py"]
    sources = [str(native.source_path(Path("switchlab/sim"), name)) for name in NAMES]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "--doctest-modules", *tests, *sources],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, native.PURE_ENV: "1", "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1] and "failed" not in run.stdout, run.stdout
    passed = int(run.stdout.splitlines()[-1].split(" passed")[0].split()[-1])
    assert passed >= 90, run.stdout[-500:]  # the tests and the sources' doctests ran


# -- which modules run, for a group in sub-packages ------------------------------------

@pytest.fixture
def fake_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A group in sub-packages (``fakegroup.installed_group``); ``calls.beta``
    imports ``model.alpha`` as the group's modules import each other."""
    sources = {"model.alpha": b"WHO = 'source of alpha'\n",
               "calls.beta": b"from ..model import alpha\nWHO = 'source of beta'\n"}
    for pkg in installed_group(tmp_path, "fakesim", sources, monkeypatch):
        yield "fakesim", pkg


def test_an_up_to_date_group_is_left_to_the_import_system(fake_group: tuple[str, Path]) -> None:
    assert native.build_state(fake_group[0]) == "compiled"
    native.select(fake_group[0])
    assert loaded(fake_group[0]) == {"model.alpha": None, "calls.beta": None}


def test_the_state_is_found_without_importing_the_package(
        fake_group: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """``switchlab --version`` tells how the emulator runs without importing it."""
    package, pkg = fake_group
    del sys.modules[package]
    assert native.build_state(package) == "compiled"
    native.source_path(pkg, "model.alpha").write_text("WHO = 'edited'\n")
    assert native.build_state(package) == "stale"
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.build_state(package) == "pure"
    assert package not in sys.modules


def test_an_edited_source_makes_the_whole_group_run_from_source(
        fake_group: tuple[str, Path]) -> None:
    package, pkg = fake_group
    native.source_path(pkg, "calls.beta").write_text(
        "from ..model import alpha\nWHO = 'edited beta'\n")
    with pytest.warns(native.StaleBuildWarning, match=r"compiled calls\.beta was not built.*"
                      r"pip install -e \."):
        native.select(package)
    assert loaded(package) == {"model.alpha": "source of alpha", "calls.beta": "edited beta"}
    # a module of the group imported again later is still its source
    del sys.modules[f"{package}.model.alpha"]
    __import__(f"{package}.model.alpha")
    assert loaded(package)["model.alpha"] == "source of alpha"


def test_pure_wanted_loads_the_whole_group(fake_group: tuple[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.PURE_ENV, "1")
    native.select(fake_group[0])
    assert loaded(fake_group[0]) == {"model.alpha": "source of alpha",
                                      "calls.beta": "source of beta"}


def test_every_compiled_file_belongs_to_a_group() -> None:
    """A compiled file left by a build with another list of modules (an editable
    install compiles in place and removes nothing) would shadow its edited source
    unchecked: only the groups' modules and libraries may have one."""
    package_dir = Path(native.__file__).resolve().parents[1]
    allowed = {native.source_path(package_dir.parent.joinpath(*package.split(".")), name)
               .with_suffix("") for package, names in native.COMPILED_GROUPS.items()
               for name in (*names, "_compiled__mypyc")}
    suffixes = sorted(native.EXTENSION_SUFFIXES, key=len, reverse=True)
    found = 0
    for path in package_dir.rglob("*"):
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is not None:
            found += 1
            assert path.with_name(path.name[:-len(suffix)]) in allowed, (
                f"{path} is not a module of a compiled group "
                "(switchlab.wire.native.COMPILED_GROUPS): delete it")
    assert found or not COMPILED
