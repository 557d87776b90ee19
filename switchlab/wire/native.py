"""Which wire modules run compiled, and the switch back to pure Python.

``setup.py`` compiles :data:`COMPILED_MODULES` (framing and header lookups, the
code every received event goes through) with mypyc when the build has mypy and
a C compiler; the ``.py`` files are installed beside the compiled ones either
way and behave the same (``tests/test_wire_compiled.py``). :func:`select`,
called by ``switchlab.wire`` before it imports them, loads the ``.py`` instead
of the compiled file when

* ``SWITCHLAB_PURE=1`` is set (also skips compiling at install), or
* the ``.py`` is not the source the compiled file was built from (an
  editable install whose source was edited since: ``pip install -e .``
  compiles it again); a :class:`StaleBuildWarning` says so. setup.py records
  each source's SHA-256 in ``_compiled_hashes.py`` beside them.

>>> COMPILED_MODULES
('events', 'parser')
>>> import switchlab.wire.events as ev
>>> is_compiled(ev) == ev.__file__.endswith(tuple(EXTENSION_SUFFIXES))
True
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType

#: Modules of this package compiled by setup.py (which loads this file on its own:
#: keep its imports to the standard library).
COMPILED_MODULES = ("events", "parser")
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


def _built_hashes(package: str) -> dict[str, str]:
    try:
        hashes = importlib.import_module(f"{package}.{HASHES_MODULE}").HASHES
    except (ImportError, AttributeError):
        return {}
    return dict(hashes) if isinstance(hashes, dict) else {}


def compiled_modules(package: str = "switchlab.wire") -> list[str]:
    """The modules of :data:`COMPILED_MODULES` that run compiled in this process
    (of those imported: importing ``switchlab.wire`` imports them all).

    >>> set(compiled_modules()) <= set(COMPILED_MODULES)
    True
    """
    return [name for name in COMPILED_MODULES
            if is_compiled(sys.modules.get(f"{package}.{name}"))]


def compiled_file(source: Path) -> Path | None:
    """The compiled file built from ``source`` (``x.py`` -> ``x.cpython-311-...so``), if any."""
    for suffix in EXTENSION_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def load_source(package: str, name: str, as_name: str | None = None) -> ModuleType:
    """Execute ``<package>/<name>.py`` as module ``as_name`` (default: its own
    name), registered in ``sys.modules``. Tests load a second, pure copy under
    another name to compare it with the compiled one."""
    full = f"{package}.{name}"
    directory = Path(sys.modules[package].__path__[0])
    spec = importlib.util.spec_from_file_location(as_name or full, directory / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no source file for {full} in {directory}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    if as_name is None:  # as the import system does for a submodule it loads
        setattr(sys.modules[package], name, module)
    return module


def select(package: str) -> None:
    """Load the sources of ``package``'s compiled modules when they must not run
    compiled (see the module's text); call it before the modules are imported.

    The modules are compiled together (one shared library, which imports its
    members from itself), so they run compiled or as sources all together: one
    stale build makes all of them run from their sources.
    """
    directory = Path(sys.modules[package].__path__[0])
    built = {name: compiled_file(directory / f"{name}.py") for name in COMPILED_MODULES}
    if not any(built.values()) or any(f"{package}.{name}" in sys.modules for name in built):
        return
    if not pure_wanted():
        hashes = _built_hashes(package)
        stale = [name for name, path in built.items() if path is not None and (
            hashes.get(name) != source_hash((directory / f"{name}.py").read_bytes()))]
        if not stale:
            return
        warnings.warn(f"the compiled {', '.join(stale)} {'was' if len(stale) == 1 else 'were'} "
                      f"not built from the present source; {', '.join(COMPILED_MODULES)} run "
                      "from their .py files instead (slower): run 'pip install -e .' to compile "
                      f"them again, or set {PURE_ENV}=1 to stop compiling them",
                      StaleBuildWarning, stacklevel=2)
    for name in COMPILED_MODULES:
        load_source(package, name)
