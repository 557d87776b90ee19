"""Which modules run compiled, and the switch back to pure Python.

``setup.py`` compiles each group of :data:`COMPILED_GROUPS` with mypyc when the
build has mypy and a C compiler: the wire's framing and header lookups (the
code every received event goes through) and the emulator's call simulation.
The ``.py`` files are installed beside the compiled ones either way and behave
the same (``tests/test_wire_compiled.py``, ``tests/test_sim_compiled.py``).
:func:`select`, called by a group's package (``switchlab.wire``,
``switchlab.sim``) before it imports them, loads the ``.py`` instead of the
compiled files when

* ``SWITCHLAB_PURE=1`` is set (also skips compiling at install), or
* the ``.py`` is not the source the compiled file was built from (an
  editable install whose source was edited since: ``pip install -e .``
  compiles it again); a :class:`StaleBuildWarning` says so. setup.py records
  each source's SHA-256 in ``_compiled_hashes.py`` beside them.

>>> COMPILED_MODULES
('events', 'parser', 'urlcodec')
>>> sorted(COMPILED_GROUPS)
['switchlab.sim', 'switchlab.wire']
>>> import switchlab.wire.events as ev
>>> is_compiled(ev) == ev.__file__.endswith(tuple(EXTENSION_SUFFIXES))
True
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType

#: Modules of this package compiled by setup.py (which loads this file on its own:
#: keep its imports to the standard library).
COMPILED_MODULES = ("events", "parser", "urlcodec")
#: The emulator's modules that every emulated call goes through (the model, the call
#: flows, the event socket's delivery), compiled together; ``bridge`` and
#: ``esl.outbound`` because their classes subclass ``calls.originate``'s and
#: ``esl.server``'s (a compiled class has no interpreted subclass).
SIM_MODULES = (
    "host", "model.bus", "model.causes", "model.channel", "model.channel_render",
    "model.clock", "model.event_builder", "model.expand", "model.milestones",
    "model.milestones_bridge", "model.ports", "model.sip", "model.statelog", "model.template",
    "model.timers", "model.varstore", "calls.answer", "calls.bridging", "calls.callee_id",
    "calls.cdr", "calls.dialplan", "calls.hooks", "calls.inbound", "calls.legs", "calls.lifecycle",
    "calls.loopback", "calls.medialog", "calls.originate", "calls.sofia", "calls.sofialog",
    "esl.api", "esl.commands", "esl.outbound", "esl.server", "esl.subscription",
    "mod_dptools.basic", "mod_dptools.bridge", "mod_dptools.runner",
)
#: Each group is one compiled library: the package that selects it -> its modules
#: (dotted, relative to the package).
COMPILED_GROUPS = {"switchlab.wire": COMPILED_MODULES, "switchlab.sim": SIM_MODULES}
#: Set to 1 to build and run the pure-Python modules only.
PURE_ENV = "SWITCHLAB_PURE"
#: The module setup.py writes beside them: ``HASHES = {name: sha256 of its source}``.
HASHES_MODULE = "_compiled_hashes"


class StaleBuildWarning(UserWarning):
    """A compiled module was not built from its present source: the source is used."""


def pure_wanted() -> bool:
    """True when ``$SWITCHLAB_PURE`` asks for pure Python (any value but ``""``/``0``)."""
    return os.environ.get(PURE_ENV, "") not in ("", "0")


def is_compiled(module: ModuleType | None) -> bool:
    """True when ``module`` was loaded from a compiled extension file."""
    return str(getattr(module, "__file__", "") or "").endswith(tuple(EXTENSION_SUFFIXES))


def source_hash(source: bytes) -> str:
    """What ``_compiled_hashes.py`` records of a compiled module's source."""
    return hashlib.sha256(source).hexdigest()


