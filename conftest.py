"""pytest, whole tree: a module that runs compiled (``switchlab.wire.native``)
cannot have its doctests collected from its ``.py`` (pytest imports the
compiled file under that name); ``tests/test_wire_compiled.py`` runs them from
the source instead."""
from switchlab.wire import native

collect_ignore = [f"switchlab/wire/{name}.py" for name in native.compiled_modules()]
