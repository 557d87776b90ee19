"""Build hook: the hot modules compiled with mypyc, pure Python otherwise.

Everything is in ``pyproject.toml``; this file only adds the optional compiled
modules (docs/PERFORMANCE.md, "Where issue 12 stands"): the wire's read path and
the emulator's call simulation, one library each. They are built when the
build environment has mypy (``[build-system] requires``) and a C compiler, and
skipped, with a warning, when either is missing or when ``SWITCHLAB_PURE=1``:
the same ``.py`` files are installed either way and behave the same
(``tests/test_wire_compiled.py``, ``tests/test_sim_compiled.py``).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

WIRE = Path("switchlab") / "wire"


def _load_native():  # type: ignore[no-untyped-def]
    """``switchlab/wire/native.py`` on its own (it imports only the standard library):
    the one list of compiled modules, the switch to pure Python, the source hash."""
    spec = importlib.util.spec_from_file_location("_switchlab_native", WIRE / "native.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


native = _load_native()
#: Each group's directory -> its sources (``switchlab.wire``: framing and header
#: lookups; ``switchlab.sim``: the emulator's call simulation).
GROUPS = {Path(*package.split(".")): [native.source_path(Path(*package.split(".")), name)
                                      for name in names]
          for package, names in native.COMPILED_GROUPS.items()}
#: mypy options for compiling them alone: their imports from the rest of the
#: package are typed as Any (the whole package is type-checked by the tests).
MYPYC_FLAGS = ["--follow-imports=skip", "--ignore-missing-imports", "--no-warn-unused-ignores"]


def _warn(what: str) -> None:
    print(f"switchlab: {what}; installing the pure-Python modules "
          "(same behaviour, slower: docs/PERFORMANCE.md)", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """``build_ext`` that skips the compiled modules instead of failing the install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers, ...
            _warn(f"compiling failed ({exc})")

    def build_extension(self, ext):  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"compiling {ext.name} failed ({exc})")


def _write_hashes(directory: Path, sources: list[Path]) -> None:
    """``HASHES = {name: sha256}`` of the sources compiled (switchlab.wire.native
    uses a group's compiled modules only when their sources still have those hashes)."""
    hashes = {".".join(p.relative_to(directory).with_suffix("").parts):
              native.source_hash(p.read_bytes()) for p in sources}
    (directory / f"{native.HASHES_MODULE}.py").write_text(
        '"""Written by setup.py: the SHA-256 of each source compiled with mypyc."""\n'
        f"HASHES = {hashes!r}\n")


def ext_modules() -> list:
    if native.pure_wanted():
        return []
    modules = []
    for directory, sources in GROUPS.items():
        try:
            from mypyc.build import mypycify
            modules += mypycify([*MYPYC_FLAGS, *map(str, sources)], opt_level="3",
                                group_name=".".join((*directory.parts, "_compiled")))
        except BaseException as exc:  # mypy missing, or it refused a module (SystemExit)
            _warn(f"mypyc could not compile {directory} ({exc!r})")
            continue
        _write_hashes(directory, sources)
    return modules


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