def _built_hashes(directory: Path) -> dict[str, str]:
    """``HASHES`` of the package's ``_compiled_hashes.py``, read without importing it
    (importing it would run the package's ``__init__``)."""
    try:
        tree = ast.parse((directory / f"{HASHES_MODULE}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None)
                                                 for t in node.targets] == ["HASHES"]:
                hashes = ast.literal_eval(node.value)
                return dict(hashes) if isinstance(hashes, dict) else {}
    except (OSError, SyntaxError, ValueError):
        pass
    return {}


def group(package: str) -> tuple[str, ...]:
    """The modules of ``package``'s compiled group; a copy of the tree imported under
    another top-level name (``sim_render_ab.py``'s ``switchlab_before``) has the same.

    >>> group("switchlab_before.wire") == group("switchlab.wire") == COMPILED_MODULES
    True
    """
    found = COMPILED_GROUPS.get(package)
    if found is None:
        found = COMPILED_GROUPS["switchlab." + package.partition(".")[2]]
    return found


def compiled_modules(package: str = "switchlab.wire") -> list[str]:
    """The modules of ``package``'s group that run compiled in this process (of
    those imported: importing the package imports them all).

    >>> set(compiled_modules()) <= set(COMPILED_MODULES)
    True
    """
    return [name for name in group(package)
            if is_compiled(sys.modules.get(f"{package}.{name}"))]


def source_path(directory: Path, name: str) -> Path:
    """The source of module ``name`` (dotted, relative to the package in ``directory``)."""
    return directory.joinpath(*name.split(".")).with_suffix(".py")


def compiled_file(source: Path) -> Path | None:
    """The compiled file built from ``source`` (``x.py`` -> ``x.cpython-311-...so``), if any."""
    for suffix in EXTENSION_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.exists():
            return candidate
    return None


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the given modules' ``.py`` files, ahead of their compiled files."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        return None if source is None else importlib.util.spec_from_file_location(
            fullname, source)


def load_source(package: str, name: str, as_name: str) -> ModuleType:
    """Execute the source of ``<package>.<name>`` as a second module ``as_name``,
    registered in ``sys.modules``: tests compare such a pure copy with the
    compiled module."""
    directory = _directory(package)
    spec = importlib.util.spec_from_file_location(as_name, source_path(directory, name))
    if spec is None or spec.loader is None:
        raise ImportError(f"no source file for {package}.{name} in {directory}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[as_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[as_name]
        raise
    return module


def _directory(package: str) -> Path:
    """The directory of ``package``, without importing it."""
    module = sys.modules.get(package)
    if module is not None:
        return Path(module.__path__[0])
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"no package {package}")
    return Path(next(iter(spec.submodule_search_locations)))


def _stale(directory: Path, built: dict[str, Path | None]) -> list[str]:
    """The compiled modules whose source is not the one compiled."""
    hashes = _built_hashes(directory)
    return [name for name, path in built.items() if path is not None and (
        hashes.get(name) != source_hash(source_path(directory, name).read_bytes()))]


def _built(package: str) -> tuple[Path, dict[str, Path | None]]:
    directory = _directory(package)
    return directory, {name: compiled_file(source_path(directory, name))
                       for name in group(package)}


def build_state(package: str) -> str:
    """How ``package``'s group runs once imported, found without importing it:
    ``"compiled"``, ``"pure"`` (``SWITCHLAB_PURE=1``), ``"stale"`` (a source was
    edited since the build: the sources run) or ``"not built"``.

    >>> build_state("switchlab.sim") in ("compiled", "pure", "stale", "not built")
    True
    """
    if pure_wanted():
        return "pure"
    directory, built = _built(package)
    if not any(built.values()):
        return "not built"
    return "stale" if _stale(directory, built) else "compiled"


def select(package: str) -> None:
    """Load the sources of ``package``'s compiled modules when they must not run
    compiled (see the module's text); call it before the modules are imported.

    A group is compiled together (one shared library, which imports its members
    from itself), so its modules run compiled or as sources all together: one
    stale build makes all of them run from their sources. A finder put first in
    ``sys.meta_path`` then gives their sources to every later import too.
    """
    directory, built = _built(package)
    if not any(built.values()) or any(f"{package}.{name}" in sys.modules for name in built):
        return
    if not pure_wanted():
        stale = _stale(directory, built)
        if not stale:
            return
        listed = ", ".join(stale) if len(stale) <= 3 else f"{len(stale)} modules of {package}"
        warnings.warn(f"the compiled {listed} {'was' if len(stale) == 1 else 'were'} "
                      f"not built from the present source; {package}'s compiled modules run "
                      "from their .py files instead (slower): run 'pip install -e .' to compile "
                      f"them again, or set {PURE_ENV}=1 to stop compiling them",
                      StaleBuildWarning, stacklevel=2)
    sys.meta_path.insert(0, _SourceFinder(
        {f"{package}.{name}": source_path(directory, name) for name in built}))
    for name in built:
        importlib.import_module(f"{package}.{name}")
