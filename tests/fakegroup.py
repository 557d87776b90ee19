"""A compiled group laid out like an install, for the tests of how
:func:`switchlab.wire.native.select` chooses between a build and its sources:
each module's source, a compiled file beside it (never imported: it is not a
real build) and the hashes of what was compiled."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchlab.wire import native


def installed_group(tmp_path: Path, package: str, sources: dict[str, bytes],
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Body of a fixture: ``package`` under ``tmp_path`` with the group ``sources``
    (dotted name -> source), registered in ``native.COMPILED_GROUPS`` and imported;
    yields its directory, then takes it all away (``select``'s finder too)."""
    pkg = tmp_path / package
    for name, source in sources.items():
        path = native.source_path(pkg, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        directory = path.parent
        while directory != tmp_path:  # every package on the way
            (directory / "__init__.py").touch()
            directory = directory.parent
        path.write_bytes(source)
        path.with_name(path.stem + native.EXTENSION_SUFFIXES[0]).write_bytes(b"not a build")
    hashes = {name: native.source_hash(source) for name, source in sources.items()}
    (pkg / f"{native.HASHES_MODULE}.py").write_text(f"HASHES = {hashes!r}\n")
    monkeypatch.setitem(native.COMPILED_GROUPS, package, tuple(sources))
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    meta_path = list(sys.meta_path)
    sys.path.insert(0, str(tmp_path))
    __import__(package)
    yield pkg
    sys.path.remove(str(tmp_path))
    sys.meta_path[:] = meta_path
    for key in [k for k in sys.modules if k == package or k.startswith(f"{package}.")]:
        del sys.modules[key]


def loaded(package: str) -> dict[str, str | None]:
    """The ``WHO`` of each module of the group that is imported (None if not)."""
    return {name: getattr(sys.modules.get(f"{package}.{name}"), "WHO", None)
            for name in native.COMPILED_GROUPS[package]}
